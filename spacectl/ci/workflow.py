"""GitHub Actions workflow commands and files, as the CLI writes them when it runs as a step.

https://docs.github.com/actions/reference/workflow-commands-for-github-actions
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path


def github_actions(environ: Mapping[str, str] = os.environ) -> bool:
    """Running as a GitHub Actions step (the runner sets GITHUB_ACTIONS=true)."""
    return environ.get("GITHUB_ACTIONS") == "true"


def workflow_command(name: str, message: str = "", **properties: str) -> str:
    """One workflow command line, `::name k=v,...::message`, escaped as the runner expects
    (`%`, CR and LF in the message; those and `:` `,` in property values), so that a value can
    neither end the command early nor start another."""
    props = ",".join(f"{key}={_escape(value, True)}" for key, value in properties.items())
    return f"::{name}{' ' + props if props else ''}::{_escape(message, False)}"


def _escape(value: str, is_property: bool) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if is_property else value


def annotation_path(path: str, environ: Mapping[str, str] = os.environ) -> str:
    """`path` as GitHub resolves an annotation's `file=`: relative to the checkout
    ($GITHUB_WORKSPACE) when it lies inside it (a `working-directory` moves the CLI's cwd)."""
    checkout = environ.get("GITHUB_WORKSPACE")
    absolute = Path(path).absolute()
    if checkout and absolute.is_relative_to(Path(checkout).absolute()):
        return absolute.relative_to(Path(checkout).absolute()).as_posix()
    return path


def append_step_summary(
    markdown: str | Callable[[], str], environ: Mapping[str, str] = os.environ
) -> None:
    """Append to the job's summary page ($GITHUB_STEP_SUMMARY) when the runner set one.
    `markdown` may be a function making it, called only then (a plan of thousands of Spaces
    renders its Markdown in seconds)."""
    target = environ.get("GITHUB_STEP_SUMMARY")
    if target:
        if callable(markdown):
            markdown = markdown()
        with open(target, "a", encoding="utf-8") as summary:
            summary.write(markdown if markdown.endswith("\n") else markdown + "\n")
