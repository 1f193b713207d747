"""The service files and `memory_syncd.service`: rendering, linting, install and uninstall.

Every test runs with HOME and the XDG directories in tmp_path. Service-manager commands go through a
recording `run` callable; nothing here talks to a real systemd or launchd.
"""

from __future__ import annotations

import os
import plistlib
import re
import shlex
import shutil
import stat
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from memory_syncd import service
from memory_syncd.errors import MemorySyncError, UsageError

REPO = Path(__file__).resolve().parent.parent
UNIT_TEMPLATE = REPO / "systemd" / "memory-syncd.service"
PLIST_TEMPLATE = REPO / "launchd" / "io.memorysyncd.daemon.plist"
UID = os.getuid()

# Every key the unit may use, per section: a typo or an unreviewed option fails the strict parse.
KNOWN_KEYS = {
    "Unit": {"Description", "Documentation", "StartLimitIntervalSec", "StartLimitBurst", "After", "Wants"},
    "Service": {
        "Type", "NotifyAccess", "ExecStart", "ExecReload", "TimeoutStartSec", "WatchdogSec", "Restart", "RestartSec",
        "RestartPreventExitStatus", "TimeoutStopSec", "EnvironmentFile", "Environment", "StandardOutput",
        "StandardError", "SyslogIdentifier", "UMask", "NoNewPrivileges", "SystemCallArchitectures",
        "MemoryDenyWriteExecute",
    },
    "Install": {"WantedBy"},
}  # fmt: skip
# Options that create a user namespace in a user unit (implicit PrivateUsers=), see the unit's comment.
NAMESPACE_KEYS = re.compile(
    r"^(PrivateTmp|PrivateDevices|PrivateNetwork|PrivateUsers|PrivateMounts|PrivateIPC|ProtectSystem"
    r"|ProtectHome|ProtectKernel\w*|ProtectControlGroups|ProtectClock|ProtectHostname|ProtectProc"
    r"|RestrictNamespaces|ReadOnlyPaths|ReadWritePaths|InaccessiblePaths|TemporaryFileSystem|BindPaths)$"
)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake HOME with its XDG directories, so no test can touch the real ones."""
    home = tmp_path / "home"
    home.mkdir()
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    return home


@pytest.fixture
def exe(tmp_path: Path) -> list[str]:
    """An executable memory-syncd stand-in, in a directory whose name needs quoting."""
    script = tmp_path / "venv dir" / "bin" / "memory-syncd"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    return [str(script)]


@pytest.fixture
def config(home: Path) -> Path:
    path = home / ".config" / "memory-syncd" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text("# test config\n")
    return path


class FakeRun:
    """The `run` seam: records each argv and answers from `replies` (argv prefix -> rc, stdout, stderr)."""

    def __init__(self, replies: dict[tuple[str, ...], tuple[int, str, str]] | None = None) -> None:
        self.calls: list[list[str]] = []
        self.replies = replies or {}
        self.missing: set[str] = set()

    def __call__(
        self, args: list[str], *, capture_output: bool, text: bool, check: bool
    ) -> subprocess.CompletedProcess[str]:
        assert capture_output and text and not check
        if args[0] in self.missing:
            raise FileNotFoundError(2, "No such file or directory", args[0])
        self.calls.append(list(args))
        for prefix, (rc, out, err) in self.replies.items():
            if tuple(args[: len(prefix)]) == prefix:
                return subprocess.CompletedProcess(args, rc, out, err)
        return subprocess.CompletedProcess(args, 0, "", "")


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """Parse a unit strictly: known sections once each, known keys, `Key=value` with no stray spaces."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    name = ""
    for number, line in enumerate(text.splitlines(), 1):
        where = f"line {number}: {line!r}"
        if not line.strip() or line.startswith(("#", ";")):
            continue
        assert line == line.strip(), f"stray whitespace, {where}"
        assert not line.endswith("\\"), f"line continuation, {where}"
        if header := re.fullmatch(r"\[(\w+)\]", line):
            name = header.group(1)
            assert name in KNOWN_KEYS and name not in sections, f"unknown or repeated section, {where}"
            current = sections[name] = {}
            continue
        pair = re.fullmatch(r"([A-Z][A-Za-z]+)=(\S.*)", line)
        assert pair, f"not Key=value, {where}"
        assert current is not None, f"key before any section, {where}"
        key, value = pair.groups()
        assert key in KNOWN_KEYS[name], f"unknown key {key} in [{name}], {where}"
        current.setdefault(key, []).append(value)
    return sections


