"""The netlab engine: sessions, journal, decoders. Plain asyncio; never imports Textual."""
