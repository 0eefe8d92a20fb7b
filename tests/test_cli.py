"""CLI behaviour that needs no Hub: validate, schema, exit codes and one-line errors."""

from __future__ import annotations

import importlib.metadata
import itertools
import json
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from test_manifest import ERROR_CASES
from typer.testing import CliRunner

import spacectl
from spacectl.cli import app
from spacectl.errors import EXIT_CHANGES, EXIT_ERROR, EXIT_INTERNAL, EXIT_INTERRUPTED
from spacectl.manifest import manifest_json_schema

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "SPACECTL_"))}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "spacectl", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_committed_schema_matches_the_models() -> None:
    committed = json.loads((ROOT / "examples" / "spaces.schema.json").read_text())
    assert committed == manifest_json_schema(), "run: spacectl schema > examples/spaces.schema.json"


def test_validate_the_example(monkeypatch: pytest.MonkeyPatch) -> None:
    # No secret in the environment: validate is offline and secret-free (pre-commit runs it).
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    result = _run("validate", "-f", "examples/spaces.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "examples/spaces.yaml: valid (7 Spaces)\n"


def test_validate_reports_one_line_with_position_and_no_traceback(tmp_path: Path) -> None:
    manifest = tmp_path / "spaces.yaml"
    manifest.write_text("owner: acme\nspaces:\n  app:\n    sdk: gradio\n    hardwear: t4-small\n")
    result = _run("validate", "-f", str(manifest))
    assert result.returncode == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"Error: {manifest}:5:5: spaces.app")
    assert "did you mean 'hardware'?" in first
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_validate_reports_every_problem_one_line_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MY_SECRET_VAR", raising=False)
    manifest = tmp_path / "spaces.yaml"
    manifest.write_text(
        "owner: acme\nspaces:\n  app:\n    sdk: gradio\n    hardwear: t4-small\n"
        "    secrets:\n      KEY: {from_env: MY_SECRET_VAR}\n  site:\n    sdk: statik\n"
    )
    result = _run("validate", "-f", str(manifest))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"Error: {manifest}:5:5: spaces.app.hardwear: Unknown key 'hardwear'; did you mean "
        "'hardware'?",
        f"Error: {manifest}:9:5: spaces.site.sdk: Input should be 'gradio', 'streamlit', "
        "'docker' or 'static'.",
        f"2 problems in {manifest}.",
    ]
    assert result.stdout == ""
    # Another command stops at the first problem, with a hint counting the rest.
    plan = _run("plan", "-f", str(manifest))
    assert plan.returncode == 1
    assert plan.stderr.splitlines() == [
        result.stderr.splitlines()[0],
        "Hint: 1 more problem in this file; 'spacectl validate' lists them all.",
    ]


def test_no_token_is_a_clear_error(tmp_path: Path) -> None:
    manifest = tmp_path / "spaces.yaml"
    manifest.write_text("owner: acme\nspaces:\n  app: {sdk: gradio}\n")
    result = _run("plan", "-f", str(manifest), env={"HF_HOME": str(tmp_path / "home")})
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == "Error: no Hugging Face token found"
    assert "--sandbox" in result.stderr


def test_unreachable_endpoint_is_one_line_with_hint(tmp_path: Path) -> None:
    manifest = tmp_path / "spaces.yaml"
    manifest.write_text("owner: acme\nspaces:\n  app: {sdk: gradio}\n")
    result = _run(
        "plan",
        "-f",
        str(manifest),
        "--endpoint",
        "http://127.0.0.1:9",
        "--token",
        "hf_x",
        env={"HF_HOME": str(tmp_path / "home")},
    )
    assert result.returncode == 1
    assert "cannot reach http://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr


