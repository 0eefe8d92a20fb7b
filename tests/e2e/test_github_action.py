"""The GitHub Action end to end: the example workflows' action step, run as the runner runs a
composite action (its `run:` steps in bash, with the environment GitHub sets), against a
sandbox process standing in for the Hub and a fake GitHub API on loopback (tests/fakegithub.py).

What GitHub itself does is not run: `actions/setup-python` and the install step (the test's
interpreter already has this checkout installed, which is what the install step installs)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from huggingface_hub import HfApi

from spacectl.ci.github import BODY_LIMIT, FOLD_LINES, compose
from spacectl.ci.workflow import workflow_command
from spacectl.yamlio import read_manifest_document
from tests.e2e.conftest import BOT_TOKEN, CANARY, READ_TOKEN, Workspace
from tests.fakegithub import FakeGitHub, fake_github

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "examples" / "github-actions"
REPOSITORY = "ifcore-org/spaces"
WRITE_GH = "ghs_write_token_for_the_job"
READ_GH = "ghs_read_only_token_of_a_fork_pr"
PR = 7
EXPRESSION = re.compile(r"\$\{\{\s*([\w.-]+)\s*\}\}")


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with fake_github(REPOSITORY, {WRITE_GH: "write", READ_GH: "read"}) as fake:
        fake.add_pull_request(PR)
        yield fake


@dataclass
class ActionRun:
    code: int
    log: str
    summary: str
    outputs: str


def _load(path: Path) -> dict[str, Any]:
    return read_manifest_document(path.read_text(encoding="utf-8"))


def _action_step(workflow: str) -> dict[str, Any]:
    """The step of an example workflow that uses the action."""
    jobs = _load(WORKFLOWS / workflow)["jobs"]
    steps = [
        s for job in jobs.values() for s in job["steps"] if "hf-spacectl@" in s.get("uses", "")
    ]
    assert len(steps) == 1, workflow
    return steps[0]


def _evaluate(value: str, context: Mapping[str, str]) -> str:
    """The `${{ a.b }}` expressions the action and the workflows use (plain lookups)."""

    def lookup(match: re.Match[str]) -> str:
        name = match[1]
        # GitHub: an unset secret is an empty string (a fork's pull request has none set).
        return context.get(name, "") if name.startswith("secrets.") else context[name]

    return EXPRESSION.sub(lookup, str(value))


def run_action(
    ws: Workspace,
    github: FakeGitHub,
    workflow: str,
    *,
    event: str,
    secrets: Mapping[str, str],
    github_token: str = WRITE_GH,
    inputs: Mapping[str, str] | None = None,
    checkout: Path | None = None,
) -> ActionRun:
    """Run the action step of `workflow` as the runner would, in a fresh step environment."""
    step = _action_step(workflow)
    action = _load(ROOT / "action.yml")
    job_dir = ws.root.parent / f"runner-{len(list(ws.root.parent.glob('runner-*')))}"
    job_dir.mkdir()
    event_path = job_dir / "event.json"
    payload = {"pull_request": {"number": PR}} if event == "pull_request" else {"ref": "main"}
    event_path.write_text(json.dumps(payload))
    summary, outputs = job_dir / "summary.md", job_dir / "output"
    summary.touch()
    outputs.touch()
    github_env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_API_URL": github.url,
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_WORKSPACE": str(checkout or ws.root),
        "GITHUB_ACTION_PATH": str(ROOT),
        "RUNNER_TEMP": str(job_dir),
    }
    base = {k: v for k, v in ws.env.items() if k not in ("HF_TOKEN", "GEMINI_API_KEY")}
    context = {f"secrets.{k}": v for k, v in secrets.items()}
    step_env = {k: _evaluate(v, context) for k, v in step.get("env", {}).items()}
    given = {**step["with"], **(inputs or {})}
    context = {
        **{
            f"inputs.{k}": str(given.get(k, v.get("default", "")))
            for k, v in action["inputs"].items()
        },
        "github.token": github_token,
        "steps.install.outputs.python": sys.executable,
    }
    context = {k: _evaluate(v, context) for k, v in context.items()}
    log, code = [], 0
    for action_step in action["runs"]["steps"]:
        if "run" not in action_step or action_step.get("id") == "install":
            continue
        env = {
            **base,
            **github_env,
            **step_env,
            **{k: _evaluate(v, context) for k, v in action_step.get("env", {}).items()},
        }
        cwd = Path(github_env["GITHUB_WORKSPACE"]) / _evaluate(
            action_step.get("working-directory", "."), context
        )
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", action_step["run"]],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        log.append(proc.stdout + proc.stderr)
        code = proc.returncode
        if code:
            break
    text = "".join(log)
    assert CANARY not in text and CANARY not in summary.read_text(), "a secret leaked"
    assert "Traceback" not in text, text
    return ActionRun(code, text, summary.read_text(), outputs.read_text())


SECRETS = {"HF_TOKEN_READ": READ_TOKEN, "HF_TOKEN": BOT_TOKEN, "GEMINI_API_KEY": CANARY}
# Two Spaces keep an apply (with --wait for their builds) or a preview short.
TWO_SPACES = (
    "version: 1\nowner: ifcore-org\nspaces:\n"
    "  docs: {sdk: static, source: ./apps/docs}\n"
    "  team-a: {sdk: gradio, source: ./apps/team-template}\n"
)


def _plan_comments(github: FakeGitHub) -> list[dict[str, Any]]:
    return [c for c in github.comments_on(PR) if "<!-- spacectl-plan: spaces.yaml -->" in c["body"]]


def test_action_passes_inputs_through_env_only() -> None:
    """An expression inside `run:` is pasted into the script before bash sees it (injection)."""
    for step in _load(ROOT / "action.yml")["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step


def test_readme_workflow_is_the_example_plan_workflow() -> None:
    """The README's CI snippet uses the action as examples/github-actions/plan.yml does."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## CI with the GitHub Action") :]
    start = section.index("```yaml\n") + len("```yaml\n")
    snippet = section[start : section.index("\n```", start)]
    [step] = [s for s in read_manifest_document(snippet)["jobs"]["plan"]["steps"] if "with" in s]
    example = _action_step("plan.yml")
    assert step["uses"] == example["uses"] and step["with"] == example["with"]
    assert step["env"].items() <= example["env"].items()


