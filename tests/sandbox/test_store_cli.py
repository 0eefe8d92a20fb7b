"""Two `spacectl apply --sandbox` runs at once in one folder share its `.spacectl-sandbox`
state: both succeed and neither loses the other's Spaces (end to end, through the CLI)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SPACES_EACH = 4


def _spacectl(folder: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "SPACECTL_"))}
    env["HF_HOME"] = str(folder / "home")
    return subprocess.Popen(
        [sys.executable, "-m", "spacectl", *args],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = process.communicate(timeout=300)
    assert "Traceback" not in err, err
    return process.returncode, out + err


def test_two_sandbox_applies_in_one_folder_keep_each_others_spaces(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<h1>shared folder</h1>\n")
    for side in ("a", "b"):
        entries = "".join(
            f"  {side}{i}: {{sdk: static, source: ./site, variables: {{SIDE: {side}}}}}\n"
            for i in range(SPACES_EACH)
        )
        (tmp_path / f"{side}.yaml").write_text(f"owner: me\nspaces:\n{entries}")
    both = [_spacectl(tmp_path, "apply", "--sandbox", "--yes", "-f", f"{s}.yaml") for s in "ab"]
    for code, output in map(_finish, both):
        assert code == 0, output
        assert f"Apply complete: {SPACES_EACH} applied" in output, output
    for side in ("a", "b"):
        code, output = _finish(
            _spacectl(tmp_path, "plan", "--sandbox", "--detailed-exitcode", "-f", f"{side}.yaml")
        )
        assert code == 0, output  # every Space of both runs is there, as applied
        assert f"{SPACES_EACH} unchanged" in output


def test_a_state_file_that_is_not_a_database_is_one_line_exit_1(tmp_path: Path) -> None:
    (tmp_path / "spaces.yaml").write_text("owner: me\nspaces:\n  x: {sdk: static}\n")
    (tmp_path / ".spacectl-sandbox").mkdir()
    (tmp_path / ".spacectl-sandbox" / "state.sqlite3").write_bytes(b"\x00garbage" * 600)
    code, output = _finish(_spacectl(tmp_path, "plan", "--sandbox"))
    assert code == 1
    assert output.strip() == (
        f"Error: cannot use the sandbox state: {tmp_path}/.spacectl-sandbox/state.sqlite3: "
        "file is not a database"
    )
