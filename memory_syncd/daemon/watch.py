"""File-system watching: watchdog observers on each agent's sessions dir and SQLite store dir, and the
health checks that make up for watchdog failing silently.

Owns the observer's lifecycle. The handler only posts "agent X changed" to the engine (and, for a
directory event, asks for a check now) and never raises (an exception there would kill the observer
thread). A wanted dir that is not there yet is waited for by watching its nearest existing ancestor,
whose events ask for a check only when something on the way to it appears. `check()` runs on a timer and
on those requests: it rebuilds the observer
when a thread died, a watched dir was deleted or replaced, or a dir that was missing has appeared; when
building fails with ENOSPC/EMFILE (inotify limits) it falls back to polling, which the engine does by
stat-scanning on a short timer — the same reconcile path that already catches missed events.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirModifiedEvent,
    DirMovedEvent,
    EventsLostEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from memory_syncd.daemon.status import WatchMode
from memory_syncd.read.sources import Kind, classify

log = logging.getLogger(__name__)

# What changes data. Not opens and closes without writing: the daemon's own reads (listing a dir, reading
# sessions.json, rendering a day) would otherwise wake every watchdog thread, several times per scan.
EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent, FileModifiedEvent, FileDeletedEvent, FileMovedEvent, FileClosedEvent,
    DirCreatedEvent, DirModifiedEvent, DirDeletedEvent, DirMovedEvent, EventsLostEvent]


@dataclass(frozen=True)
class Watch:
    agent: str
    path: Path  # a sessions dir, or the dir holding the SQLite store


class _Handler(FileSystemEventHandler):
    def __init__(self, agent: str, notify: Callable[[str], None], poke: Callable[[], None], root: Path,
                 lost: Callable[[], None]) -> None:
        self.agent = agent
        self.notify = notify
        self.poke = poke
        self.root = os.fsencode(root)
        self.lost = lost

    def on_any_event(self, event: FileSystemEvent) -> None:
        try:
            if event.event_type in ("opened", "closed_no_write"):
                return
            name = os.path.basename(os.fsdecode(event.dest_path or event.src_path))
            if (not self.agent or classify(name) is not Kind.SKIP or "sqlite" in name  # "": a state dir
                    or event.is_directory):
                self.notify(self.agent)
            if event.is_directory:  # a watched dir deleted or moved, or a new agent's dir: check the watch
                if event.event_type in ("deleted", "moved") and os.fsencode(event.src_path) == self.root:
                    # The dir itself went. A dir made in its place can have the same inode number (ext4 hands
                    # freed ones out again), so the check could not tell it from the one watched, whose watch
                    # is dead: say so before the check runs.
                    self.lost()
                self.poke()
        except Exception:  # never let the observer thread die
            log.exception("file event handler failed")


class _Awaiting(FileSystemEventHandler):
    """On the nearest existing ancestor of wanted dirs that are missing: asks for a check when an entry
    on the way to one of them is created or moved in, and ignores everything else."""

    def __init__(self, targets: frozenset[Path], poke: Callable[[], None]) -> None:
        self.targets = targets
        self.poke = poke

    def on_any_event(self, event: FileSystemEvent) -> None:
        try:
            if event.event_type not in ("created", "moved"):
                return
            path = Path(os.fsdecode(event.dest_path or event.src_path))
            if any(path == t or path in t.parents for t in self.targets):
                self.poke()
        except Exception:  # never let the observer thread die
            log.exception("file event handler failed")


class Watcher:
    """Keeps one observer over a set of directories healthy. Not thread-safe: call from one thread."""

    def __init__(self, notify: Callable[[str], None], poke: Callable[[], None] = lambda: None) -> None:
        self.notify = notify
        self.poke = poke  # asks for `check()` soon (called from the observer's thread)
        self.mode: WatchMode = WatchMode.STARTING
        self.reason = ""
        self._observer: object | None = None
        self._watched: dict[Watch, tuple[int, int]] = {}
        self._awaiting: dict[Path, frozenset[Path]] = {}  # ancestor watched -> missing wanted dirs under it
        self._wanted: list[Watch] = []
        self._lost = False  # a watched dir itself was deleted or moved away (set from the observer's thread)
        self.rebuilds = 0

    def watch(self, wanted: Iterable[Watch]) -> None:
        self._wanted = list(dict.fromkeys(wanted))
        self.check()

    def check(self) -> None:
        """Rebuild the observer if anything about it is off; fall back to polling if that fails."""
        if self.mode.polls:
            return
        if self._healthy():
            return
        self._rebuild()

    @property
    def missing(self) -> bool:
        """Some wanted dir is neither watched nor awaited through an ancestor: worth checking often."""
        awaited = {t for ts in self._awaiting.values() for t in ts}
        return not self.mode.polls and any(w not in self._watched and w.path not in awaited for w in self._wanted)

    def rebuild(self) -> None:
        """Start over with a fresh observer (file events went missing although it looked healthy)."""
        if not self.mode.polls:
            self._rebuild()

    def _healthy(self) -> bool:
        obs = self._observer
        if obs is None or self._lost or not obs.is_alive():  # type: ignore[attr-defined]
            return False
        if not all(e.is_alive() for e in obs.emitters):  # type: ignore[attr-defined]
            return False
        present = {w: _ident(w.path) for w in self._wanted}
        if {w: i for w, i in present.items() if i is not None} != self._watched:
            return False
        return _awaiting([w.path for w, i in present.items() if i is None]) == self._awaiting

    def _rebuild(self) -> None:
        had_observer = self._observer is not None
        self.stop()
        self._lost = False  # before the new watches: a dir deleted while they are made is noticed again
        observer: object | None = None
        watched: dict[Watch, tuple[int, int]] = {}
        missing: list[Path] = []
        try:
            observer = Observer()  # inotify_init: EMFILE here when the instance limit is reached
            observer.start()  # first: then each schedule starts its emitter, and one dir gone fails alone
            for w in self._wanted:
                ident = _ident(w.path)
                if ident is None:
                    missing.append(w.path)  # not there yet: scheduled by the check after it appears
                    continue
                if _schedule(observer, _Handler(w.agent, self.notify, self.poke, w.path, self._set_lost), w.path):
                    watched[w] = ident
            awaiting = _awaiting(missing)
            for ancestor, targets in list(awaiting.items()):
                if not _schedule(observer, _Awaiting(targets, self.poke), ancestor):
                    del awaiting[ancestor]  # gone already: the next check looks again
        except OSError as e:
            _discard(observer)
            if e.errno in (errno.ENOSPC, errno.EMFILE, errno.ENFILE):
                self._fallback(f"inotify limit reached ({os.strerror(e.errno)}); raise "
                               "fs.inotify.max_user_watches / max_user_instances")
                return
            raise
        if had_observer:
            self.rebuilds += 1
        self._observer = observer
        self._watched = watched
        self._awaiting = awaiting
        self.mode = WatchMode.INOTIFY if os.uname().sysname == "Linux" else WatchMode.NATIVE
        self.reason = ""
        # Whatever happened while nothing watched (before the first build, between a dir's deletion and
        # this rebuild, after it appeared) produced no event: have it read now. Missing dirs too: their
        # files may have gone since the last read.
        for agent in dict.fromkeys(w.agent for w in self._wanted):
            self.notify(agent)

    def _set_lost(self) -> None:
        self._lost = True

    def _fallback(self, reason: str) -> None:
        log.warning("falling back to polling: %s", reason)
        self.stop()
        self.mode = WatchMode.POLLING
        self.reason = reason

    def degrade(self, reason: str) -> None:
        """Events keep going missing although the observer looks alive: stop trusting it."""
        self._fallback(reason)
        self.mode = WatchMode.DEGRADED

    def stop(self) -> None:
        obs = self._observer
        self._observer = None
        self._watched = {}
        self._awaiting = {}
        _discard(obs)


def _discard(obs: object | None) -> None:
    """Stop an observer, started or not (an unstarted one still holds an inotify fd and its reader thread)."""
    if obs is None:
        return
    try:
        obs.stop()  # type: ignore[attr-defined]
        if obs.is_alive():  # type: ignore[attr-defined]
            obs.join(timeout=2)  # type: ignore[attr-defined]
    except Exception:  # a dead observer may fail to stop; it is dropped either way
        log.debug("observer stop failed", exc_info=True)


def _schedule(observer: Any, handler: FileSystemEventHandler, path: Path) -> bool:
    """Watch `path`; False if it vanished since it was looked at (its absence shows in the next check)."""
    try:
        observer.schedule(handler, str(path), recursive=False, event_filter=EVENTS)
    except (FileNotFoundError, NotADirectoryError):
        return False
    return True


def _awaiting(missing: list[Path]) -> dict[Path, frozenset[Path]]:
    """Missing dirs grouped under their nearest existing ancestor (none for a path with no such ancestor)."""
    out: dict[Path, set[Path]] = {}
    for path in missing:
        ancestor = next((a for a in path.parents if a.is_dir()), None)
        if ancestor is not None:
            out.setdefault(ancestor, set()).add(path)
    return {a: frozenset(ts) for a, ts in out.items()}


def _ident(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)