def one(unit: dict[str, dict[str, list[str]]], section: str, key: str) -> str:
    values = unit[section][key]
    assert len(values) == 1, f"{key} set {len(values)} times"
    return values[0]


def seconds(value: str) -> int:
    match = re.fullmatch(r"(\d+)(s|min)?", value)
    assert match, f"not a plain time span: {value}"
    return int(match.group(1)) * (60 if match.group(2) == "min" else 1)


def _unescape(text: str, sign: str) -> str:
    """Undo the doubling of `sign`; a lone `%x` or `$x` would be expanded by systemd, so it fails here."""

    def one(match: re.Match[str]) -> str:
        assert match.group(1) == sign, f"{match.group(0)!r} would be expanded by systemd in {text!r}"
        return sign

    return re.sub(re.escape(sign) + "(.?)", one, text)


def exec_argv(exec_start: str) -> list[str]:
    """ExecStart= as the argv systemd builds, for the quoting `service` produces (quotes, %%, $$)."""
    return [_unescape(arg, "$") for arg in shlex.split(_unescape(exec_start, "%"))]


def render_unit(exe: Sequence[str], config: Path, home: Path) -> str:
    return service.render("systemd", home=home, exe=exe, config=config)


def render_plist(exe: Sequence[str], config: Path, home: Path) -> dict[str, Any]:
    data: dict[str, Any] = plistlib.loads(service.render("launchd", home=home, exe=exe, config=config).encode())
    return data


# --- the committed templates ---------------------------------------------------------------------------


def test_plist_template_placeholders_sit_only_in_values() -> None:
    text = PLIST_TEMPLATE.read_text()
    found = set(re.findall(r"@[A-Z]+@", text))
    assert found <= {"@EXEC@", "@CONFIG@", "@LOGFILE@", "@PATH@"}
    assert {"@EXEC@", "@CONFIG@"} <= found
    for line in text.splitlines():  # a placeholder in a comment would be filled in there too
        if "@" in line:
            assert not line.lstrip().startswith(("#", "<!--")), line


def test_shipped_unit_has_no_placeholders_and_one_exec_start_to_replace() -> None:
    text = UNIT_TEMPLATE.read_text()
    assert not re.findall(r"@[A-Z]+@", text)
    assert [ln for ln in text.splitlines() if ln.startswith("ExecStart=")] == [f"ExecStart={service.SHIPPED_EXEC}"]


def test_plist_template_is_valid_xml() -> None:
    assert plistlib.loads(PLIST_TEMPLATE.read_bytes())["Label"] == service.LABEL


def test_unit_template_has_no_namespace_sandboxing_or_secrets() -> None:
    for section in parse_unit(UNIT_TEMPLATE.read_text()).values():
        bad = [key for key in section if NAMESPACE_KEYS.match(key)]
        assert not bad, f"{bad} need user namespaces in a user unit"
    values = [line for line in UNIT_TEMPLATE.read_text().splitlines() if not line.startswith("#")]
    assert not any("ANTHROPIC_API_KEY" in line for line in values)


# --- the systemd unit ------------------------------------------------------------------------------------


def test_unit_parses_strictly_with_the_contract_values(exe: list[str], config: Path, home: Path) -> None:
    unit = parse_unit(render_unit(exe, config, home))
    assert set(unit) == {"Unit", "Service", "Install"}
    assert one(unit, "Service", "Type") == "notify"
    assert one(unit, "Service", "NotifyAccess") == "main"
    assert one(unit, "Service", "Restart") == "on-failure"
    assert "78" in one(unit, "Service", "RestartPreventExitStatus").split()
    assert one(unit, "Service", "StandardOutput") == one(unit, "Service", "StandardError") == "journal"
    assert one(unit, "Install", "WantedBy") == "default.target"
    assert one(unit, "Service", "EnvironmentFile") == "-%E/memory-syncd/env"
    assert 10 <= seconds(one(unit, "Service", "WatchdogSec")) <= 300
    assert 5 <= seconds(one(unit, "Service", "TimeoutStopSec")) <= 90
    restart = seconds(one(unit, "Service", "RestartSec"))
    assert 1 <= restart <= 60
    burst = int(one(unit, "Unit", "StartLimitBurst"))
    # The start limit can only trigger if `burst` restarts fit inside the interval.
    assert burst >= 2 and seconds(one(unit, "Unit", "StartLimitIntervalSec")) > burst * restart
    assert exec_argv(one(unit, "Service", "ExecStart")) == [*exe, "run", "--config", str(config)]


