"""The package's shape: no import cycles, and imports that only point down the pipeline.

read -> content -> write; report, backfill and summarize use them; daemon and the command line sit on top.
Every `import` in every module counts, lazy ones inside functions included (they still run), except those
under `if TYPE_CHECKING:`, which never do.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "memory_syncd"

# What each layer may import from the package, besides itself and the base modules.
BASE = {"errors", "config", "safeio", "statefile", "jsonio", "text", "redact", "scope", "__init__"}
ALLOWED = {
    "read": set(),
    "content": {"read"},
    "write": {"read", "content"},
    "report": {"read", "content", "write"},
    "summarize": {"read", "content", "write"},
    "backfill": {"read", "content", "write", "report", "summarize"},
    "daemon": {"read", "content", "write", "report", "summarize", "backfill"},
}


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """The memory_syncd modules `path` imports, outside `if TYPE_CHECKING:` blocks."""
    tree = ast.parse(path.read_text(), str(path))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("memory_syncd")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: `from . import x` in memory_syncd.read -> memory_syncd.read
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            if not base.startswith("memory_syncd"):
                continue
            for alias in node.names:  # `from memory_syncd.write import writer` imports a module
                candidate = f"{base}.{alias.name}"
                found.add(candidate if (PKG.parent / (candidate.replace(".", "/") + ".py")).exists()
                          or (PKG.parent / candidate.replace(".", "/")).is_dir() else base)
    return found


def graph() -> dict[str, set[str]]:
    mods = {module_name(p): p for p in PKG.rglob("*.py")}
    return {m: {i for i in imports_of(p) if i in mods and i != m} for m, p in mods.items()}


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_no_import_cycles() -> None:
    g = graph()
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(g[m]):
            if state.get(n) == 1:
                cycle = [*stack[stack.index(n):], n]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m)


def test_imports_point_down_the_pipeline() -> None:
    wrong = []
    for m, deps in graph().items():
        mine = layer(m)
        if mine not in ALLOWED:
            continue  # cli, present, service, doctor: on top, may use anything
        for d in deps:
            theirs = layer(d)
            if theirs != mine and theirs not in BASE and theirs not in ALLOWED[mine]:
                wrong.append(f"{m} imports {d}")
    assert not wrong, "\n".join(sorted(wrong))


def test_the_walk_sees_real_imports() -> None:
    """Guards the two tests above: a walk that found nothing would pass them vacuously."""
    g = graph()
    assert "memory_syncd.read.ingest" in g["memory_syncd.daemon.engine"]
    assert "memory_syncd.write.writer" in g["memory_syncd.backfill"]
    assert len(g) > 40