def test_sandbox_mode_plans_and_applies_in_the_working_directory(tmp_path: Path) -> None:
    manifest = tmp_path / "spaces.yaml"
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<h1>hi</h1>\n")
    manifest.write_text("owner: me\nspaces:\n  site: {sdk: static, source: ./site}\n")
    env = {"HF_HOME": str(tmp_path / "home")}
    first = _run("apply", "--sandbox", "--yes", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / ".spacectl-sandbox").is_dir()
    # The state holds secret values: it never lands in the user's repository.
    assert (tmp_path / ".spacectl-sandbox" / ".gitignore").read_text().endswith("*\n")
    again = _run("plan", "--sandbox", "--detailed-exitcode", cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes" in again.stdout
    # A saved plan names the sandbox by its folder, not by its port (new on every run).
    (tmp_path / "site" / "about.html").write_text("<p>about</p>\n")
    saved = _run("plan", "--sandbox", "--out", "plan.json", cwd=tmp_path, env=env)
    assert saved.returncode == 0, saved.stderr
    with_file = _run("apply", "plan.json", "-f", "spaces.yaml", "--sandbox", cwd=tmp_path, env=env)
    assert with_file.returncode == 1
    assert with_file.stderr.splitlines()[1] == "Hint: run `spacectl apply plan.json` without -f"
    applied = _run("apply", "plan.json", "--sandbox", "--yes", cwd=tmp_path, env=env)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Apply complete: 1 applied" in applied.stdout


@pytest.mark.parametrize(("text", "expected"), ERROR_CASES)
def test_every_manifest_error_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: str
) -> None:
    """Each manifest error of tests/test_manifest.py, as a user meets it: first on stderr,
    `Error: FILE:LINE:COL: where: what`, exit code 1, nothing on stdout; any other problem in
    the file on a line of its own, then their count."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "app.py").write_text("print('hi')\n")
    (tmp_path / "spaces.yaml").write_text(textwrap.dedent(text))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["validate", "-f", "spaces.yaml"])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "Error: " + expected.replace("{cwd}", str(tmp_path.resolve()))
    errors = list(itertools.takewhile(lambda line: line.startswith("Error: "), lines))
    rest = lines[len(errors) :]
    if len(errors) > 1:
        assert rest == [f"{len(errors)} problems in spaces.yaml."]
    else:
        assert all(line.startswith("Hint: ") for line in rest)


def test_plan_out_into_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    manifest = tmp_path / "spaces.yaml"
    manifest.write_text("owner: me\nspaces:\n  site: {sdk: static}\n")
    env = {"HF_HOME": str(tmp_path / "home")}
    result = _run("plan", "--sandbox", "--out", "no/such/dir/p.json", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0].startswith("Error: cannot write the plan to ")
    assert "Traceback" not in result.stderr


def test_a_manifest_given_as_plan_file_suggests_dash_f(tmp_path: Path) -> None:
    (tmp_path / "spaces.yaml").write_text("owner: me\nspaces: {}\n")
    result = _run("apply", "spaces.yaml", "--yes", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "Error: spaces.yaml: not a spacectl plan file (JSONDecodeError)",
        "Hint: to apply a manifest, run `spacectl apply -f spaces.yaml`",
    ]


def test_version_and_the_installed_names() -> None:
    """The distribution is hf-spacectl; both console scripts run the one entry point."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert pyproject["name"] == spacectl.DISTRIBUTION == "hf-spacectl"
    assert pyproject["version"] == spacectl.SOURCE_VERSION == spacectl.__version__
    assert pyproject["scripts"] == {
        "spacectl": "spacectl.cli:main",
        "hf-spacectl": "spacectl.cli:main",
    }
    installed = {
        ep.name: ep.value
        for ep in importlib.metadata.distribution("hf-spacectl").entry_points
        if ep.group == "console_scripts"
    }
    assert installed == pyproject["scripts"]
    result = _run("--version")
    assert (result.returncode, result.stdout) == (0, f"spacectl {spacectl.__version__}\n")