def test_unit_execstart_runs_this_installation(config: Path, home: Path) -> None:
    unit = parse_unit(render_unit(service.resolve_exe(), config, home))
    argv = exec_argv(one(unit, "Service", "ExecStart"))
    assert os.path.isabs(argv[0]) and os.access(argv[0], os.X_OK), argv
    assert argv[-3:] == ["run", "--config", str(config)]


@pytest.mark.parametrize(
    "name", ["plain.toml", "with space.toml", "50%done.toml", "$HOME.toml", "a;b.toml", 'q"uo\\te.toml']
)
def test_unit_quotes_awkward_config_paths(name: str, exe: list[str], home: Path) -> None:
    config = home / "conf dir" / name
    unit = parse_unit(render_unit(exe, config, home))
    assert exec_argv(one(unit, "Service", "ExecStart")) == [*exe, "run", "--config", str(config)]


def _verify(unit_file: Path, runtime: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "SYSTEMD_LOG_COLOR": "0"}
    cmd = ["systemd-analyze", "verify", "--user", str(unit_file)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60, check=False)


needs_systemd_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze not installed (Debian: apt-get install -y systemd); the strict parse still ran",
)


@needs_systemd_analyze
@pytest.mark.parametrize("which", ["resolved", "quoted"])
def test_unit_passes_systemd_analyze_verify(
    which: str, exe: list[str], config: Path, home: Path, tmp_path: Path
) -> None:
    # verify checks that ExecStart's binary exists, so both renderings point at real executables.
    argv = service.resolve_exe() if which == "resolved" else exe
    unit_file = tmp_path / "lint" / service.UNIT_NAME
    unit_file.parent.mkdir()
    unit_file.write_text(render_unit(argv, home / "odd 50%done" / "$USER.toml", home))
    result = _verify(unit_file, tmp_path / "runtime")
    # Unknown or misspelt keys are only warnings with rc 0, hence the check on stderr.
    assert (result.returncode, result.stderr) == (0, ""), result.stderr


@needs_systemd_analyze
def test_shipped_unit_file_passes_systemd_analyze_verify_as_it_is(exe: list[str], home: Path,
                                                                   tmp_path: Path) -> None:
    """The committed unit runs as copied, for an install in ~/.local/bin (pipx, uv tool)."""
    local_bin = home / ".local" / "bin"
    local_bin.mkdir(parents=True)
    (local_bin / "memory-syncd").symlink_to(exe[0])
    result = _verify(UNIT_TEMPLATE, tmp_path / "runtime")
    assert (result.returncode, result.stderr) == (0, ""), result.stderr


@needs_systemd_analyze
def test_systemd_analyze_verify_catches_a_typo(exe: list[str], config: Path, home: Path, tmp_path: Path) -> None:
    """Guards the test above: if verify stopped reporting warnings, it would pass vacuously."""
    unit_file = tmp_path / "lint" / service.UNIT_NAME
    unit_file.parent.mkdir()
    text = render_unit(exe, config, home).replace("RestartSec=", "Restartsec=")
    unit_file.write_text(text)
    result = _verify(unit_file, tmp_path / "runtime")
    assert "Restartsec" in result.stderr


# --- the launchd plist -----------------------------------------------------------------------------------


