"""README card decisions the planner needs (to be merged into card.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spacectl.files import LocalFile, card_fields, readme_front_matter, render_readme
from spacectl.manifest import SpaceSpec
from spacectl.state import LiveSpace


def readme_out_of_date(spec: SpaceSpec, live: LiveSpace) -> bool:
    """Whether the live README front matter lacks a card field or the SDK the manifest sets."""
    wanted = card_fields(spec.card)
    if spec.sdk is not None:
        wanted["sdk"] = spec.sdk
    return any(live.card_data.get(k) != v for k, v in wanted.items())


def desired_readme(
    spec: SpaceSpec, local: Mapping[str, LocalFile] | None, live: LiveSpace | None
) -> str | None:
    """README.md text spacectl must commit when the manifest manages the card or SDK and the
    source folder has no README of its own (with one, `files.py` already merged it).

    For an existing Space the card is merged into the remote README (`live.readme`), and only
    when its front matter differs. A new Space gets a README generated from the card; without a
    card, the README the Hub writes at creation already carries the SDK."""
    if local is not None and "README.md" in local:
        return None
    card = card_fields(spec.card)
    if live is None:
        return render_readme(None, card, spec.sdk, name=spec.name) if card else None
    if not readme_out_of_date(spec, live):
        return None
    return render_readme(live.readme, card, spec.sdk, name=live.name)


def local_front_matter(local: Mapping[str, LocalFile] | None) -> dict[str, Any]:
    """Front matter of the README that will be committed (held in memory by inputs.scan_all)."""
    readme = (local or {}).get("README.md")
    if readme is None or readme.content is None:
        return {}
    return readme_front_matter(readme.content.decode(errors="replace"))
