"""`python -m memory_syncd` runs the CLI."""

from memory_syncd.cli import main

main()