def test_plist_has_the_contract_keys_and_types(exe: list[str], config: Path, home: Path) -> None:
    plist = render_plist(exe, config, home)
    assert plist["Label"] == service.LABEL == PLIST_TEMPLATE.stem
    assert plist["ProgramArguments"] == [*exe, "run", "--config", str(config)]
    assert plist["RunAtLoad"] is True
    assert plist["KeepAlive"] == {"SuccessfulExit": False}
    assert isinstance(plist["ThrottleInterval"], int) and plist["ThrottleInterval"] >= 10
    assert isinstance(plist["ExitTimeOut"], int) and 5 <= plist["ExitTimeOut"] <= 60
    assert plist["ProcessType"] == "Background"
    log = home / "Library" / "Logs" / "memory-syncd" / "memory-syncd.log"
    assert plist["StandardOutPath"] == plist["StandardErrorPath"] == str(log)
    env = plist["EnvironmentVariables"]
    assert env["PYTHONUNBUFFERED"] == "1"
    path = env["PATH"].split(":")
    assert path[0] == os.path.dirname(exe[0]) and "/usr/bin" in path and "/opt/homebrew/bin" in path
    assert all(isinstance(value, str) for value in env.values())


def test_plist_strings_are_absolute_and_filled(config: Path, home: Path) -> None:
    plist = render_plist(service.resolve_exe(), config, home)
    argv = plist["ProgramArguments"]
    assert all(isinstance(arg, str) for arg in argv)
    assert os.path.isabs(argv[0]) and os.access(argv[0], os.X_OK)
    strings = [*argv, plist["StandardOutPath"], plist["StandardErrorPath"], *plist["EnvironmentVariables"].values()]
    assert not any("~" in s or "@" in s or "$" in s for s in strings)


def test_plist_escapes_xml_in_paths(exe: list[str], home: Path) -> None:
    config = home / "a&b <c>" / "config.toml"
    assert render_plist(exe, config, home)["ProgramArguments"][-1] == str(config)


# --- rendering inputs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", service.KINDS)
def test_render_rejects_what_a_service_file_cannot_hold(kind: service.Kind, exe: list[str], home: Path) -> None:
    with pytest.raises(UsageError, match="line break"):
        service.render(kind, home=home, exe=exe, config=home / "a\nb.toml")
    with pytest.raises(UsageError, match="absolute path"):
        service.render(kind, home=home, exe=["memory-syncd"], config=home / "c.toml")


def test_render_accepts_a_single_path_and_makes_config_absolute(
    exe: list[str], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(home)
    plist = plistlib.loads(service.render("launchd", home=home, exe=Path(exe[0]), config=Path("c.toml")).encode())
    assert plist["ProgramArguments"] == [exe[0], "run", "--config", str(home / "c.toml")]


def test_unknown_kind_is_a_usage_error(home: Path) -> None:
    with pytest.raises(UsageError, match="unknown service manager"):
        service.target_path("upstart", home)  # type: ignore[arg-type]


# --- platform, executable and paths ----------------------------------------------------------------------


def test_detect_platform() -> None:
    assert service.detect_platform("darwin") == "launchd"
    assert service.detect_platform("linux") == "systemd"
    assert service.detect_platform() in service.KINDS
    with pytest.raises(UsageError, match="memory-syncd run"):
        service.detect_platform("win32")


def test_resolve_exe_prefers_the_script_beside_python_without_leaving_the_venv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)  # as in a venv: resolving it would leave the venv
    script = bin_dir / "memory-syncd"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(bin_dir / "python"))
    assert service.resolve_exe() == [str(script)]


def test_resolve_exe_falls_back_to_path_then_to_python_m(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "nowhere" / "python"))
    on_path = tmp_path / "path-bin"
    on_path.mkdir()
    monkeypatch.setenv("PATH", str(on_path))
    assert service.resolve_exe() == [str(tmp_path / "nowhere" / "python"), "-m", "memory_syncd"]
    script = on_path / "memory-syncd"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    assert service.resolve_exe() == [str(script)]


