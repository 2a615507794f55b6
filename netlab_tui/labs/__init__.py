"""Guided labs: lab files (Markdown + TOML) → steps → checks evaluated against the journal.

No Textual here: the TUI's lab panel and ``netlab lab`` both drive :class:`~.runner.LabRunner`.
"""
