"""`memory-syncd run`: the only place with threads, watchdog observers and APScheduler. The engine owns
the index and its timing; watch, control and nightly sit around it. Imports everything below it.
"""