def test_target_path_honours_xdg_config_home(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert service.target_path("systemd", home) == tmp_path / "xdg" / "systemd" / "user" / service.UNIT_NAME
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/is/ignored")
    assert service.target_path("systemd", home) == home / ".config" / "systemd" / "user" / service.UNIT_NAME
    assert service.target_path("systemd", home, env={}) == home / ".config" / "systemd" / "user" / service.UNIT_NAME
    assert service.target_path("launchd", home) == home / "Library" / "LaunchAgents" / PLIST_TEMPLATE.name


# --- install and uninstall -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", service.KINDS)
def test_install_without_start_writes_the_file_and_runs_nothing(
    kind: service.Kind, exe: list[str], config: Path, home: Path
) -> None:
    run = FakeRun()
    actions = service.install(kind, home=home, exe=exe, config=config, start=False, run=run)
    path = service.target_path(kind, home)
    assert run.calls == []
    assert path.read_text() == service.render(kind, home=home, exe=exe, config=config)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp file left behind
    assert actions[0] == f"wrote {path}"
    assert any(a.startswith("not started; to start it: ") for a in actions)
    check = "systemctl --user status memory-syncd" if kind == "systemd" else f"launchctl print gui/{UID}/"
    assert actions[-1].startswith(f"check it with: {check}")
    if kind == "launchd":
        assert (home / "Library" / "Logs" / "memory-syncd").is_dir()
    again = service.install(kind, home=home, exe=exe, config=config, start=False, run=run)
    assert again[0] == f"unchanged {path}"


def test_install_systemd_runs_reload_then_enable_now(exe: list[str], config: Path, home: Path) -> None:
    run = FakeRun({("loginctl",): (0, "no\n", "")})
    actions = service.install("systemd", home=home, exe=exe, config=config, start=True, run=run)
    assert run.calls == [
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "--now", "memory-syncd.service"],
        ["loginctl", "show-user", str(UID), "--property=Linger", "--value"],
    ]
    assert "ran: systemctl --user enable --now memory-syncd.service" in actions
    assert any("loginctl enable-linger" in a for a in actions)
    assert actions[-1] == "check it with: systemctl --user status memory-syncd"


def test_reinstalling_a_changed_unit_restarts_a_running_daemon(
    exe: list[str], config: Path, home: Path, tmp_path: Path
) -> None:
    service.install("systemd", home=home, exe=exe, config=config, start=False, run=FakeRun())
    run = FakeRun({("loginctl",): (0, "yes\n", "")})
    other = tmp_path / "other.toml"
    other.write_text("")
    actions = service.install("systemd", home=home, exe=exe, config=other, start=True, run=run)
    assert [c[2:] for c in run.calls[:3]] == [
        ["daemon-reload"],
        ["try-restart", "memory-syncd.service"],
        ["enable", "--now", "memory-syncd.service"],
    ]
    assert not any("enable-linger" in a for a in actions)


@pytest.mark.parametrize("loaded", [False, True])
def test_install_launchd_bootstraps_and_boots_out_a_loaded_job_first(
    loaded: bool, exe: list[str], config: Path, home: Path
) -> None:
    run = FakeRun({("launchctl", "print"): (0 if loaded else 113, "", "Could not find service")})
    actions = service.install("launchd", home=home, exe=exe, config=config, start=True, run=run)
    target = f"gui/{UID}/io.memorysyncd.daemon"
    plist = str(home / "Library" / "LaunchAgents" / "io.memorysyncd.daemon.plist")
    assert run.calls == [
        ["launchctl", "print", target],
        *([["launchctl", "bootout", target]] if loaded else []),
        ["launchctl", "enable", target],
        ["launchctl", "bootstrap", f"gui/{UID}", plist],
    ]
    assert actions[-1] == f"check it with: launchctl print {target}"


def test_a_failing_command_is_one_line_naming_it(exe: list[str], config: Path, home: Path) -> None:
    stderr = (
        "Job for memory-syncd.service failed because the control process exited with error code.\n"
        'See "systemctl --user status memory-syncd.service" and "journalctl --user -xeu …" for details.\n'
    )
    run = FakeRun({("systemctl", "--user", "enable"): (1, "", stderr)})
    with pytest.raises(MemorySyncError) as caught:
        service.install("systemd", home=home, exe=exe, config=config, start=True, run=run)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("`systemctl --user enable --now memory-syncd.service` failed (exit 1: Job for")
    assert "journalctl --user -u memory-syncd" in message


def test_no_user_bus_says_what_to_do(exe: list[str], config: Path, home: Path) -> None:
    run = FakeRun({("systemctl",): (1, "", "Failed to connect to bus: No medium found\n")})
    with pytest.raises(MemorySyncError, match=r"systemctl --user is not available .*enable-linger.*memory-syncd run"):
        service.install("systemd", home=home, exe=exe, config=config, start=True, run=run)


