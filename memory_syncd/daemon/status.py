"""The vocabulary the running daemon reports in: how it watches the transcripts.

Imports nothing from the daemon, nor any third-party package, so the CLI can read a status cheaply.
"""

from __future__ import annotations

from enum import StrEnum


class WatchMode(StrEnum):
    STARTING = "starting"  # no observer built yet
    INOTIFY = "inotify"  # file events from Linux's inotify
    NATIVE = "native"  # file events from the platform's own API (FSEvents, kqueue)
    POLLING = "polling"  # inotify limits reached: a stat scan every poll_seconds
    DEGRADED = "degraded"  # file events kept going missing: polling, and no sd_notify watchdog pings

    @property
    def polls(self) -> bool:
        return self in (WatchMode.POLLING, WatchMode.DEGRADED)
