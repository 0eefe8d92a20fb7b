"""The composite GitHub Action's driver: `action.yml` runs `python -m spacectl.ci.github`.

It runs the `spacectl` CLI once per manifest and talks to GitHub's REST API (urllib, no
dependency) with the action's `github-token`:

- `plan` (on `pull_request`): `spacectl plan --format json --detailed-exitcode`, then ONE comment
  per manifest on the pull request, found again by a hidden marker and edited in place on every
  push; its title counts what would be created, updated and deleted, a long plan is folded
  under `<details>`, and a plan over GitHub's comment limit is cut with a link to the job log.
  A token that may not comment (a pull request from a fork) is a warning, not a failure.
- `apply` (on push to the default branch): `spacectl apply --yes --wait`, output streamed.
- `drift` (scheduled): `spacectl plan --detailed-exitcode`; changes open or update ONE issue
  per manifest (marker again); no changes close it.
- `preview` (pull request opened or pushed to): `spacectl preview up pr-N --format json`, then
  ONE comment per manifest with the preview's URLs, edited in place on every push.
- `preview-down` (pull request closed): `spacectl preview down pr-N`; the same comment then
  says the preview was deleted.

Configuration, from the environment the action sets (its inputs) and the runner's:
SPACECTL_COMMAND, SPACECTL_MANIFESTS (paths separated by spaces or newlines),
SPACECTL_GITHUB_TOKEN; GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_EVENT_NAME, GITHUB_EVENT_PATH,
GITHUB_SERVER_URL, GITHUB_RUN_ID, GITHUB_OUTPUT. The Hub credential is the CLI's own business
(HF_TOKEN); with SPACECTL_OIDC=true (the `oidc` input) every command runs keyless (`--oidc`: the
job's id token, from `permissions: id-token: write`, exchanged per Space).

Exit code: 0 when every manifest planned (with or without changes) or applied, 1 otherwise.
Secret values never pass through here: plans carry none.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from spacectl.ci.workflow import append_step_summary, workflow_command

# GitHub refuses a comment or issue body longer than this many characters.
BODY_LIMIT = 65_536
# A plan longer than this many lines is folded under <details>.
FOLD_LINES = 20
PER_PAGE = 100
PLAN_MARKER = "<!-- spacectl-plan: {path} -->"
DRIFT_MARKER = "<!-- spacectl-drift: {path} -->"
PREVIEW_MARKER = "<!-- spacectl-preview: {path} -->"
# Any of these lets spacectl read the Hub (HF_OIDC_RESOURCE: room for a keyless credential).
HUB_CREDENTIALS = ("HF_TOKEN", "HF_OIDC_RESOURCE")
# In keyless mode: an id token can be minted (the job has `id-token: write`) or was given.
KEYLESS_CREDENTIALS = ("ACTIONS_ID_TOKEN_REQUEST_URL", "HF_OIDC_ID_TOKEN")


class GitHubError(Exception):
    """GitHub answered a request with an error status (or could not be reached)."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(f"{status or 'no answer'}: {message}")
        self.status = status


