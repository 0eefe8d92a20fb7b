"""The README card: the YAML front matter of a Space's README.md, where the Hub reads the Space's
configuration (sdk, title, emoji, app_port...), and how the manifest's `card` and `sdk` get there.

The card and sdk are merged into the README of the Space's source folder when it has one
(`desired_files`); without one, the planner merges them into the README on the Hub (with
`render_readme`). Every merge keeps the rest of the README (other keys, their order and
comments, the body) and is a no-op when the front matter already agrees. No network: the only
I/O is scanning the source folder and reading its README; the YAML itself is `yamlio`'s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spacectl.errors import ConfigError
from spacectl.files import LocalFile, scan_source
from spacectl.manifest import CardSpec, SpaceSpec
from spacectl.state import LiveSpace
from spacectl.yamlio import load_front_matter, merge_front_matter

README = "README.md"
# Matches the Hub's front-matter regex (huggingface_hub `repocard.py`), so that spacectl and the
# Hub agree on what the front matter is; group 2 is the YAML, with its final newline.
_FRONT_MATTER = re.compile(r"\A(\s*---[ \t]*\r?\n)(.*?)(^---[ \t]*(?:\r?\n|\Z))", re.S | re.M)
# Keys a generated README lists first, in the order of the Hub's Space card template.
_CARD_HEAD = ("title", "emoji", "colorFrom", "colorTo", "sdk")


def split_front_matter(text: str) -> tuple[str | None, str]:
    """(front-matter YAML or None when there is none, the body after the closing `---`)."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return None, text
    return match.group(2), text[match.end() :]


def readme_front_matter(text: str, *, source: str = README) -> dict[str, Any]:
    """The README's front matter as plain data; `{}` when it has none.

    Raises `ConfigError` (naming `source`) when the front matter is not a valid YAML mapping.
    """
    yaml_text, _ = split_front_matter(text)
    return load_front_matter(yaml_text, source=source) if yaml_text is not None else {}


def render_readme(
    base: str | None,
    card: Mapping[str, Any],
    sdk: str | None,
    *,
    name: str | None = None,
    source: str = README,
) -> str:
    """README.md with `card` and `sdk` merged into its front matter.

    Keys set by `card` (values of None are skipped) and `sdk` win; every other front-matter key,
    the key order, comments and the body are kept. If nothing changes, `base` is returned as it
    is, so re-rendering a rendered README is a no-op. With `base` None, the README is the front
    matter plus `# {title}` (the card's title, else `name`, else "Space"). Same inputs give the
    same bytes. Raises `ConfigError` (naming `source`) when `base` has invalid front matter.
    """
    updates = {k: v for k, v in card.items() if v is not None}
    if sdk is not None:
        updates["sdk"] = sdk
    ordered = {k: updates[k] for k in _CARD_HEAD if k in updates}
    ordered.update(updates)
    if base is None:
        title = ordered.get("title") or name or "Space"
        return f"---\n{merge_front_matter('', ordered, source=source)}---\n\n# {title}\n"
    match = _FRONT_MATTER.match(base)
    if match is None:
        if not ordered:
            return base
        front = merge_front_matter("", ordered, source=source)
        return f"---\n{front}---\n" + ("\n" if base else "") + base
    yaml_text = match.group(2)
    old_sdk = load_front_matter(yaml_text, source=source).get("sdk")
    stale = _stale_sdk_keys(old_sdk, sdk) if sdk is not None else ()
    merged = merge_front_matter(yaml_text, ordered, source=source, remove=stale)
    if merged == yaml_text:
        return base
    return base[: match.start(2)] + merged + base[match.end(2) :]


# Front-matter keys that mean something only for some SDKs (the Spaces configuration reference).
_SDK_KEYS = {
    "sdk_version": frozenset({"gradio", "streamlit"}),
    "python_version": frozenset({"gradio", "streamlit"}),
    "app_file": frozenset({"gradio", "streamlit", "static"}),
    "app_port": frozenset({"docker"}),
}


def _stale_sdk_keys(old_sdk: Any, new_sdk: str) -> tuple[str, ...]:
    """Keys to drop when a README moves to another SDK: a Gradio `sdk_version` on a Streamlit
    Space would make the Hub install the wrong version, an `app_port` means nothing to Gradio."""
    if old_sdk == new_sdk:
        return ()
    return tuple(
        key for key, sdks in _SDK_KEYS.items() if key == "sdk_version" or new_sdk not in sdks
    )