def test_readme_installs_the_right_name_and_lists_every_exit_code() -> None:
    readme = (ROOT / "README.md").read_text()
    docs = [readme, *(path.read_text() for path in (ROOT / "docs").glob("*.md"))]
    assert not [text for text in docs if re.search(r"install spacectl\b", text)]
    assert "pipx install hf-spacectl" in readme
    assert "hf extensions install OWNER/hf-spacectl" in readme and "hf spacectl plan" in readme
    table = readme.split("## Exit codes", 1)[1]
    codes = {int(code) for code in re.findall(r"^\| (\d+) \|", table, flags=re.MULTILINE)}
    assert codes == {0, EXIT_ERROR, EXIT_CHANGES, EXIT_INTERNAL, EXIT_INTERRUPTED}


@pytest.mark.parametrize(
    ("args", "message", "command"),
    [
        (["plan", "--bogus"], "No such option: --bogus", "spacectl plan"),
        (["plan", "--format", "yaml"], "Invalid value for '--format'", "spacectl plan"),
        (["apply", "--parallelism", "0"], "Invalid value for '--parallelism'", "spacectl apply"),
        (["sandbox"], "Missing command.", "spacectl sandbox"),
        (["plna"], "No such command 'plna'.", "spacectl"),
        (["validate", "-f"], "Option '-f' requires an argument.", "spacectl"),
    ],
    ids=["unknown-option", "bad-choice", "out-of-range", "missing-command", "typo", "no-value"],
)
def test_usage_errors_exit_1_not_2(args: list[str], message: str, command: str) -> None:
    """2 means only "changes present" (plan --detailed-exitcode): a mistyped flag in CI must
    fail the step, not pass it as "there are changes"."""
    result = _run(*args)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.replace("python -m spacectl", "spacectl").splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"Error: {message}"), result.stderr
    assert lines[1] == f"Hint: run `{command} --help`"
    assert result.stdout == ""


def test_bare_spacectl_shows_the_help_and_exits_1() -> None:
    result = _run()
    assert result.returncode == 1
    assert "spacectl [OPTIONS] COMMAND" in result.stdout and "plan" in result.stdout


# The Hub client, its HTTP stack and the sandbox's server: only commands that talk to a Hub load
# them. validate and schema need neither rich (apply's progress) nor deepdiff (the plan's diff).
_HUB_AND_SERVER = ["httpx2", "huggingface_hub", "starlette", "tenacity", "uvicorn"]
_OFFLINE = [*_HUB_AND_SERVER, "deepdiff", "rich"]


