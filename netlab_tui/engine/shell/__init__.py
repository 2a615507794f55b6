"""Local processes: one command (``ProcessSession``) or a pipeline (``Pipeline``), stdout and stderr as
events, process groups killed on stop (``process``). The CLI face is ``netlab run``; the pane is Shell.

May import: ``engine.core``.
"""
