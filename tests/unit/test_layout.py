"""The house rules of docs/layout.md, held in CI: sizes, one error tree, no bare background task.

These read the source (with ``ast``), never import it, so a rule broken anywhere in minecs/ or
agent/ fails here with the file and line. The import rules (layers, no circle) are import-linter's
contracts in pyproject.toml, checked by ``make layers``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("minecs", "agent")
MOST_LINES = 400
MOST_FUNCTION_LINES = 50
# Argparse tables: flat lists of flags that read better whole (docs/layout.md, "Sizes").
ARGPARSE_TABLES = {
    ("minecs/cli/__init__.py", "build_parser"),
    ("minecs/cli/parsers.py", "_add_object_commands"),
}


def sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_no_module_is_over_400_lines() -> None:
    long = {relative(p): n for p in sources() if (n := len(p.read_text().splitlines())) > MOST_LINES}
    assert long == {}


def test_no_function_is_over_50_lines_outside_argparse_tables() -> None:
    long = [
        f"{relative(p)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for p in sources()
        for node in ast.walk(parsed(p))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MOST_FUNCTION_LINES
        and (relative(p), node.name) not in ARGPARSE_TABLES
    ]
    assert long == []


def exception_classes(path: Path) -> list[str]:
    """Classes whose bases name an error or exception type (ours or Python's)."""
    return [
        node.name
        for node in ast.walk(parsed(path))
        if isinstance(node, ast.ClassDef)
        and any(ast.unparse(b).rsplit(".", 1)[-1].endswith(("Error", "Exception")) for b in node.bases)
    ]


def test_every_exception_class_is_in_the_one_error_tree() -> None:
    outside = {
        relative(p): names for p in sources() if p.name != "errors.py" and (names := exception_classes(p))
    }
    assert outside == {}


def test_the_error_tree_draws_every_class_it_defines() -> None:
    errors = ROOT / "minecs" / "errors.py"
    drawn = ast.get_docstring(parsed(errors)) or ""
    missing = [name for name in exception_classes(errors) if name not in drawn]
    assert missing == []


def _guarded(call: ast.Call) -> bool:
    """``create_task(guard(name, factory), ...)``: the task is the guard, which logs how it ended."""
    first = call.args[0] if call.args else None
    return (
        isinstance(first, ast.Call)
        and isinstance(first.func, ast.Name | ast.Attribute)
        and (first.func.id if isinstance(first.func, ast.Name) else first.func.attr) == "guard"
    )


def _called(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


# The one shared future that is not background work: every caller of the image pull awaits it.
AWAITED = {("agent/tasks/engine.py", "ensure_future")}


def test_no_background_task_starts_outside_the_guard() -> None:
    """Every task starts through ``minecs.aiotasks`` (``run_roots``, ``guard`` or ``spawn``), which
    logs its failure under its name: none is a bare ``create_task`` whose failure nobody sees."""
    bare = [
        f"{relative(p)}:{node.lineno} {_called(node)}"
        for p in sources()
        if relative(p) != "minecs/aiotasks.py"
        for node in ast.walk(parsed(p))
        if isinstance(node, ast.Call)
        and _called(node) in ("create_task", "ensure_future")
        and not _guarded(node)
        and (relative(p), _called(node)) not in AWAITED
    ]
    assert bare == []