def test_launchctl_failure_skips_advice_lines(exe: list[str], config: Path, home: Path) -> None:
    replies: dict[tuple[str, ...], tuple[int, str, str]] = {
        ("launchctl", "print"): (113, "", ""),
        ("launchctl", "bootstrap"): (5, "", "Bootstrap failed: 5: Input/output error\nTry re-running as root.\n"),
    }
    with pytest.raises(MemorySyncError, match=r"failed \(exit 5: Bootstrap failed: 5: Input/output error\)"):
        service.install("launchd", home=home, exe=exe, config=config, start=True, run=FakeRun(replies))


@pytest.mark.parametrize("kind", service.KINDS)
def test_a_missing_service_manager_is_a_user_error(
    kind: service.Kind, exe: list[str], config: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the real subprocess.run, with a PATH that has neither systemctl nor launchctl."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(MemorySyncError, match=r"ctl not found: .*memory-syncd run"):
        service.install(kind, home=home, exe=exe, config=config, start=True)


def test_a_missing_config_is_noted_and_refused_for_start(exe: list[str], home: Path, tmp_path: Path) -> None:
    """The unit names the config with --config, and the daemon exits 78 when a named config is missing."""
    missing = tmp_path / "missing.toml"
    actions = service.install("systemd", home=home, exe=exe, config=missing, start=False, run=FakeRun())
    assert f"note: config {missing} does not exist yet; create it before starting the service" in actions
    run = FakeRun()
    with pytest.raises(UsageError, match=r"does not exist.*exit 78.*--no-start"):
        service.install("launchd", home=home, exe=exe, config=missing, start=True, run=run)
    assert run.calls == [] and not service.target_path("launchd", home).exists()


def test_install_refuses_a_missing_executable(config: Path, home: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        service.install("systemd", home=home, exe=[str(tmp_path / "gone")], config=config, start=False)
    assert not service.target_path("systemd", home).exists()


def test_uninstall_systemd_disables_then_removes(exe: list[str], config: Path, home: Path) -> None:
    service.install("systemd", home=home, exe=exe, config=config, start=False, run=FakeRun())
    run = FakeRun()
    actions = service.uninstall("systemd", home=home, run=run)
    path = service.target_path("systemd", home)
    assert run.calls == [
        ["systemctl", "--user", "disable", "--now", "memory-syncd.service"],
        ["systemctl", "--user", "daemon-reload"],
    ]
    assert f"removed {path}" in actions and not path.exists()


def test_uninstall_launchd_boots_out_then_removes_and_keeps_logs(exe: list[str], config: Path, home: Path) -> None:
    service.install("launchd", home=home, exe=exe, config=config, start=False, run=FakeRun())
    run = FakeRun()  # `launchctl print` answers 0: the job is loaded
    actions = service.uninstall("launchd", home=home, run=run)
    target = f"gui/{UID}/io.memorysyncd.daemon"
    assert run.calls == [["launchctl", "print", target], ["launchctl", "bootout", target]]
    assert not service.target_path("launchd", home).exists()
    assert (home / "Library" / "Logs" / "memory-syncd").is_dir() and "logs kept" in actions[-1]


@pytest.mark.parametrize("kind", service.KINDS)
def test_uninstall_tolerates_a_missing_file(kind: service.Kind, home: Path) -> None:
    run = FakeRun({("launchctl", "print"): (113, "", "")})
    actions = service.uninstall(kind, home=home, run=run)
    assert actions[-1] == f"nothing to remove at {service.target_path(kind, home)}"
    assert all(call[:2] == ["launchctl", "print"] for call in run.calls)


@pytest.mark.parametrize("kind", service.KINDS)
def test_uninstall_without_stop_only_removes(kind: service.Kind, exe: list[str], config: Path, home: Path) -> None:
    service.install(kind, home=home, exe=exe, config=config, start=False, run=FakeRun())
    run = FakeRun()
    service.uninstall(kind, home=home, stop=False, run=run)
    assert run.calls == [] and not service.target_path(kind, home).exists()


def test_a_fifo_in_place_of_the_unit_file_is_refused_not_read(tmp_path: Path) -> None:
    from memory_syncd.errors import Refused
    from memory_syncd.service import write_atomic

    unit = tmp_path / "memory-syncd.service"
    os.mkfifo(unit)
    with pytest.raises(Refused, match="FIFO"):
        write_atomic(unit, "[Unit]\n")
