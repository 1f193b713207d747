"""Fixtures of the real-OpenClaw integration tests (issue 10): the installed OpenClaw, once per session.

Owns the decision to run, skip or fail: the `openclaw` session fixture installs Node 24 and the pinned
current `openclaw` from the npm registry into the cache folder (see `openclaw_install`), or reuses a complete
install there; `openclaw_jsonl` does the same for the last release that writes JSONL transcripts. When npm
or the registry cannot be reached the tests skip with one line saying why; with
`MEMORY_SYNCD_REQUIRE_OPENCLAW=1`, or `CI` set (CI sets `CI=true`), that skip is a failure instead.

Each test module builds its own OpenClaw home and scenario in module-scoped fixtures (one OpenClaw run per
module, many assertions on it); see test_openclaw_local.py, test_openclaw_gateway.py and
test_openclaw_jsonl.py.
"""

from __future__ import annotations

import os

import pytest
from openclaw_install import JSONL_VERSION, OPENCLAW_VERSION, Install, Unavailable, ensure_installed


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "real_openclaw: drives the real OpenClaw CLI installed from npm")


def _set(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def openclaw_required() -> bool:
    return _set("MEMORY_SYNCD_REQUIRE_OPENCLAW") or _set("CI")


@pytest.fixture(scope="session")
def openclaw() -> Install:
    """The real current OpenClaw (SQLite store), installed once into the cache folder."""
    return _installed(OPENCLAW_VERSION)


@pytest.fixture(scope="session")
def openclaw_jsonl() -> Install:
    """The real OpenClaw of the JSONL generation (sessions/*.jsonl), installed once into the cache folder."""
    return _installed(JSONL_VERSION)


# Why OpenClaw could not be installed (npm missing, the registry unreachable, no Node for this machine): the
# same for every pinned version, so a second version is not made to wait for the registry again.
_unavailable: list[Unavailable] = []


def _installed(version: str) -> Install:
    try:
        if _unavailable:
            raise _unavailable[0]
        return ensure_installed(version)
    except Unavailable as e:
        _unavailable[:1] = [e]
        reason = f"real OpenClaw {version} not available: {e}"
        if openclaw_required():
            pytest.fail(reason + " (required here: MEMORY_SYNCD_REQUIRE_OPENCLAW or CI is set)", pytrace=False)
        pytest.skip(reason)
