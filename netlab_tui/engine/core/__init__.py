"""The core every tool builds on: ``TrafficEvent`` (events), the bounded ``Journal``, ``Session`` and
``SessionRegistry`` (sessions), the catalogue of server kinds, the GC policy, address helpers and
``place`` (the seam through which a session runs on a topology host).

May import: the standard library only. Never a tool package (the catalogue names tool modules as
strings and imports them on first use), never Textual.
"""