def test_pull_request_comment_is_created_once_then_updated(
    workspace: Workspace, github: FakeGitHub
) -> None:
    ws = workspace
    human = github.add_comment(PR, "Looks good to me")

    first = run_action(ws, github, "plan.yml", event="pull_request", secrets=SECRETS)
    assert first.code == 0, first.log
    [comment] = _plan_comments(github)
    assert comment["body"].startswith("<!-- spacectl-plan: spaces.yaml -->\n")
    assert (
        "spacectl plan for `spaces.yaml`: 6 to create, 0 to update, 0 to delete" in comment["body"]
    )
    assert "+ ifcore-org/platform" in comment["body"]
    assert "https://github.example/ifcore-org/spaces/actions/runs/4242" in comment["body"]
    assert "### spacectl plan: `spaces.yaml`" in first.summary  # the CLI's step summary
    assert "changes=true" in first.outputs
    assert "::group::Plan of spaces.yaml: 6 to create" in first.log

    # A second push: the pull request now drops team-c. Same comment, edited in place.
    text = ws.manifest.read_text()
    start, end = text.index("  team-c:\n"), text.index("  # Static documentation")
    ws.manifest.write_text(text[:start] + text[end:])
    second = run_action(ws, github, "plan.yml", event="pull_request", secrets=SECRETS)
    assert second.code == 0, second.log
    [updated] = _plan_comments(github)
    assert updated["id"] == comment["id"]
    assert "5 to create, 0 to update, 0 to delete" in updated["body"]
    assert "team-c" not in updated["body"]
    assert github.comments[human]["body"] == "Looks good to me"
    assert len(github.comments_on(PR)) == 2
    assert [r for r in github.requests if r[0] != "GET"] == [
        ("POST", f"/repos/{REPOSITORY}/issues/{PR}/comments"),
        ("PATCH", f"/repos/{REPOSITORY}/issues/comments/{comment['id']}"),
    ]


