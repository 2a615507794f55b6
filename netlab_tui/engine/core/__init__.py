"""The core every tool builds on: ``TrafficEvent`` (events), the bounded ``Journal``, ``Session`` and
``SessionRegistry`` (sessions), the catalogue of server kinds, the GC policy and address helpers.

May import: the standard library only. Never a tool package (the catalogue names tool modules as
strings and imports them on first use), never Textual.
"""
