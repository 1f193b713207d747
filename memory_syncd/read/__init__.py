"""Transcripts in, per-day message keys out: finding sources, tailing files, reading OpenClaw's SQLite
store, parsing records and indexing them by local day. Imports nothing from content, write or daemon.
"""
