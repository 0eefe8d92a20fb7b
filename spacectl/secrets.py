"""Secret fingerprints: how spacectl tells whether a write-only secret on the Hub is up to date.

The Hub never returns a secret's value, only its `description` and `updatedAt`. When spacectl writes
a secret it appends a marker to the description:

    <your description> [spacectl hmac=<32 hex> at=2026-11-27T10:00:00Z]

- `hmac` is HMAC-SHA256 keyed by `SPACECTL_SECRET_KEY` (a value the user keeps in CI) over
  `space_id NUL key NUL value`, truncated to 128 bits. Without the key nobody can test a guess of
  the value against it, and the same value in two Spaces gives different digests. Without a key the
  marker has `hmac=-` and value changes in the environment cannot be detected.
- `at` is the time of spacectl's write. If the Hub's `updatedAt` is later than `at` plus a
  tolerance (`WRITE_TOLERANCE`, 10 s), someone set the secret outside spacectl.

Nothing in this module stores, prints or returns a secret value.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from spacectl.operations import SecretWrite
from spacectl.state import LiveSecret

SECRET_KEY_ENV = "SPACECTL_SECRET_KEY"
# spacectl stamps each write attempt with the Hub's clock (learnt from `Date` headers, 1 s
# resolution), so its stamp and the Hub's `updatedAt` differ by about one request. An edit on the
# Hub later than this after spacectl's write is reported as drift.
WRITE_TOLERANCE = timedelta(seconds=10)

# The variables spacectl's own credentials live in: the Hub token the client reads, the name
# older clients read, and the key of the secret fingerprints. None of them is a Space's secret
# unless the manifest says so (`allow_token: true`).
CREDENTIAL_VARIABLES = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", SECRET_KEY_ENV)

_MARKER = re.compile(r"\s*\[spacectl hmac=(?P<hmac>[0-9a-f]{32}|-) at=(?P<at>[0-9T:\-]+Z)\]\s*$")


@dataclass(frozen=True)
class SecretMarker:
    """What spacectl wrote into a secret's description."""

    digest: str | None
    written_at: datetime


def secret_digest(key_material: str, space_id: str, secret_key: str, value: str) -> str:
    """Keyed digest of one secret value; safe to store on the Hub and in plans."""
    message = f"{space_id}\0{secret_key}\0{value}".encode()
    return hmac.new(key_material.encode(), message, hashlib.sha256).hexdigest()[:32]


def credential_source(from_env: str, value: str | None, token: str | None) -> str:
    """Why a secret read from `$from_env` (holding `value`) would hand one of spacectl's own
    credentials to a Space, or "" when it would not: the variable is one of
    `CREDENTIAL_VARIABLES`, or its value is the token in use (`token`)."""
    if from_env in CREDENTIAL_VARIABLES:
        held = "spacectl's secret key" if from_env == SECRET_KEY_ENV else "a Hub token"
        return f"${from_env} is where spacectl reads {held}"
    if token and value == token:
        return f"${from_env} holds the Hub token spacectl is using"
    return ""


def imported_variable(space_name: str, key: str) -> str:
    """The environment variable `spacectl import` names for a live secret `key`: the key itself,
    except for a key named like one of spacectl's credentials (`HF_TOKEN`), which would make
    the next apply hand spacectl's token to the Space: `SPACE_<NAME>_<KEY>` instead."""
    if key not in CREDENTIAL_VARIABLES:
        return key
    name = re.sub(r"[^A-Z0-9]+", "_", space_name.upper()).strip("_")
    return f"SPACE_{name}_{key}"


def format_description(user_description: str | None, digest: str | None, at: datetime) -> str:
    """The description spacectl writes: the user's text followed by the marker."""
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    marker = f"[spacectl hmac={digest or '-'} at={stamp}]"
    return f"{user_description} {marker}" if user_description else marker


def parse_description(description: str | None) -> tuple[str | None, SecretMarker | None]:
    """Split a live description into the user's text and spacectl's marker (if any)."""
    if not description:
        return None, None
    match = _MARKER.search(description)
    if match is None:
        return description, None
    user = description[: match.start()].strip() or None
    digest = None if match["hmac"] == "-" else match["hmac"]
    at = datetime.strptime(match["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return user, SecretMarker(digest=digest, written_at=at)


def edited_outside(marker: SecretMarker, updated_at: datetime | None) -> bool:
    """True when the Hub's `updatedAt` shows a write after spacectl's own."""
    if updated_at is None:
        return False
    return updated_at > marker.written_at + WRITE_TOLERANCE


def rewrite_reason(write: SecretWrite, live: LiveSecret) -> str:
    """Why a secret that exists on the Hub must be written again, or "" when it is up to date as
    far as can be told (without a key, a changed value cannot be seen: the caller warns)."""
    user_description, marker = parse_description(live.description)
    if marker is None:
        return "not written by spacectl; its value cannot be verified"
    if edited_outside(marker, live.updated_at):
        return "changed on the Hub outside spacectl"
    if write.digest is not None and marker.digest is not None and marker.digest != write.digest:
        return f"value of ${write.from_env} changed"
    if write.digest is not None and marker.digest is None:
        return "written without a secret key; its value cannot be verified"
    if (user_description or None) != (write.description or None):
        return "description changed"
    return ""
