"""The package's own quality gates, run as part of the test suite so CI enforces them:
ruff (lint + format) and mypy --strict are clean, and each third-party library has one home."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "spacectl"

# Third-party library -> the only module (or package) allowed to import it.
HOMES = {
    "huggingface_hub": {"spacectl/hub/"},
    "httpx2": {"spacectl/hub/"},
    "tenacity": {"spacectl/hub/"},
    "ruamel": {"spacectl/yamlio/"},
    "_ruamel_yaml": {"spacectl/yamlio/"},  # ruamel.yaml.clib; yamlio takes it via ruamel
    "pydantic": {"spacectl/manifest.py"},
    "pydantic_core": {"spacectl/manifest.py"},  # pydantic's own core: its custom errors
    "deepdiff": {"spacectl/attributes.py"},
    "typer": {"spacectl/cli/"},
    "rich": {"spacectl/cli/"},
    "pathspec": {"spacectl/files.py"},
    "starlette": {"spacectl/sandbox/"},
    "uvicorn": {"spacectl/sandbox/"},
    "yaml": {"spacectl/sandbox/frontmatter.py"},
    "lz4": {"spacectl/sandbox/models/xetformat.py"},
    "jwt": {"spacectl/sandbox/models/oidc.py"},
    "cryptography": {"spacectl/sandbox/models/oidc.py"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_each_library_has_one_home() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        for library in _imports(path) & set(HOMES):
            if not any(rel == home or rel.startswith(home) for home in HOMES[library]):
                offenders.append(f"{rel} imports {library}")
    assert offenders == []


@pytest.mark.parametrize(
    "module",
    [
        "plan",
        "render",
        "state",
        "secrets",
        "errors",
        "results",
        "files",
        "card",
        "yamlio",
        "manifest",
        "manifest_loader",
        "inputs",
        "escape",
        "yamlbounds",
        "debuglog",
        "attributes",
        "operations",
        "planjson",
        "port",
        "volumes",
        "apply",
        "status",
        "adopt",
        "doctor",
        "oidc",
        "permissions",
        "preflight",
    ],
)
def test_pure_modules_never_load_the_hub_client(module: str) -> None:
    """Importing a pure module, even transitively, must not load huggingface_hub or an HTTP
    client (a fresh interpreter, so other tests' imports do not count)."""
    code = (
        f"import sys, spacectl.{module}\n"
        "loaded = {'huggingface_hub', 'httpx2', 'tenacity'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def _tool(name: str) -> list[str]:
    exe = Path(sys.executable).with_name(name)
    if exe.exists():
        return [str(exe)]
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (it is part of the [test] extra)")
    return [found]


@pytest.mark.parametrize(
    "command",
    [["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"]],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_tool_is_clean(command: list[str]) -> None:
    result = subprocess.run(
        _tool(command[0]) + command[1:], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