class GitHub:
    """The few REST calls the action makes, on one repository (`owner/name`)."""

    def __init__(self, api_url: str, repository: str, token: str) -> None:
        self.base = f"{api_url.rstrip('/')}/repos/{repository}"
        self.token = token

    def call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """One request; the decoded JSON answer. Raises GitHubError on any error status."""
        request = urllib.request.Request(
            self.base + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                "User-Agent": "spacectl-action",
                "X-GitHub-Api-Version": "2022-11-28",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            with contextlib.suppress(ValueError, AttributeError):  # not GitHub's JSON error
                detail = str(json.loads(detail).get("message", detail))
            raise GitHubError(exc.code, f"{method} {path}: {detail[:200]}") from None
        except OSError as exc:
            raise GitHubError(None, f"{method} {path}: {exc}") from None
        return json.loads(raw) if raw else None

    def paged(self, path: str) -> Iterator[dict[str, Any]]:
        """Every item of a listing, page by page."""
        sep = "&" if "?" in path else "?"
        page = 1
        while True:
            items = self.call("GET", f"{path}{sep}per_page={PER_PAGE}&page={page}")
            yield from items
            if len(items) < PER_PAGE:
                return
            page += 1

    def find(self, path: str, marker: str) -> dict[str, Any] | None:
        """The first item of a listing whose body carries `marker` (never a pull request: the
        issue listing has them too)."""
        return next(
            (
                item
                for item in self.paged(path)
                if marker in (item.get("body") or "") and "pull_request" not in item
            ),
            None,
        )


@dataclass(frozen=True)
class Run:
    """One `spacectl` run: exit code, stdout (stderr went to the job log as it came)."""

    code: int
    out: str


def spacectl(args: Sequence[str], *, capture: bool) -> Run:
    """Run the CLI of this interpreter's spacectl (the one the action installed)."""
    proc = subprocess.run(
        [sys.executable, "-m", "spacectl", *args],
        stdout=subprocess.PIPE if capture else None,
        text=True,
        check=False,
    )
    return Run(proc.returncode, proc.stdout or "")


@dataclass(frozen=True)
class PlanReport:
    """A plan as the comment and the issue show it."""

    has_changes: bool
    title: str
    markdown: str
    text: str  # for the job log, as `spacectl plan` prints it


def plan_report(plan_json: str) -> PlanReport:
    """The counts and the Markdown of a `plan --format json` (rendered as `--format markdown`
    would, from the one JSON plan, so the comment and the summary agree; without its heading)."""
    from spacectl.planjson import plan_from_dict
    from spacectl.render import render_markdown, render_text

    data = json.loads(plan_json)
    counts = data["summary"]
    title = (
        f"{counts['create']} to create, {counts['update']} to update, {counts['delete']} to delete"
        if data["has_changes"]
        else "no changes"
    )
    plan = plan_from_dict(data)
    markdown = render_markdown(plan)
    # The comment's and the issue's own title name the manifest: drop the renderer's heading.
    first, _, rest = markdown.partition("\n")
    if first.startswith("#"):
        markdown = rest.lstrip("\n")
    return PlanReport(bool(data["has_changes"]), title, markdown, render_text(plan))


def compose(head: str, markdown: str, log_url: str, limit: int = BODY_LIMIT) -> str:
    """`head`, then the plan (folded under <details> when long), then a link to the job log;
    cut at a line (closing an open code block) to stay under GitHub's `limit`."""
    lines = markdown.rstrip("\n").split("\n")
    footer = f"\n\n<sub>[Job log]({log_url})</sub>\n"
    cut_note = (
        "\n\n**Plan truncated** to fit a GitHub comment: the whole plan is in the "
        f"[job log]({log_url})."
    )

    def body(kept: list[str], cut: bool) -> str:
        text = "\n".join(kept)
        # A fence is as long as the plan needs (longer than any backtick run in its data).
        fences = [m.group() for line in kept if (m := re.match(r"`{3,}", line))]
        if cut and len(fences) % 2:
            text += "\n" + fences[-1]
        if cut:
            text += cut_note
        if len(lines) > FOLD_LINES:
            text = f"<details><summary>Show plan</summary>\n\n{text}\n\n</details>"
        return f"{head}\n\n{text}{footer}"

    full = body(lines, False)
    if len(full) <= limit:
        return full
    # Drop whole lines until it fits (a bisection would be faster; plans are short enough).
    budget = limit - len(body([], True))
    kept: list[str] = []
    for line in lines:
        budget -= len(line) + 1
        if budget < 0:
            break
        kept.append(line)
    return body(kept, True)


def _safe_path(path: str) -> str:
    """A manifest path as it appears in a marker and a title (no HTML comment end, no tick)."""
    return path.replace("--", "-\u200b-").replace("`", "'").replace("<", "").replace(">", "")


class Action:
    """The action for one job: the environment read once."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.manifests = environ.get("SPACECTL_MANIFESTS", "spaces.yaml").split()
        server = environ.get("GITHUB_SERVER_URL", "https://github.com")
        repository = environ.get("GITHUB_REPOSITORY", "")
        self.log_url = f"{server}/{repository}/actions/runs/{environ.get('GITHUB_RUN_ID', '')}"
        self.github = GitHub(
            environ.get("GITHUB_API_URL", "https://api.github.com"),
            repository,
            environ.get("SPACECTL_GITHUB_TOKEN", ""),
        )
        keyless = environ.get("SPACECTL_OIDC", "").strip().lower() == "true"
        self.hub_flags = ["--oidc"] if keyless else []
        self.credentials = HUB_CREDENTIALS + (KEYLESS_CREDENTIALS if keyless else ())

    def plan(self) -> int:
        """Plan each manifest; on a pull request, put each plan in its comment. Without a Hub
        credential (a pull request from a fork gets no secrets) only validate, and say so."""
        if not any(self.environ.get(name) for name in self.credentials):
            return self._validate_only()
        number = self._pull_request_number()
        failed = changed = False
        for path in self.manifests:
            run = spacectl(
                ["plan", "-f", path, "--format", "json", "--detailed-exitcode", *self.hub_flags],
                capture=True,
            )
            if run.code not in (0, 2):
                failed = True
                report = PlanReport(
                    False, "failed", "spacectl could not plan: see the job log.", ""
                )
            else:
                report = plan_report(run.out)
                changed |= report.has_changes
                _log_group(f"Plan of {path}: {report.title}", report.text)
            if number is not None:
                self._comment(number, path, report)
        self._output("changes", "true" if changed else "false")
        return 1 if failed else 0

    def _validate_only(self) -> int:
        note = (
            "No Hub token (HF_TOKEN is empty, as on a pull request from a fork, which gets no "
            "secrets): the manifests were validated offline, not planned."
        )
        print(workflow_command("warning", note), flush=True)
        append_step_summary(f"### spacectl\n\n{note}\n")
        codes = [spacectl(["validate", path], capture=False).code for path in self.manifests]
        return 1 if any(codes) else 0

    def apply(self) -> int:
        """Apply each manifest, in the order given; every one is tried."""
        codes = [
            spacectl(["apply", "-f", path, "--yes", "--wait", *self.hub_flags], capture=False).code
            for path in self.manifests
        ]
        return 1 if any(codes) else 0

    def drift(self) -> int:
        """Plan each manifest; open or update its drift issue on changes, close it on none."""
        failed = changed = False
        for path in self.manifests:
            run = spacectl(
                ["plan", "-f", path, "--format", "json", "--detailed-exitcode", *self.hub_flags],
                capture=True,
            )
            if run.code not in (0, 2):
                failed = True  # an error says nothing about drift: leave the issue as it is
                continue
            report = plan_report(run.out)
            changed |= report.has_changes
            _log_group(f"Plan of {path}: {report.title}", report.text)
            self._drift_issue(path, report)
        self._output("changes", "true" if changed else "false")
        return 1 if failed else 0

    def preview(self) -> int:
        """Create or update the pull request's preview of each manifest; comment its URLs."""
        return self._preview("up")

    def preview_down(self) -> int:
        """Delete the pull request's preview of each manifest; say so in its comment."""
        return self._preview("down")

    def _preview(self, verb: str) -> int:
        number = self._pull_request_number()
        if number is None:
            print(workflow_command("error", "preview runs on pull_request events"), flush=True)
            return 1
        if not any(self.environ.get(name) for name in HUB_CREDENTIALS):
            print(
                workflow_command(
                    "warning", "No Hub token (a pull request from a fork): no preview made."
                ),
                flush=True,
            )
            return 0
        preview_id = f"pr-{number}"
        failed = False
        for path in self.manifests:
            run = spacectl(
                ["preview", verb, preview_id, "-f", path, "--format", "json"], capture=True
            )
            failed |= run.code != 0
            body = preview_comment(verb, preview_id, path, run, self.log_url)
            self._upsert(
                number, PREVIEW_MARKER.format(path=_safe_path(path)), body, create=verb == "up"
            )
        return 1 if failed else 0

    def _upsert(self, number: int, marker: str, body: str, *, create: bool = True) -> None:
        """Edit the pull request's comment carrying `marker`, or post it (when `create`)."""
        found = self.github.find(f"/issues/{number}/comments", marker)
        if found is not None:
            self.github.call("PATCH", f"/issues/comments/{found['id']}", {"body": body})
        elif create:
            self.github.call("POST", f"/issues/{number}/comments", {"body": body})

    def _pull_request_number(self) -> int | None:
        if self.environ.get("GITHUB_EVENT_NAME") not in ("pull_request", "pull_request_target"):
            return None
        with open(self.environ["GITHUB_EVENT_PATH"], encoding="utf-8") as event:
            return int(json.load(event)["pull_request"]["number"])

    def _comment(self, number: int, path: str, report: PlanReport) -> None:
        marker = PLAN_MARKER.format(path=_safe_path(path))
        head = f"{marker}\n### spacectl plan for `{_safe_path(path)}`: {report.title}"
        body = compose(head, report.markdown, self.log_url)
        try:
            self._upsert(number, marker, body)
        except GitHubError as exc:
            # A pull request from a fork runs with a read-only token: the plan is still in the
            # job summary and log, so this is no failure of the check.
            print(
                workflow_command(
                    "warning",
                    f"could not comment the plan of {path} on pull request #{number} ({exc}); "
                    "a pull request from a fork gets a read-only token: the plan is in the job "
                    "summary",
                ),
                flush=True,
            )

    def _drift_issue(self, path: str, report: PlanReport) -> None:
        marker = DRIFT_MARKER.format(path=_safe_path(path))
        found = self.github.find("/issues?state=open", marker)
        if not report.has_changes:
            if found is not None:
                self.github.call(
                    "POST",
                    f"/issues/{found['number']}/comments",
                    {
                        "body": f"No drift any more: the Hub matches `{_safe_path(path)}` "
                        f"([job log]({self.log_url}))."
                    },
                )
                self.github.call("PATCH", f"/issues/{found['number']}", {"state": "closed"})
            return
        head = f"{marker}\nThe live Hub differs from `{_safe_path(path)}`: {report.title}."
        body = compose(head, report.markdown, self.log_url)
        title = f"spacectl: drift in {_safe_path(path)} ({report.title})"
        if found is None:
            self.github.call("POST", "/issues", {"title": title, "body": body})
        else:
            self.github.call("PATCH", f"/issues/{found['number']}", {"title": title, "body": body})

    def _output(self, name: str, value: str) -> None:
        target = self.environ.get("GITHUB_OUTPUT")
        if target:
            with open(target, "a", encoding="utf-8") as out:
                out.write(f"{name}={value}\n")


def preview_comment(verb: str, preview_id: str, path: str, run: Run, log_url: str) -> str:
    """The pull request comment of one manifest's preview: its Spaces and URLs after `up`, what
    was deleted after `down`, or that it failed (the job log says why)."""
    marker = PREVIEW_MARKER.format(path=_safe_path(path))
    head = f"{marker}\n### spacectl preview `{preview_id}` of `{_safe_path(path)}`"
    try:
        data = json.loads(run.out) if run.code == 0 else None
    except json.JSONDecodeError:
        data = None
    if data is None:
        return f"{head}: failed\n\nSee the [job log]({log_url}).\n"
    if verb == "down":
        count = len(data.get("deleted", []))
        return f"{head}: deleted\n\n{count} preview Space(s) deleted ([job log]({log_url})).\n"
    lines = [f"{head}\n", "| Space | copy of | page | app |", "|---|---|---|---|"]
    for row in data.get("spaces", []):
        app = f"[app]({row['app_url']})" if row.get("app_url") else ""
        lines.append(
            f"| `{_safe_path(row['id'])}` | `{_safe_path(row['copy_of'])}` | "
            f"[page]({row['page_url']}) | {app} |"
        )
    lines.append(
        f"\nPrivate, on the cheapest hardware, without secrets unless the manifest's "
        f"`previews.secrets` lists them. [Job log]({log_url})."
    )
    return "\n".join(lines) + "\n"


def _log_group(title: str, text: str) -> None:
    """Print `text` in the job log, folded under `title`."""
    print(
        workflow_command("group", title), text, workflow_command("endgroup"), sep="\n", flush=True
    )


def main(environ: Mapping[str, str] = os.environ) -> int:
    """Run the command the action was given; the process exit code."""
    action = Action(environ)
    commands = {
        "plan": action.plan,
        "apply": action.apply,
        "drift": action.drift,
        "preview": action.preview,
        "preview-down": action.preview_down,
    }
    command = environ.get("SPACECTL_COMMAND", "")
    if command not in commands:
        names = ", ".join(commands)
        print(workflow_command("error", f"command must be one of {names}, not {command!r}"))
        return 1
    try:
        return commands[command]()
    except GitHubError as exc:
        print(workflow_command("error", f"GitHub API: {exc}"), flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
