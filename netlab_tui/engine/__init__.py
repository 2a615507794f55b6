"""The netlab engine: plain asyncio, grouped by domain; it never imports Textual, the CLI or the TUI.

- ``core/``     events, the journal, sessions and their registry, the catalogue of server kinds, GC policy,
                address helpers, and ``place`` (where a session runs: this machine or a topology host)
                — what every tool builds on.
- ``sockets/``  TCP and UDP servers and clients, the course's server behaviours (echo, greet, FIN/QUIT,
                chat, roles), the JSON contact book, the payload builder.
- ``http/``     the h11 HTTP server, the httpx client with wire bytes, the course's lab HTTP server and
                its SQLite API store.
- ``rpc/``      XML-RPC and JSON-RPC: the course's service and the client.
- ``ssh/``      the paramiko client with honest host keys and the lab SSH server.
- ``shell/``    local processes and pipelines.
- ``scan/``     port scans (nmap or asyncio connect) and scans compared across hosts.
- ``watch/``    directory watching with watchdog, forwarding, and the collector server.
- ``inspect/``  what the inspector shows: decoders, the filter language, conversations, pcap captures.
- ``topology/`` hosts as network namespaces joined by veth pairs and bridges (multi-host labs,
                ``netlab topo``); tools reach it only through ``core.place``.

A tool whose server kind pulls in a library registers it from a light ``kind.py`` (``http``, ``rpc``,
``ssh``, ``watch``): listing the kinds (``netlab serve --help``, the Servers pane) imports no tool library.

Tools import ``core`` and never each other, except through the seams named in pyproject.toml's
import-linter contracts (RPC rides on HTTP, a scan is compared over SSH, the collector is a TCP server).
"""
