"""Fixtures of the real-OpenClaw integration tests (issue 10): the installed OpenClaw, once per session.

Owns the decision to run, skip or fail: the `openclaw` session fixture installs Node 24 and the pinned
`openclaw` from the npm registry into the cache folder (see `openclaw_install`), or reuses a complete
install there. When npm or the registry cannot be reached the tests skip with one line saying why; with
`MEMORY_SYNCD_REQUIRE_OPENCLAW=1`, or `CI` set (CI sets `CI=true`), that skip is a failure instead.

Each test module builds its own OpenClaw home and scenario in module-scoped fixtures (one OpenClaw run per
module, many assertions on it); see test_openclaw_local.py and test_openclaw_gateway.py.
"""

from __future__ import annotations

import os

import pytest
from openclaw_install import Install, Unavailable, ensure_installed


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "real_openclaw: drives the real OpenClaw CLI installed from npm")


def _set(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def openclaw_required() -> bool:
    return _set("MEMORY_SYNCD_REQUIRE_OPENCLAW") or _set("CI")


@pytest.fixture(scope="session")
def openclaw() -> Install:
    """The real OpenClaw, installed once into the cache folder."""
    try:
        return ensure_installed()
    except Unavailable as e:
        reason = f"real OpenClaw not available: {e}"
        if openclaw_required():
            pytest.fail(reason + " (required here: MEMORY_SYNCD_REQUIRE_OPENCLAW or CI is set)", pytrace=False)
        pytest.skip(reason)