@pytest.mark.parametrize(
    ("args", "forbidden"),
    [
        (["--help"], _HUB_AND_SERVER),
        (["plan", "--help"], _HUB_AND_SERVER),
        (["validate", "-f", "examples/spaces.yaml"], _OFFLINE),
        (["validate", "-f", "examples/spaces.yaml", "--format", "json"], _OFFLINE),
        (["schema"], _OFFLINE),
    ],
    ids=["help", "plan-help", "validate", "validate-json", "schema"],
)
def test_offline_commands_load_no_heavy_library(args: list[str], forbidden: list[str]) -> None:
    """A fresh interpreter runs the command, then lists the forbidden libraries it loaded."""
    code = (
        "import json, sys\n"
        f"sys.argv = ['spacectl', *{args!r}]\n"
        "from spacectl.cli import app\n"
        "try:\n"
        "    app()\n"
        "except SystemExit as done:\n"
        "    assert not done.code, done.code\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {forbidden!r})\n"
        "print(json.dumps(loaded))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "SPACECTL_"))}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "GEMINI_API_KEY": "x"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []


COMMANDS = ["validate", "schema", "plan", "apply", "import", "status", "logs", "doctor"]
# What typer and click print for parameters without a metavar: Python types, not names.
_TYPE_NAMES = re.compile(r"<(str|bool|int|float|path)|list\[|\b(TEXT|INTEGER|FLOAT|PATH|BOOLEAN)\b")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_short_help_examples_and_no_python_types(command: str) -> None:
    result = CliRunner().invoke(app, [command, "-h"], terminal_width=100)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: spacectl {command} ")
    examples = result.output.split("Examples:\n\n", 1)[1].splitlines()
    assert examples and all(
        line.startswith(f"    spacectl {command}") or line.startswith("    #")
        for line in examples
        if line
    ), examples
    assert not _TYPE_NAMES.search(result.output), result.output
    if command in ("apply", "status", "doctor", "validate", "import"):
        assert "--format <text|json>" in result.output
    if command == "plan":
        assert "--format <text|json|markdown>" in result.output


def test_root_help_and_shell_completion() -> None:
    root = CliRunner().invoke(app, ["-h"])
    assert root.exit_code == 0 and "--install-completion" in root.output
    assert "Examples:" in root.output
    script = Path(sys.executable).with_name("spacectl")
    if not script.exists():
        pytest.skip("no spacectl console script next to the interpreter")
    shown = subprocess.run(
        [str(script), "--show-completion", "bash"], capture_output=True, text=True, check=False
    )
    assert shown.returncode == 0 and "_spacectl_completion" in shown.stdout, shown.stderr
    env = {**os.environ, "_SPACECTL_COMPLETE": "complete_bash", "COMP_CWORD": "2"}
    completed = subprocess.run(
        [str(script)],
        env={**env, "COMP_WORDS": "spacectl status --det"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.stdout.split() == ["--detailed-exitcode"], completed.stderr


def test_validate_json_is_the_document_alone(tmp_path: Path) -> None:
    good = _run("validate", "examples/spaces.yaml", "--format", "json")
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout) == {
        "format_version": "1",
        "ok": True,
        "files": [{"file": "examples/spaces.yaml", "ok": True, "spaces": 7}],
        "problems": [],
    }
    manifest = tmp_path / "spaces.yaml"
    manifest.write_text(
        "owner: acme\nspaces:\n  app:\n    sdk: gradio\n    hardwear: t4-small\n"
        "  web:\n    sdk: rust\n"
    )
    bad = _run("validate", "examples/spaces.yaml", str(manifest), "--format", "json")
    assert bad.returncode == 1 and bad.stderr == ""
    document = json.loads(bad.stdout)
    assert document["ok"] is False
    assert [f["ok"] for f in document["files"]] == [True, False]
    # Every problem of the file, each with its FILE:LINE:COL parts.
    first, second = document["problems"]
    assert (first["file"], first["line"], first["column"]) == (str(manifest), 5, 5)
    assert (
        first["where"] == "spaces.app.hardwear" and "did you mean 'hardware'?" in (first["message"])
    )
    assert (second["line"], second["where"]) == (7, "spaces.web.sdk")


def test_colour_switches(monkeypatch: pytest.MonkeyPatch) -> None:
    from spacectl.cli import output

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setattr(output, "_no_color", False)
    assert not output.use_color()  # pytest's stdout is no terminal
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert output.use_color()
    monkeypatch.setenv("NO_COLOR", "1")
    assert not output.use_color()
    monkeypatch.setenv("NO_COLOR", "")  # no-color.org: an empty value does not count
    assert output.use_color()
    output.no_color_flag(True)
    assert not output.use_color()


def test_a_misconfigured_keyless_token_is_a_configuration_error(tmp_path: Path) -> None:
    """HF_OIDC_RESOURCE outside a CI that can mint an id token: one line and the fix, exit 1,
    not an internal error (the client raises OIDCError when the token is resolved)."""
    manifest = tmp_path / "spaces.yaml"
    manifest.write_text("owner: acme\nspaces:\n  app: {sdk: docker}\n")
    result = _run(
        "plan",
        "-f",
        str(manifest),
        "--endpoint",
        "http://127.0.0.1:9",
        env={"HF_OIDC_RESOURCE": "spaces/acme/app", "HF_HOME": str(tmp_path)},
    )
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: keyless token (HF_OIDC_RESOURCE): ")
    assert lines[1].startswith("Hint: in GitHub Actions give the job `permissions: id-token")
    assert "Internal error" not in result.stderr and "Traceback" not in result.stderr
