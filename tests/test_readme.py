"""README.md as a user meets it: its sections in the documented order, the five-minute tour run
line by line against the embedded sandbox, and the manifest reference checked against the JSON
Schema (a field added to the models must be documented)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from spacectl.manifest import manifest_json_schema

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTIONS = [
    "## Quickstart",
    "## A five-minute tour",
    "## Using it with a real Hub account",
    "## CI with the GitHub Action",
    "## Manifest reference",
    "## Secrets and security model",
    "## Comparison with the alternatives",
    "## Troubleshooting",
]


def _section(title: str) -> str:
    start = README.index(title + "\n")
    end = README.find("\n## ", start + len(title))
    return README[start : end if end != -1 else len(README)]


def test_sections_come_in_the_documented_order() -> None:
    positions = [README.index(title + "\n") for title in SECTIONS]
    assert positions == sorted(positions)


def test_quickstart_holds_the_two_commands() -> None:
    quick = _section("## Quickstart")
    assert "pip install -q . && GEMINI_API_KEY=try-me .venv/bin/spacectl apply --sandbox" in quick
    assert 'pip install -q -e ".[test]" && .venv/bin/python -m pytest -q' in quick


def _table_fields(text: str) -> list[str]:
    return re.findall(r"^\| `([a-z_]+)` \|", text, flags=re.M)


def test_the_manifest_reference_lists_every_field_of_the_schema() -> None:
    schema = manifest_json_schema()
    reference = _section("## Manifest reference")
    fields = _table_fields(reference)
    space = schema["$defs"]["SpaceEntry"]["properties"]
    assert set(schema["properties"]) | set(space) == set(fields)
    for model, row in (("VolumeSpec", "volumes"), ("CardSpec", "card"), ("SecretSpec", "secrets")):
        line = next(li for li in reference.splitlines() if li.startswith(f"| `{row}` |"))
        for name in schema["$defs"][model]["properties"]:
            assert name in line, f"{row}: {name} not documented"


def _tour() -> list[tuple[str, int]]:
    block = _section("## A five-minute tour").split("```bash\n", 1)[1].split("```", 1)[0]
    lines = []
    for line in block.splitlines():
        command, _, comment = line.partition("  #")
        expected = re.search(r"exit (\d)", comment)
        lines.append((command.strip(), int(expected.group(1)) if expected else 0))
    return lines


@pytest.mark.slow
def test_the_five_minute_tour_runs_as_written(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "GEMINI"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["HF_HUB_DISABLE_TELEMETRY"] = "1"
    cwd = tmp_path
    for command, expected in _tour():
        if command.startswith("cd "):
            cwd = cwd / command[3:]
            continue
        done = subprocess.run(
            ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == expected, (command, done.stdout[-2000:], done.stderr[-2000:])
        assert "Traceback" not in done.stderr
