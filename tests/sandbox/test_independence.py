"""The sandbox is an independent check of the client: it imports nothing of spacectl outside
`spacectl/sandbox/` except `spacectl.errors`."""

from __future__ import annotations

import ast
from pathlib import Path

SANDBOX = Path(__file__).resolve().parents[2] / "spacectl" / "sandbox"
ALLOWED = ("spacectl.sandbox", "spacectl.errors")


def _spacectl_imports(path: Path) -> set[str]:
    """Absolute names of the spacectl modules `path` imports (relative imports resolved)."""
    package = "spacectl." + ".".join(path.relative_to(SANDBOX.parent).parent.parts)
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
    return {name for name in names if name == "spacectl" or name.startswith("spacectl.")}


def test_the_sandbox_imports_only_itself_and_spacectl_errors() -> None:
    offenders = [
        f"{path.relative_to(SANDBOX.parent)} imports {name}"
        for path in sorted(SANDBOX.rglob("*.py"))
        for name in sorted(_spacectl_imports(path))
        if not any(name == allowed or name.startswith(allowed + ".") for allowed in ALLOWED)
    ]
    assert offenders == []


def test_the_shipped_sandbox_needs_no_test_framework() -> None:
    """`sandbox_process()` is for users too: pytest stays in tests/."""
    for path in SANDBOX.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] != "pytest" for a in node.names), path
            elif isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] != "pytest", path
