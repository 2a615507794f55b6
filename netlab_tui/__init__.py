"""netlab — a terminal networking lab."""

__version__ = "0.1.0"
