"""`memory-syncd run`: the only place with threads, watchdog observers and APScheduler. The engine owns the
index and its own timing, and publishes a `Status` (status.py); the watcher (watch.py), the control socket
(control.py) and the nightly summaries (nightly.py) sit around it; run.py puts them together, with the
process-level pieces in process.py. A big start-up catch-up is read by helper processes (workers.py), the
only other processes the daemon starts. Imports everything below it; nothing below imports it.
"""
