"""End-to-end fixtures: a real `spacectl sandbox serve` process that owns the example
organisation, and `run_cli` to drive the real `spacectl` command against it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from spacectl.sandbox.testing import SandboxProcess, sandbox_process

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ORG = "ifcore-org"
BOT = "ci-bot"
BOT_TOKEN = "hf_ci_bot_write_token_0123456789"
READ_TOKEN = "hf_ci_bot_read_token_0123456789"
# A value that must never appear in any output, plan or log.
CANARY = "canary-gemini-7f3c9a1e"


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def both(self) -> str:
        return self.out + self.err


@dataclass
class Workspace:
    """A copy of the examples folder plus the environment of a CI job."""

    root: Path
    sandbox: SandboxProcess
    env: dict[str, str]

    @property
    def manifest(self) -> Path:
        return self.root / "spaces.yaml"

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> CliResult:
        full_env = {**self.env, **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "spacectl", *args],
            cwd=self.root,
            env=full_env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
        result = CliResult(proc.returncode, proc.stdout, proc.stderr)
        assert CANARY not in result.both, "a secret value leaked into the CLI output"
        assert "Traceback" not in result.err, result.err
        return result

    def writes(self) -> list[dict[str, object]]:
        """API requests that change state (request log entries)."""
        return [r for r in self.sandbox.requests() if is_write(r)]


def is_write(entry: dict[str, object]) -> bool:
    """A state-changing request. POSTs that only read (preupload, paths-info, validate-yaml,
    LFS batch) are not writes."""
    method, path = str(entry["method"]), str(entry["path"])
    if method in ("GET", "HEAD"):
        return False
    read_only_posts = (
        "/preupload/",
        "/paths-info/",
        "/api/validate-yaml",
        "/info/lfs/objects/batch",
    )
    return not (method == "POST" and any(part in path for part in read_only_posts))


@pytest.fixture
def org_sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    with sandbox_process(
        tmp_path / "sandbox",
        build_seconds=0.5,
        user=[f"{BOT}:{BOT_TOKEN}", f"{BOT}:{READ_TOKEN}:read"],
        org=[f"{ORG}:{BOT}"],
    ) as process:
        yield process


@pytest.fixture
def workspace(tmp_path: Path, org_sandbox: SandboxProcess) -> Workspace:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLES, root)
    env = org_sandbox.env(token=BOT_TOKEN)  # Xet as the client's default, or as CI asks
    env["GEMINI_API_KEY"] = CANARY
    env.pop("SPACECTL_SECRET_KEY", None)
    env.pop("NO_COLOR", None)
    return Workspace(root, org_sandbox, env)