def test_drift_issue_is_opened_then_closed_after_apply(
    workspace: Workspace, github: FakeGitHub
) -> None:
    ws = workspace
    ws.manifest.write_text(TWO_SPACES)
    for _ in range(2):  # a second run updates the same issue
        drift = run_action(ws, github, "drift.yml", event="schedule", secrets=SECRETS)
        assert drift.code == 0, drift.log
        [issue] = github.plain_issues()
        assert issue["state"] == "open"
        assert "<!-- spacectl-drift: spaces.yaml -->" in issue["body"]
        assert "2 to create, 0 to update, 0 to delete" in issue["title"]
        assert "changes=true" in drift.outputs

    applied = run_action(ws, github, "apply.yml", event="push", secrets=SECRETS)
    assert applied.code == 0, applied.log
    assert "Apply complete: 2 applied" in applied.log
    assert "Apply complete: 2 applied" in applied.summary
    assert "::group::spacectl apply: plan of spaces.yaml" in applied.log

    gone = run_action(ws, github, "drift.yml", event="schedule", secrets=SECRETS)
    assert gone.code == 0, gone.log
    [issue] = github.plain_issues()
    assert issue["state"] == "closed"
    assert "No drift any more" in github.comments_on(issue["number"])[-1]["body"]
    assert "changes=false" in gone.outputs


def test_broken_manifest_is_an_error_annotation_on_its_line(
    workspace: Workspace, github: FakeGitHub
) -> None:
    ws = workspace
    lines = ws.manifest.read_text().splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if "sdk: docker" in line)
    lines[number] = lines[number].replace("sdk: docker", "sdk: dockerr")
    ws.manifest.write_text("".join(lines))

    # The repository checked out one level up, spacectl run in its `repo` folder: the
    # annotation's path is the checkout's.
    run = run_action(
        ws,
        github,
        "plan.yml",
        event="pull_request",
        secrets=SECRETS,
        inputs={"working-directory": ws.root.name},
        checkout=ws.root.parent,
    )
    assert run.code == 1, run.log
    assert f"::error file={ws.root.name}/spaces.yaml,line={number + 1},col=" in run.log
    assert "::spaces.platform.sdk: Input should be" in run.log
    [comment] = _plan_comments(github)
    assert "failed" in comment["body"]


@pytest.mark.parametrize(
    "manifest",
    [
        "without-secrets",
        "example",
    ],
)
def test_fork_pull_request_plans_without_secrets(
    workspace: Workspace, github: FakeGitHub, manifest: str
) -> None:
    """A pull request from a fork: no repository secrets, a read-only GITHUB_TOKEN. The plan
    still runs and lands in the step summary; the comment it cannot post is a warning."""
    ws = workspace
    if manifest == "without-secrets":
        text = ws.manifest.read_text()
        start, end = text.index("    secrets:\n"), text.index("    card: # merged into")
        ws.manifest.write_text(text[:start] + text[end:])
    run = run_action(
        ws,
        github,
        "plan.yml",
        event="pull_request",
        secrets={"HF_TOKEN_READ": READ_TOKEN},
        github_token=READ_GH,
    )
    assert run.code == 0, run.log
    assert "**6** to create" in run.summary
    assert f"::warning::could not comment the plan of spaces.yaml on pull request #{PR}" in run.log
    assert github.comments_on(PR) == []


def test_fork_pull_request_without_a_hub_token_validates_only(
    workspace: Workspace, github: FakeGitHub
) -> None:
    """GitHub passes a fork's pull request no secrets at all: no Hub token, so no plan; the
    manifest is still checked offline and the job says why it did not plan."""
    ws = workspace
    text = ws.manifest.read_text()
    start, end = text.index("    secrets:\n"), text.index("    card: # merged into")
    ws.manifest.write_text(text[:start] + text[end:])
    ws.sandbox.clear_requests()
    run = run_action(ws, github, "plan.yml", event="pull_request", secrets={}, github_token=READ_GH)
    assert run.code == 0, run.log
    assert "spaces.yaml: valid (7 Spaces)" in run.log
    assert "::warning::No Hub token" in run.log and "validated offline" in run.summary
    assert ws.sandbox.requests() == [] and github.requests == []


def test_workflow_commands_are_escaped() -> None:
    """A value can neither end a command early nor start another line of commands."""
    line = workflow_command("error", "50% done\r\n::warning::x", file="a,b:c.yaml", line="3")
    assert line == "::error file=a%2Cb%3Ac.yaml,line=3::50%25 done%0D%0A::warning::x"


def test_a_long_plan_is_folded_and_cut_under_the_comment_limit() -> None:
    short = "### plan\n\n```diff\n+ a\n```\n"
    assert "<details>" not in compose("head", short, "LOG")
    long = "### plan\n\n```diff\n" + "".join(f"+ space-{i} {'x' * 80}\n" for i in range(2000))
    long += "```\n"
    body = compose("<!-- m -->\nhead", long, "https://github.example/o/r/actions/runs/1")
    assert len(body) <= BODY_LIMIT
    assert body.startswith("<!-- m -->\nhead\n\n<details><summary>")
    assert body.count("```") % 2 == 0  # the cut code block is closed
    assert "**Plan truncated**" in body and "(https://github.example/o/r/actions/runs/1)" in body
    assert body.rstrip().endswith("</sub>")
    assert len(long.splitlines()) > FOLD_LINES


