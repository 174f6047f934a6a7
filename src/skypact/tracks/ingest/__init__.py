"""Ingest adapters: each input format to validated :class:`StateArrays`."""