def card_fields(card: CardSpec | None, *, json: bool = False) -> dict[str, Any]:
    """The front-matter keys a `CardSpec` sets, in declaration order, extras last; with `json`,
    each value in its JSON form (a date as ISO text), as the Hub reports `cardData`."""
    if card is None:
        return {}
    return card.model_dump(exclude_none=True, mode="json" if json else "python")


def _source_readme(spec: SpaceSpec, source: Path, local: LocalFile) -> LocalFile:
    """The README.md to commit for a Space whose source folder `source` has one (`local`): the
    card and sdk merged into it, held in memory; `local` itself when the manifest sets neither or
    the merge changes nothing."""
    if spec.card is None and spec.sdk is None:
        return local
    try:
        base = local.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"'{local.source_path}' is not UTF-8 text.") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read '{local.source_path}': {exc.strerror}.") from exc
    text = render_readme(
        base, card_fields(spec.card), spec.sdk, name=spec.name, source=str(source / README)
    )
    if text == base:
        return local
    return LocalFile.from_bytes(README, text.encode("utf-8"))


def desired_files(
    spec: SpaceSpec, *, scanned: Mapping[str, LocalFile] | None = None
) -> dict[str, LocalFile] | None:
    """The files the Space repository should hold, or None when files are not managed.

    - `spec.source` None -> None: spacectl does not touch the repository's files.
    - otherwise `scan_source(spec.source, spec.ignore)`; when the folder has a README.md and
      `spec.card` or `spec.sdk` is set, it is replaced by `render_readme(local, card, sdk)`: held
      in memory (`content`), or the on-disk entry kept when the merge changes nothing.
    - A folder without README.md leaves the README to the planner (`plan.desired_readme`), which
      merges the card into the *remote* README only when its front matter differs.

    `scanned` is `scan_source(spec.source, spec.ignore)` computed by the caller, so that Spaces
    sharing a folder scan it once. The README merge still has to run per Space: Spaces built from
    one folder differ by their card (title...), so a cache of *this* function's result must be
    keyed by `(source, ignore, card, sdk)`, not by the folder alone.

    The comparison with the remote tree (and the rule that `.gitattributes` is never deleted)
    belongs to the planner.
    """
    if spec.source is None:
        return None
    files = (
        dict(scanned)
        if scanned is not None
        else scan_source(spec.source, spec.ignore, allow=spec.allow_files)
    )
    local = files.get(README)
    if local is None:
        return files
    readme = _source_readme(spec, spec.source, local)
    if readme is local:
        return files
    files[README] = readme
    return dict(sorted(files.items()))


def readme_out_of_date(spec: SpaceSpec, live: LiveSpace) -> bool:
    """Whether the live README front matter lacks a card field or the SDK the manifest sets."""
    wanted = card_fields(spec.card, json=True)  # as the Hub reports cardData
    if spec.sdk is not None:
        wanted["sdk"] = spec.sdk
    return any(live.card_data.get(k) != v for k, v in wanted.items())


def desired_readme(
    spec: SpaceSpec, local: Mapping[str, LocalFile] | None, live: LiveSpace | None
) -> str | None:
    """README.md text spacectl must commit when the manifest manages the card or SDK and the
    source folder has no README of its own (with one, `desired_files` already merged it).

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


def app_warnings(spec: SpaceSpec, local: Mapping[str, LocalFile] | None) -> list[str]:
    """Checks a careful engineer would make before pushing code that will not build."""
    if local is None or spec.state == "absent":
        return []
    warnings = []
    if spec.sdk == "docker" and "Dockerfile" not in local:
        warnings.append(
            f"{spec.id}: Docker Space without a Dockerfile in {spec.source}: the Hub will report "
            "NO_APP_FILE; add a Dockerfile (run `spacectl doctor` for details)"
        )
    if spec.sdk in ("gradio", "streamlit"):
        app_file = (spec.card.app_file if spec.card else None) or local_front_matter(local).get(
            "app_file"
        )
        app_file = str(app_file or "app.py")
        if app_file not in local:
            warnings.append(
                f"{spec.id}: {spec.sdk} Space without its app file {app_file!r} in {spec.source}: "
                "the Hub will report NO_APP_FILE"
            )
    return warnings


def sdk_from_source(local: Mapping[str, LocalFile] | None) -> str | None:
    """The SDK a source folder's README names, for a new Space whose entry names none."""
    value = local_front_matter(local).get("sdk")
    return str(value) if value else None