def test_pre_commit_hook_validates_several_manifests_at_once(tmp_path: Path) -> None:
    """The hook's entry with the files pre-commit passes: each is reported, exit 1 if any fails."""
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    [hook] = [h for h in hooks if h["id"] == "spacectl-validate"]
    names = ["spaces.yaml", "infra/spaces.yml", "myspaces.yaml", "spaces.yaml.bak"]
    assert [n for n in names if re.search(hook["files"], n)] == names[:2]

    good = "version: 1\nowner: ifcore-org\nspaces:\n  docs: {sdk: static}\n"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "spaces.yaml").write_text(good)
    (tmp_path / "b" / "spaces.yml").write_text(good.replace("static", "statik"))
    (tmp_path / "spaces.yaml").write_text(good)
    args = ["a/spaces.yaml", "b/spaces.yml", "spaces.yaml"]
    entry = hook["entry"].split()
    assert entry[0] == "spacectl"
    proc = subprocess.run(
        [sys.executable, "-m", "spacectl", *entry[1:], *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout == "a/spaces.yaml: valid (1 Spaces)\nspaces.yaml: valid (1 Spaces)\n"
    assert proc.stderr.startswith("Error: b/spaces.yml:4:10: spaces.docs.sdk: Input should be")
    assert "Traceback" not in proc.stderr


def _preview_comments(github: FakeGitHub) -> list[dict[str, Any]]:
    marker = "<!-- spacectl-preview: spaces.yaml -->"
    return [c for c in github.comments_on(PR) if marker in c["body"]]


def test_preview_comment_shows_the_urls_and_is_updated_in_place(
    workspace: Workspace, github: FakeGitHub
) -> None:
    ws = workspace
    ws.manifest.write_text(TWO_SPACES)
    secrets = {"HF_TOKEN": BOT_TOKEN}
    first = run_action(ws, github, "preview.yml", event="pull_request", secrets=secrets)
    assert first.code == 0, first.log
    [comment] = _preview_comments(github)
    body = comment["body"]
    assert "### spacectl preview `pr-7` of `spaces.yaml`" in body
    for name in ("docs", "team-a"):
        url = f"{ws.sandbox.endpoint}/spaces/ifcore-org/{name}-pr-{PR}"
        assert f"| `ifcore-org/{name}-pr-{PR}` | `ifcore-org/{name}` | [page]({url}) |" in body

    # A push to the pull request: the same comment, edited; the copies updated, not duplicated.
    app = ws.root / "apps" / "team-template" / "app.py"
    app.write_text(app.read_text() + "\n# pushed to the pull request\n")
    ws.sandbox.clear_requests()
    second = run_action(ws, github, "preview.yml", event="pull_request", secrets=secrets)
    assert second.code == 0, second.log
    [updated] = _preview_comments(github)
    assert updated["id"] == comment["id"]
    commits = [w["path"] for w in ws.writes() if "/commit/" in str(w["path"])]
    assert commits == [f"/api/spaces/ifcore-org/team-a-pr-{PR}/commit/main"]

    closed = run_action(ws, github, "preview-down.yml", event="pull_request", secrets=secrets)
    assert closed.code == 0, closed.log
    [gone] = _preview_comments(github)
    assert gone["id"] == comment["id"]
    assert "`pr-7` of `spaces.yaml`: deleted" in gone["body"]
    assert "2 preview Space(s) deleted" in gone["body"]
    assert [r for r in github.requests if r[0] != "GET"] == [
        ("POST", f"/repos/{REPOSITORY}/issues/{PR}/comments"),
        ("PATCH", f"/repos/{REPOSITORY}/issues/comments/{comment['id']}"),
        ("PATCH", f"/repos/{REPOSITORY}/issues/comments/{comment['id']}"),
    ]
    left = {s.id for s in HfApi(endpoint=ws.sandbox.endpoint, token=BOT_TOKEN).list_spaces()}
    assert not {f"ifcore-org/docs-pr-{PR}", f"ifcore-org/team-a-pr-{PR}"} & left
