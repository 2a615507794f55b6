"""``netlab class``: one machine serves a class, each learner in their own netlab, progress on one dashboard.

A thin front (aiohttp, built on textual-serve's ``Server``) logs learners in with a name and the class code,
starts one netlab per learner with ``NETLAB_LEARNER`` in its environment, their own home and state directory
and their own network namespace (:mod:`.isolation`, :mod:`._launch`), and shows the teacher every learner's
lab progress (:mod:`.dashboard`). Cookies are signed by :mod:`.auth`; :mod:`.server` holds the routes.

This package never imports Textual or the TUI: the learners' TUIs are separate processes.
"""
