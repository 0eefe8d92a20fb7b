"""Saved plan files: `spacectl plan --out FILE` writes one, `spacectl apply FILE` reads it.

A plan file is the JSON plan (`plan_to_dict`) with a `kind` marker. It holds the live
fingerprints the plan was made from and the digest of the manifest, never a secret value (secret
operations name the environment variable to read at apply time).

A saved plan is applied exactly as it was made: `open_saved_plan`, `check_saved_plan` and
`check_plan_endpoint` refuse every way it could be applied to something else (narrowed, another
manifest or version of it, another Hub). That a Space changed on the Hub since is apply's stale
check.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from spacectl.errors import PlanFileError
from spacectl.fsio import os_reason, write_atomic
from spacectl.plan import Plan
from spacectl.planjson import plan_from_dict, plan_to_dict

KIND = "spacectl-plan"


def save_plan(plan: Plan, path: Path) -> None:
    """Write atomically, readable by the owner only (it names files and settings)."""
    data = {"kind": KIND, **plan_to_dict(plan)}
    path = path.resolve()
    try:
        write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n", private=True)
    except OSError as exc:
        raise PlanFileError(
            f"cannot write the plan to {path}: {os_reason(exc)}",
            hint="pass --out a path in an existing, writable folder",
        ) from None


def load_plan(path: Path) -> Plan:
    """The plan saved at `path`. A file that is not one (a manifest given where a plan file is
    expected, most likely) is a `PlanFileError` whose hint names the right command."""
    hint = "create one with `spacectl plan --out FILE`"
    if path.suffix in (".yaml", ".yml"):
        hint = f"to apply a manifest, run `spacectl apply -f {path}`"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanFileError(f"{path}: no such plan file", hint=hint) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlanFileError(
            f"{path}: not a spacectl plan file ({type(exc).__name__})", hint=hint
        ) from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise PlanFileError(
            f"{path}: not a spacectl plan file", hint="create one with `spacectl plan --out FILE`"
        )
    return plan_from_dict(data)


def open_saved_plan(
    path: Path, *, manifest_flag: Path | None, targets: Sequence[str] | None
) -> Plan:
    """`load_plan(path)` for `spacectl apply PLANFILE`, refusing the options a saved plan cannot
    honour: `--target` (`targets`; it would narrow the plan) and `-f` (`manifest_flag`; the plan
    names its own manifest, `Plan.header.manifest_path`)."""
    plan = load_plan(path)
    if targets:
        raise PlanFileError(
            "--target cannot narrow a saved plan: it is applied exactly as it was made",
            hint="run `spacectl plan --target NAME --out FILE` instead",
        )
    if manifest_flag is not None:
        raise PlanFileError(
            f"a saved plan names its manifest ({plan.header.manifest_path}); -f does not apply",
            hint=f"run `spacectl apply {path}` without -f",
        )
    return plan


def check_saved_plan(plan: Plan, manifest_digest: str) -> None:
    """Refuse a plan made from another version of the manifest."""
    if plan.header.manifest_digest != manifest_digest:
        raise PlanFileError(
            f"the plan was made from a different version of {plan.header.manifest_path}",
            hint="run `spacectl plan --out FILE` again",
        )


def check_plan_environment(plan: Plan, environment: str | None) -> None:
    """Refuse a plan made for another environment than `--env` names (None: not given, the
    plan's own is used)."""
    if environment is not None and plan.header.environment != environment:
        made = plan.header.environment
        raise PlanFileError(
            f"the plan was made for {f'environment {made!r}' if made else 'no environment'}, "
            f"not {environment!r}",
            hint=f"run `spacectl plan --env {environment} --out FILE` for that environment",
        )


def check_plan_endpoint(plan: Plan, identity: str) -> None:
    """Refuse a plan made against another Hub; `identity` is the Hub's (`Hub.identity`)."""
    if plan.header.endpoint != identity:
        raise PlanFileError(
            f"the plan was made against {plan.header.endpoint}, not {identity}",
            hint="run `spacectl plan --out FILE` against this endpoint",
        )
