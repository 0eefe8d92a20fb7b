"""The hostile corpus (cases.py) through the real CLI, against ONE shared sandbox process.

Every case runs in one worker process (runner.py) limited to 1 GB of address space
(RLIMIT_AS) with a per-case alarm, so an alias bomb or a runaway scan fails its case (as an
internal error, a MemoryError or a timeout) instead of the machine. Asserted per case:
- refused: exit 1, exactly one `Error:` line (a `Hint:` may follow), matching the case's regex,
  starting with FILE:LINE:COL where the case is about a position; no traceback;
- valid: exit 0, and the text, JSON and Markdown plans hold no raw control or invisible
  character, show each hostile name escaped, and a Markdown fence no data can close;
- always: the sandbox logged zero write requests, and the secret value appears nowhere.
"""

from __future__ import annotations

import base64
import json
import os
import re
import resource
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import CommitOperationAdd, HfApi

from spacectl.escape import printable
from spacectl.sandbox.testing import SandboxProcess, sandbox_process
from tests.e2e.conftest import BOT, BOT_TOKEN, ORG
from tests.hostile.cases import CASES, FIFO, SECRET, TOKEN, Case, Link

ROOT = Path(__file__).resolve().parents[2]
MEMORY_LIMIT = 1 << 30  # bytes of address space for the whole worker
WORKER_TIMEOUT = 600  # seconds: a generous bound for the corpus, not a timing assertion
FORMATS = ("text", "json", "markdown")
SECRET_FORMS = (
    SECRET,
    base64.b64encode(SECRET.encode()).decode(),
    urllib.parse.quote(SECRET, safe=""),
)


def _raw_characters(text: str) -> list[str]:
    """Anything but a printable character or a line break: what no render may print raw."""
    return sorted({c for c in text if c != "\n" and not c.isprintable()})


def _write_tree(root: Path, tree: dict[str, bytes | Link | str]) -> None:
    for name, content in tree.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Link):
            os.symlink(content.target, path)
        elif content == FIFO:
            os.mkfifo(path)
        else:
            assert isinstance(content, bytes)
            path.write_bytes(content.replace(TOKEN.encode(), BOT_TOKEN.encode()))


def _argv(case: Case, folder: Path, fmt: str) -> list[str]:
    manifest = case.manifest if isinstance(case.manifest, str) else str(folder / "spaces.yaml")
    if case.command == "validate":
        return ["validate", "-f", manifest]
    return ["plan", "-f", manifest, "--format", fmt, "--no-color"]


def _worker_cases(base: Path) -> list[dict[str, Any]]:
    rows = []
    for case in CASES:
        folder = base / case.id
        (folder / "app").mkdir(parents=True)
        if isinstance(case.manifest, bytes):
            (folder / "spaces.yaml").write_bytes(case.manifest)
        _write_tree(folder / "app", case.tree)
        env = {k: v.replace(TOKEN, BOT_TOKEN) for k, v in case.env.items()}
        formats = FORMATS if case.command == "plan" and case.error is None else ("text",)
        for fmt in formats:
            rows.append(
                {
                    "id": f"{case.id}#{fmt}",
                    "cwd": str(folder),
                    "argv": _argv(case, folder, fmt),
                    "env": env,
                    "unset": [n for n in ("SPACECTL_SECRET_KEY",) if n not in env],
                }
            )
    return rows


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _seed_live_files(sandbox: SandboxProcess) -> None:
    """The Spaces whose live files carry hostile names (written before the corpus runs)."""
    api = HfApi(endpoint=sandbox.endpoint, token=BOT_TOKEN)
    for case in CASES:
        if not case.live:
            continue
        space_id = f"{ORG}/{case.id}"
        api.create_repo(space_id, repo_type="space", space_sdk="static")
        api.create_commit(
            space_id,
            [CommitOperationAdd(name, b"live\n") for name in case.live],
            commit_message="hostile names",
            repo_type="space",
        )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    base = tmp_path_factory.mktemp("hostile")
    with sandbox_process(
        base / "sandbox", user=[f"{BOT}:{BOT_TOKEN}"], org=[f"{ORG}:{BOT}"]
    ) as sandbox:
        _seed_live_files(sandbox)
        cases_file, results_file = base / "cases.json", base / "results.json"
        cases_file.write_text(json.dumps(_worker_cases(base / "cases")))
        env = {**sandbox.env(xet=True, token=BOT_TOKEN), "PYTHONPATH": str(ROOT)}
        env.pop("SPACECTL_DEBUG", None)
        done = subprocess.run(
            [sys.executable, "-m", "tests.hostile.runner", str(cases_file), str(results_file)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=WORKER_TIMEOUT,
            preexec_fn=_limit_memory,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        results = json.loads(results_file.read_text())
        yield {result["id"]: result for result in results}


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert len({case.id for case in CASES}) == len(CASES), "case ids must be unique"


def _check_refused(case: Case, result: dict[str, Any]) -> None:
    assert result["code"] == 1, result
    lines = result["err"].splitlines()
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, lines
    assert all(line.startswith(("Error: ", "Hint: ")) for line in lines), lines
    assert case.error is not None and re.search(case.error, errors[0]), errors[0]
    if case.located:
        assert re.match(r"Error: [^:]+:\d+:\d+: ", errors[0]), errors[0]
    assert not _raw_characters(result["err"]), result["err"]


def _check_markdown(text: str) -> None:
    lines = text.splitlines()
    opening = next((i for i, line in enumerate(lines) if line.startswith("```")), None)
    if opening is None:
        return
    fence = re.match(r"`+", lines[opening])
    assert fence is not None
    closing = lines.index(fence.group(), opening + 1)
    inside = lines[opening + 1 : closing]
    longest = max((len(run) for line in inside for run in re.findall(r"`+", line)), default=0)
    assert longest < len(fence.group()), "data could close the code block"


def _check_valid(case: Case, results: dict[str, dict[str, Any]]) -> None:
    fmts = FORMATS if case.command == "plan" else ("text",)
    for fmt in fmts:
        result = results[f"{case.id}#{fmt}"]
        assert result["code"] == 0, result
        assert "Error:" not in result["err"], result["err"]
        out = result["out"]
        assert not _raw_characters(out), (fmt, _raw_characters(out))
        if fmt == "json":
            json.loads(out)
        if fmt == "markdown":
            _check_markdown(out)
        if fmt != "text":
            continue
        files = [name for name, content in case.tree.items() if isinstance(content, bytes)]
        for name in [*files, *case.live]:
            shown = f"files/{printable(name)}" in out
            assert shown is (name not in case.absent), (name, out)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_input(case: Case, corpus: dict[str, dict[str, Any]]) -> None:
    runs = [r for key, r in corpus.items() if key.split("#")[0] == case.id]
    assert runs, "the case did not run"
    for result in runs:
        assert result["code"] != "timeout", f"{case.id} ran out of time"
        assert "Traceback" not in result["err"] and "Internal error" not in result["err"], result
        assert result["writes"] == [], f"{case.id} wrote to the Hub: {result['writes']}"
        both = result["out"] + result["err"]
        assert not any(form in both for form in SECRET_FORMS), "a secret value was printed"
    if case.error is None:
        _check_valid(case, corpus)
    else:
        _check_refused(case, runs[0])
