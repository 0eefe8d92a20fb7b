"""The Space card: the README.md front matter the Hub reads a Space's `sdk`, tags and settings
from, the README the Hub writes into a new Space, and what its validator refuses."""

from __future__ import annotations

import copy
import hashlib
import threading
from typing import TYPE_CHECKING, Any

from spacectl.sandbox.frontmatter import front_matter

if TYPE_CHECKING:
    from spacectl.sandbox.records import Commit
    from spacectl.sandbox.store import Store

README = "README.md"
SDKS = ("gradio", "streamlit", "docker", "static")
CARD_COLORS = ("red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray")
_EMOJIS = ("🚀", "🔥", "🏢", "🐨", "📚", "🌍", "💻", "🦀", "🎨", "📊", "🐢", "⚡")
# sdk_version the Hub's Space creation form pre-fills; a plausible recent release of each SDK.
_SDK_VERSIONS = {"gradio": "5.23.1", "streamlit": "1.44.0"}


# Parsed front matter by README blob key. A key names the content (`git/<sha1>`, `lfs/<sha256>`),
# so an entry never goes stale; every listing page and info read would otherwise parse each
# Space's README twice with PyYAML's pure-Python parser (0.6 ms each: most of a page's cost).
_CARDS: dict[str, dict[str, Any] | None] = {}
_CARDS_MAX = 4096
_CARDS_LOCK = threading.Lock()


def card_of(store: Store, commit: Commit) -> dict[str, Any] | None:
    """The front matter of the commit's README.md; None without a README or a valid one. The
    caller owns the dict it gets (a copy of the parse kept by content)."""
    entry = commit.files.get(README)
    if entry is None:
        return None
    key = entry.blob_key
    with _CARDS_LOCK:
        known = key in _CARDS
        card = _CARDS.get(key)
    if not known:
        data = store.read_file(commit, README)
        card = front_matter(data)
        if data is None:  # the blob is not stored (yet): nothing to keep
            return card
        with _CARDS_LOCK:
            if len(_CARDS) >= _CARDS_MAX:
                _CARDS.clear()  # a bound, not an LRU: a sandbox rarely holds this many READMEs
            _CARDS[key] = card
    return copy.deepcopy(card)


def sdk_of(store: Store, commit: Commit) -> str | None:
    """The `sdk` the commit's README declares, if it is a string."""
    sdk = (card_of(store, commit) or {}).get("sdk")
    return sdk if isinstance(sdk, str) else None


def tags(sdk: str | None, card: dict[str, Any] | None, region: str = "us") -> list[str]:
    """A Space's tags: its sdk, the card's `tags`, and its region."""
    result = [sdk] if sdk else []
    extra = (card or {}).get("tags")
    if isinstance(extra, list):
        result += [str(t) for t in extra if str(t) not in result]
    return [*result, f"region:{region}"]


def card_repos(card: dict[str, Any] | None, key: str) -> list[str]:
    """The repository ids the card's `models:` or `datasets:` lists (a string or a list of
    strings), which the Hub serves as the Space's `models`/`datasets` and filters
    `list_spaces(models=..., datasets=...)` by."""
    value = (card or {}).get(key)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str) and item]


def initial_readme(name: str, sdk: str, seed: str) -> bytes:
    """The README.md the Hub writes into a new Space: front matter plus the reference pointer."""
    digest = hashlib.sha256(seed.encode()).digest()
    color_from = CARD_COLORS[digest[1] % len(CARD_COLORS)]
    color_to = CARD_COLORS[(digest[1] + 1 + digest[2] % (len(CARD_COLORS) - 1)) % len(CARD_COLORS)]
    lines = [
        "---",
        f"title: {name}",
        f"emoji: {_EMOJIS[digest[0] % len(_EMOJIS)]}",
        f"colorFrom: {color_from}",
        f"colorTo: {color_to}",
        f"sdk: {sdk}",
    ]
    if sdk in _SDK_VERSIONS:
        lines += [f"sdk_version: {_SDK_VERSIONS[sdk]}", "app_file: app.py"]
    lines += [
        "pinned: false",
        "---",
        "",
        "Check out the configuration reference at "
        "https://huggingface.co/docs/hub/spaces-config-reference",
        "",
    ]
    return "\n".join(lines).encode()


def readme_problems(content: str, repo_type: Any) -> list[str]:
    """What `POST /api/validate-yaml` refuses in a README: invalid front matter, and for a
    Space the documented types and choices of the Spaces configuration reference (not every
    rule the Hub has)."""
    card = front_matter(content.encode())
    errors = []
    if content.startswith("---") and card is None:
        errors.append("Invalid YAML in the README.md front matter")
    card = card or {}
    if repo_type != "space":
        return errors
    if "sdk" in card and card["sdk"] not in SDKS:
        errors.append('"sdk" must be one of [gradio, streamlit, docker, static]')
    for key in ("colorFrom", "colorTo"):
        if key in card and card[key] not in CARD_COLORS:
            errors.append(f'"{key}" must be one of [{", ".join(CARD_COLORS)}]')
    if "app_port" in card and (
        not isinstance(card["app_port"], int) or isinstance(card["app_port"], bool)
    ):
        errors.append('"app_port" must be a number')
    if "pinned" in card and not isinstance(card["pinned"], bool):
        errors.append('"pinned" must be a boolean')
    return errors
