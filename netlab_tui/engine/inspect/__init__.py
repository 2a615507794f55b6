"""What the inspector shows: decoders, one module per view (``decoders/``), the filter language
(``filters``), conversations, follow-stream and the flow graph (``conversations``), and pcap captures,
from the wire or rebuilt from the journal (``capture``).

May import: ``engine.core``. No tool imports ``inspect``: it reads events, whoever made them.
"""
