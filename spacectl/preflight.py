"""Plan-time checks only the Hub can make, before any write.

Each README.md a plan uploads goes through the Hub's own front-matter validator (`POST
/api/validate-yaml`, the check its commit endpoint makes), so a card the Hub would refuse stops
the plan, not an apply that has already created the Space and set its variables. Only the
READMEs the plan changes are sent (none on a no-op plan), each distinct text once, in parallel.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from spacectl.card import README
from spacectl.errors import ManifestError
from spacectl.operations import Commit
from spacectl.plan import Plan
from spacectl.state import ReadmeCheck

# A README is small text; a bigger one is the Hub's to refuse, and is not read whole here.
_MAX_README_BYTES = 1 << 20


def planned_readmes(plan: Plan, base_dir: Path) -> dict[str, str]:
    """Per Space, the README.md text the plan's commit uploads (generated, or the source
    folder's file, which is relative to `base_dir`)."""
    readmes: dict[str, str] = {}
    for change in plan.changes:
        for op in change.operations:
            if not isinstance(op, Commit):
                continue
            for add in op.additions:
                if add.path != README:
                    continue
                if add.content is not None:
                    readmes[change.space_id] = add.content
                elif add.source is not None and add.size <= _MAX_README_BYTES:
                    data = (base_dir / add.source).read_bytes()
                    readmes[change.space_id] = data.decode("utf-8", errors="replace")
    return readmes


def check_planned_readmes(
    plan: Plan,
    validate: Callable[[str], ReadmeCheck],
    *,
    base_dir: Path,
    parallelism: int,
) -> None:
    """ManifestError naming the first Space (in plan order) whose README.md the Hub's
    validator refuses, with the Hub's reasons; warnings do not stop a plan (doctor shows
    them)."""
    readmes = planned_readmes(plan, base_dir)
    distinct = list(dict.fromkeys(readmes.values()))
    if not distinct:
        return
    with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(distinct)))) as pool:
        verdicts = dict(zip(distinct, pool.map(validate, distinct), strict=True))
    for space_id, text in readmes.items():
        errors = verdicts[text].errors
        if errors:
            raise ManifestError(
                f"{space_id}: the Hub refuses its README.md front matter: {'; '.join(errors)}; "
                "nothing was written",
                hint="fix the card in the manifest or the front matter of the source's README.md "
                "(`spacectl doctor` shows every Space's verdict)",
            )
