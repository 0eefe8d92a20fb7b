"""Replays the production exchanges written down in recorded_facts.yaml against the sandbox."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from spacectl.sandbox.testing import SandboxProcess, sandbox_process

FACTS = YAML(typ="safe", pure=True).load(Path(__file__).with_name("recorded_facts.yaml"))
TOKENS = {"user": "hf_user_recorded", "victor": "hf_victor_recorded"}
_MISSING = object()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    # Long builds, so a Space is still BUILDING when the recording says so.
    with sandbox_process(
        tmp_path_factory.mktemp("recorded"),
        build_seconds=60,
        user=[f"{name}:{token}" for name, token in TOKENS.items()],
    ) as process:
        yield process


def flatten(steps: list[Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for step in steps:
        result += flatten(step) if isinstance(step, list) else [step]
    return result


def encode_body(step: dict[str, Any]) -> tuple[bytes | None, str | None]:
    if "json" in step:
        return json.dumps(step["json"]).encode(), "application/json"
    if "preupload" in step:
        files = [
            {
                "path": f["path"],
                "sample": base64.b64encode(f["text"].encode()[:512]).decode(),
                "size": len(f["text"].encode()),
            }
            for f in step["preupload"]
        ]
        return json.dumps({"files": files}).encode(), "application/json"
    if "commit" in step:
        commit = step["commit"]
        lines = [{"key": "header", "value": {"summary": commit["summary"], "description": ""}}]
        lines += [
            {
                "key": "file",
                "value": {
                    "content": base64.b64encode(f["text"].encode()).decode(),
                    "path": f["path"],
                    "encoding": "base64",
                },
            }
            for f in commit["files"]
        ]
        return "".join(json.dumps(line) + "\n" for line in lines).encode(), "application/x-ndjson"
    return None, None


def lookup(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return _MISSING
    return data


def replay(sandbox: SandboxProcess, step: dict[str, Any]) -> list[str]:
    """Send one step; return what differs from the recorded facts."""
    body, content_type = encode_body(step)
    headers = {"Authorization": f"Bearer {TOKENS[step.get('as', 'user')]}"}
    if content_type:
        headers["Content-Type"] = content_type
    status, response_headers, raw = sandbox.http(step["method"], step["path"], body, headers)
    where = f"{step['method']} {step['path']}"
    problems = []
    if status != step["status"]:
        problems.append(f"{where}: status {status} != {step['status']} ({raw[:200]!r})")
        return problems
    lowered = {k.lower(): v for k, v in response_headers.items()}
    if "content_type" in step and not lowered.get("content-type", "").startswith(
        step["content_type"]
    ):
        problems.append(f"{where}: content-type {lowered.get('content-type')}")
    if "text" in step and raw.decode() != step["text"]:
        problems.append(f"{where}: body {raw!r} != {step['text']!r}")
    if any(k in step for k in ("body", "present", "absent", "equals", "endswith")):
        data = json.loads(raw)
        if "body" in step and data != step["body"]:
            problems.append(f"{where}: body {data} != {step['body']}")
        for key in step.get("present", []):
            if lookup(data, key) is _MISSING:
                problems.append(f"{where}: missing {key} in {data}")
        for key in step.get("absent", []):
            if lookup(data, key) is not _MISSING:
                problems.append(f"{where}: unexpected {key} in {data}")
        for key, value in step.get("equals", {}).items():
            if lookup(data, key) != value:
                problems.append(f"{where}: {key} = {lookup(data, key)!r}, recorded {value!r}")
        for key, suffix in step.get("endswith", {}).items():
            if not str(lookup(data, key)).endswith(suffix):
                problems.append(f"{where}: {key} = {lookup(data, key)!r} !~ *{suffix}")
    return problems


def test_facts_cover_every_recording() -> None:
    names = [s["name"] for s in FACTS["scenarios"]]
    assert names == [
        "manage_secrets",
        "manage_variables",
        "pause_and_restart_space",
        "space_runtime",
        "static_space_runtime",
    ]
    assert (
        sum(len(flatten(s["steps"])) for s in FACTS["scenarios"]) == 52
    )  # one per recorded exchange


@pytest.mark.parametrize("scenario", FACTS["scenarios"], ids=lambda s: s["name"])
def test_sandbox_answers_like_the_recorded_hub(
    sandbox: SandboxProcess, scenario: dict[str, Any]
) -> None:
    for step in flatten(scenario.get("setup", [])):
        assert not replay(sandbox, step), f"setup failed: {step}"
    problems = []
    for step in flatten(scenario["steps"]):
        problems += replay(sandbox, step)
    assert not problems, "\n".join(problems)
