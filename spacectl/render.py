"""Text, JSON and Markdown renderers. Every renderer reads the one plan dict (`plan_to_dict`),
so the three formats can never disagree. Pure: they return strings; the CLI prints them.

Secrets appear only as `(sensitive value)`: the plan dict holds no value to print anyway.
Every value that came from outside (file names, Hub answers, manifest strings) is escaped
(`spacectl.escape`): control characters as escapes in every format, Markdown neutralised in
the pull-request comment, code fences longer than any backtick run in the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from spacectl.escape import code_fence, code_span, json_text, markdown_text, printable
from spacectl.plan import Plan
from spacectl.planjson import plan_to_dict
from spacectl.results import ApplyResult, Outcome, WaitResult
from spacectl.state import logs_command

MAX_FILE_LINES = 20
_SYMBOLS = {"create": "+", "update": "~", "delete": "-", "no-op": " "}
_COLORS = {"create": "32", "update": "33", "delete": "31", "no-op": "0"}
_HEADLINES = {
    "create": "will be created",
    "update": "will be updated in-place",
    "delete": "will be deleted",
    # A Space with nothing to do is shown only for what could not be verified (a secret whose
    # variable is not set).
    "no-op": "has nothing to change, as far as could be verified",
}


def _paint(text: str, action: str, color: bool) -> str:
    return f"\033[{_COLORS[action]}m{text}\033[0m" if color and action != "no-op" else text


def _value(value: Any) -> str:
    return json_text(value, indent=None)


def _field_line(field: dict[str, Any], width: int, color: bool) -> str:
    action = field["action"]
    symbol = _paint(_SYMBOLS[action], action, color)
    path = printable(field["path"]).ljust(width)
    note = f"  # {printable(field['reason'])}" if field.get("reason") else ""
    if field.get("sensitive"):
        return f"      {symbol} {path} = (sensitive value){note}"
    if action == "create":
        return f"      {symbol} {path} = {_value(field.get('after'))}{note}"
    if action == "delete":
        before = f" = {_value(field['before'])}" if "before" in field else ""
        return f"      {symbol} {path}{before}{note}"
    change = f"{_value(field.get('before'))} -> {_value(field.get('after'))}"
    return f"      {symbol} {path} = {change}{note}"


def _summary(counts: dict[str, int]) -> str:
    return (
        f"Plan: {counts['create']} to create, {counts['update']} to update, "
        f"{counts['delete']} to delete, {counts['no-op']} unchanged."
    )


def _space_lines(data: dict[str, Any], color: bool) -> list[str]:
    """The per-Space blocks of the text plan: the Spaces that change, and those showing a value
    that could not be verified (empty when there are neither)."""
    lines: list[str] = []
    for space in (s for s in data["spaces"] if s["operations"] or s["fields"]):
        action = space["action"]
        space_id = printable(space["id"])
        lines.append(f"  # {space_id} {_HEADLINES[action]}")
        lines.append(f"  {_paint(_SYMBOLS[action], action, color)} {space_id}")
        fields = [f for f in space["fields"] if f["path"] != "space"]
        shown = [f for f in fields if not f["path"].startswith("files/")]
        files = [f for f in fields if f["path"].startswith("files/")]
        width = max((len(printable(f["path"])) for f in shown + files[:MAX_FILE_LINES]), default=0)
        lines.extend(_field_line(f, width, color) for f in shown)
        lines.extend(_field_line(f, width, color) for f in files[:MAX_FILE_LINES])
        if len(files) > MAX_FILE_LINES:
            lines.append(
                f"        ... and {len(files) - MAX_FILE_LINES} more file change(s) "
                "(--format json lists all)"
            )
        lines.append("")
    return lines


def _ignored_lines(data: dict[str, Any], code: str = "") -> list[str]:
    """One line per Space whose differences `ignore_changes` left alone (the paths only: an
    ignored secret shows its name, never a value). `code` quotes ids and paths (Markdown)."""

    def quoted(text: str) -> str:
        return code_span(text) if code else printable(text)

    return [
        f"Ignored (ignore_changes) in {quoted(space['id'])}: "
        + ", ".join(quoted(path) for path in space["ignored"])
        for space in data["spaces"]
        if space.get("ignored")
    ]


_UNVERIFIED = "The Hub matches the manifest as far as could be verified"


def render_text(plan: Plan, *, color: bool = False, verbose: bool = False) -> str:
    data = plan_to_dict(plan)
    blocks = _space_lines(data, color)
    if data["has_changes"]:
        lines = ["spacectl will perform the following actions:", "", *blocks]
    elif blocks:
        lines = [f"No changes. {_UNVERIFIED}:", "", *blocks]
    else:
        lines = ["No changes. The Hub matches the manifest."]
    if data["environment"]:
        lines.insert(0, f"Environment: {printable(data['environment'])}")
    if verbose:
        for space in data["spaces"]:
            if not space["operations"]:
                reason = f" ({printable(space['reason'])})" if space["reason"] else ""
                lines.append(f"    {printable(space['id'])}: no changes{reason}")
    lines.append(_summary(data["summary"]))
    lines.extend(_ignored_lines(data))
    lines.extend(f"Warning: {printable(warning)}" for warning in data["warnings"])
    return "\n".join(lines) + "\n"


def render_json(plan: Plan) -> str:
    return json_text(plan_to_dict(plan)) + "\n"


def render_markdown(plan: Plan) -> str:
    """A pull-request comment: the summary, then the plan in a diff block, then warnings."""
    data = plan_to_dict(plan)
    counts = data["summary"]
    env = f" (environment {code_span(data['environment'])})" if data["environment"] else ""
    lines = [f"### spacectl plan: {code_span(PurePath(data['manifest']).name)}{env}", ""]
    blocks = _space_lines(data, False)
    if not data["has_changes"]:
        lines.append(
            f"**No changes.** {_UNVERIFIED}."
            if blocks
            else "**No changes.** The Hub matches the manifest."
        )
    else:
        lines.append(
            f"**{counts['create']}** to create, **{counts['update']}** to update, "
            f"**{counts['delete']}** to delete, {counts['no-op']} unchanged."
        )
        deleted = [s["id"] for s in data["spaces"] if s["action"] == "delete"]
        if deleted:
            # A deletion is not undone by another apply: say it before the diff, not only in it.
            names = ", ".join(code_span(space_id) for space_id in deleted)
            lines += [
                "",
                f"> [!CAUTION]\n> Deletes {len(deleted)} Space(s) and their files: {names}",
            ]
    if blocks:
        diff = [_diff_line(line) for line in blocks]
        fence = code_fence(diff)
        lines += ["", f"{fence}diff", *diff, fence]
    lines += [f"\n{line}" for line in _ignored_lines(data, "`")]
    for warning in data["warnings"]:
        lines += ["", f"> [!WARNING]\n> {markdown_text(warning)}"]
    return "\n".join(lines) + "\n"


def _diff_line(line: str) -> str:
    """Move the change symbol to column 0 so GitHub colours the line (`~` becomes `!`)."""
    stripped = line.lstrip()
    if stripped[:2] in ("+ ", "- ", "~ "):
        symbol = "!" if stripped[0] == "~" else stripped[0]
        return symbol + line[1:]
    return line


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}


def render_apply_result(result: ApplyResult, title: str = "Apply complete") -> str:
    lines = []
    counts = {outcome: 0 for outcome in Outcome}
    for space in result.spaces:
        counts[space.outcome] += 1
        if space.outcome is Outcome.APPLIED:
            lines.append(
                f"  {printable(space.space_id)}: applied {len(space.operations_done)} change(s)"
            )
            lines.extend(f"      note: {printable(note)}" for note in space.notes)
        elif space.outcome in (Outcome.FAILED, Outcome.REFUSED):
            done = f" after {len(space.operations_done)} change(s)" if space.operations_done else ""
            error = printable(space.error or "")
            lines.append(f"  {printable(space.space_id)}: {space.outcome.value}{done}: {error}")
            if space.hint:
                lines.append(f"      hint: {printable(space.hint)}")
    lines.append(
        f"{title}: {counts[Outcome.APPLIED]} applied, {counts[Outcome.UNCHANGED]} "
        f"unchanged, {counts[Outcome.FAILED]} failed, {counts[Outcome.REFUSED]} refused."
    )
    return "\n".join(lines) + "\n"


_STAGE_FIXES = {
    "NO_APP_FILE": "the Space has no app to run: add a Dockerfile (docker) or the app_file "
    "(gradio, streamlit; default app.py) to its source",
    "CONFIG_ERROR": "the README front matter is not a valid Space configuration: "
    "`spacectl doctor` checks it",
    "BUILD_ERROR": "the build failed: the log above says why",
    "RUNTIME_ERROR": "the app crashed after starting",
}


def render_wait(results: list[WaitResult], urls: Mapping[str, tuple[str, str | None]]) -> str:
    lines = []
    for wait in results:
        status = "running" if wait.ok else f"{wait.stage}"
        if wait.check_url:
            verdict = "passed" if wait.ok else "failed"
            status += f", healthcheck {verdict} ({wait.check_url}: {wait.check_status})"
        lines.append(f"  {printable(wait.space_id)}: {printable(str(status))}")
        if not wait.ok:
            if wait.error_message:
                lines.append(f"      error: {printable(wait.error_message)}")
            lines.extend(f"      | {printable(line.rstrip())}" for line in wait.log_tail)
            if wait.stage in _STAGE_FIXES:
                lines.append(f"      fix: {_STAGE_FIXES[wait.stage]}")
            lines.append(f"      more: {logs_command(wait.space_id, wait.stage)}")
    for space_id, (page, app) in urls.items():
        lines.append(f"  {space_id}: {page}" + (f"  (app: {app})" if app else ""))
    return "\n".join(lines) + "\n"


def apply_result_to_dict(result: ApplyResult) -> dict[str, Any]:
    """`apply --format json`: each Space's outcome, the operations done, the commit made and,
    for a failed or refused Space, the error and its hint (the text summary's content)."""
    return {
        "spaces": [
            {
                "id": space.space_id,
                "outcome": space.outcome.value,
                "operations_done": list(space.operations_done),
                "committed": space.committed,
                "error": space.error,
                "hint": space.hint,
                "notes": list(space.notes),
            }
            for space in result.spaces
        ],
        "summary": {
            outcome.value: sum(1 for s in result.spaces if s.outcome is outcome)
            for outcome in Outcome
        },
    }


def wait_results_to_dict(
    results: list[WaitResult], urls: Mapping[str, tuple[str, str | None]]
) -> list[dict[str, Any]]:
    """`apply --wait --format json`: where each waited-for Space stands (render_wait's content)."""
    return [
        {
            "id": wait.space_id,
            "stage": wait.stage,
            "ok": wait.ok,
            "error_message": wait.error_message,
            "healthcheck": {"url": wait.check_url, "status": wait.check_status}
            if wait.check_url
            else None,
            "log_tail": [line.rstrip() for line in wait.log_tail],
            "fix": None if wait.ok else _STAGE_FIXES.get(wait.stage or ""),
            "page_url": urls[wait.space_id][0] if wait.space_id in urls else None,
            "app_url": urls[wait.space_id][1] if wait.space_id in urls else None,
        }
        for wait in results
    ]
