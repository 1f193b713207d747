"""Bytes into memory files, loss-free: the managed block, the atomic swap, and the one write path that
the CLI and the daemon share. Imports from read and content.
"""
