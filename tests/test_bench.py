"""bench/ keeps working: the one benchmark command runs end to end on a tiny size and writes its
report. No timing is asserted (the machine is shared); calls are, where they are exact."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_benchmark_runs_on_a_tiny_size_and_writes_its_report(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    command = [sys.executable, "-m", "bench", "--sizes", "2", "--repeat", "1", "--builds", "0.2"]
    command += ["--wait-spaces", "1", "--many-files", "5", "--hash-mb", "2"]
    command += ["--replan-files", "20", "--startup-runs", "1", "--latency-ms", "0"]
    command += ["--plan-sizes", "3"]
    command += ["--out", str(out)]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    text = out.read_text()
    rows = {
        tuple(cell.strip() for cell in line.split("|")[1:4]): line.split("|")
        for line in text.splitlines()
        if line.startswith("| ") and line.count("|") > 10
    }
    for scenario in (
        "apply from empty",
        "no-op apply (cold tree cache)",
        "plan, warm tree cache",
        "apply --wait from empty, 0.2 s build",
    ):
        assert (scenario, "2" if "wait" not in scenario else "1", "spacectl") in rows, text
    # Exact, not timing: a no-op apply writes nothing; a warm plan is 1 listing + 2 reads each.
    noop = rows[("no-op apply (cold tree cache)", "2", "spacectl")]
    assert noop[5].strip() == "0", noop
    warm = rows[("plan, warm tree cache", "2", "spacectl")]
    assert warm[4].strip() == "5", warm
    assert ("plan, cold tree cache", "3", "spacectl") in rows, text  # the plan-only runs
    assert "## Local hashing" in text and "## Start-up" in text and "## Parts of this run" in text


def test_the_manifest_scale_benchmark_runs_on_a_tiny_size() -> None:
    """`python -m bench.manifest_scale` validates its generated manifests and plans them against
    a sandbox; what it counts is exact where it can be: 2 Spaces on a warm tree cache are 1
    listing, the hardware list, 2 reads each and the Hub's check of each changed README."""
    command = [sys.executable, "-m", "bench.manifest_scale", "--sizes", "3,7", "--plan-spaces", "2"]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    rows = [
        line for line in proc.stdout.splitlines() if line.startswith("| ") and "validate" in line
    ]
    assert [row.split("|")[1].strip() for row in rows] == ["3", "7"], proc.stdout
    warm = next(line for line in proc.stdout.splitlines() if "(warm tree cache)" in line)
    assert " 8 requests " in warm and "0 to create, 2 to update" in warm, warm


def test_the_scale_manifest_is_valid_and_uses_what_people_write() -> None:
    from bench.manifest_scale import manifest_text
    from spacectl.manifest_loader import parse_manifest

    manifest = parse_manifest(manifest_text(4), "m.yaml", base_dir=ROOT)
    first, second = manifest.spaces[:2]
    assert [space.sdk for space in manifest.spaces] == ["docker", "gradio", "docker", "gradio"]
    assert second.visibility == "public"  # from the template merged in with `<<:`
    assert set(first.secrets) == {"API_KEY", "TOKEN_0"} and first.variables["RATIO"] == "1.50"
    assert first.card is not None and first.hardware == "cpu-upgrade"
