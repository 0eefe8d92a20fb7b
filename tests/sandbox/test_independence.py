"""The sandbox is an independent check of the client: it imports nothing of spacectl outside
`spacectl/sandbox/` except `spacectl.errors` and `spacectl.fsio` (the package's one atomic file
writer, which knows nothing of the Hub), and `spacectl.hub` in hub_data.py for the client's
hardware flavour list."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SANDBOX = Path(__file__).resolve().parents[2] / "spacectl" / "sandbox"
ALLOWED = ("spacectl.sandbox", "spacectl.errors", "spacectl.fsio")
# One narrow exception: the hardware catalogue lists the installed client's SpaceHardware
# flavours through spacectl.hub.SPACE_HARDWARE (imported lazily, on the first hardware call).
ALLOWED_IN = {"hub_data.py": ("spacectl.hub",)}


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


def test_the_sandbox_imports_only_itself_errors_and_fsio() -> None:
    offenders = [
        f"{path.relative_to(SANDBOX.parent)} imports {name}"
        for path in sorted(SANDBOX.rglob("*.py"))
        for name in sorted(_spacectl_imports(path))
        if not any(name == allowed or name.startswith(allowed + ".") for allowed in ALLOWED)
        and name not in ALLOWED_IN.get(str(path.relative_to(SANDBOX)), ())
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


def test_the_models_load_no_http_stack() -> None:
    """The Hub's rules are plain Python: importing every model (a fresh interpreter, so other
    tests' imports do not count) loads neither starlette nor uvicorn."""
    models = sorted(p.stem for p in (SANDBOX / "models").glob("*.py") if p.stem != "__init__")
    code = (
        "import sys\n"
        + "".join(f"import spacectl.sandbox.models.{name}\n" for name in models)
        + "loaded = {'starlette', 'uvicorn'} & {m.split('.')[0] for m in sys.modules}\n"
        + "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_the_listening_socket_is_tcp_so_accepted_connections_get_nodelay() -> None:
    """asyncio sets TCP_NODELAY only on accepted sockets whose protocol is TCP, inherited from
    the listening socket; without it every kept-alive request stalls ~40 ms (Nagle + delayed
    ACK). bench/latency.py measures the effect."""
    import socket

    from spacectl.sandbox.server import _bind

    sock = _bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
