"""Saved plan files: `spacectl plan --out FILE` writes one, `spacectl apply FILE` reads it.

A plan file is the JSON plan (`plan_to_dict`) with a `kind` marker. It holds the live
fingerprints the plan was made from and the digest of the manifest, never a secret value (secret
operations name the environment variable to read at apply time).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from spacectl.errors import PlanFileError
from spacectl.plan import Plan
from spacectl.planjson import plan_from_dict, plan_to_dict

KIND = "spacectl-plan"


def save_plan(plan: Plan, path: Path) -> None:
    """Write atomically, readable by the owner only (it names files and settings)."""
    data = {"kind": KIND, **plan_to_dict(plan)}
    path = path.resolve()
    try:
        fd, tmp = tempfile.mkstemp(prefix=".spacectl-plan-", dir=path.parent)
    except OSError as exc:
        raise PlanFileError(
            f"cannot write the plan to {path}: {exc.strerror}",
            hint="pass --out a path in an existing, writable folder",
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_plan(path: Path) -> Plan:
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


def check_saved_plan(plan: Plan, manifest_digest: str) -> None:
    """Refuse a plan made from another version of the manifest."""
    if plan.header.manifest_digest != manifest_digest:
        raise PlanFileError(
            f"the plan was made from a different version of {plan.header.manifest_path}",
            hint="run `spacectl plan --out FILE` again",
        )
