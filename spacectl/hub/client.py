"""The huggingface_hub client set up for spacectl, process-wide: configuration (timeouts,
telemetry, quiet logs), the Hub's clock, the endpoint and token in use, and OIDC id tokens."""

from __future__ import annotations

import functools
import logging
import os
import warnings
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx2
from huggingface_hub import (
    SpaceHardware,
    constants,
    get_token,
    set_client_factory,
)

# The client's Trusted Publisher exchange: its module registers no public API on purpose.
from huggingface_hub._oidc import detect_provider, get_oidc_token
from huggingface_hub.errors import (
    HfHubHTTPError,
    OIDCError,
)

# Public (huggingface_hub.utils.__all__), but that list is built at run time, out of mypy's sight.
from huggingface_hub.utils import (  # type: ignore[attr-defined]
    disable_progress_bars,
)
from huggingface_hub.utils import logging as hf_logging

# No public spelling in the client: the hook its own client factory installs (offline mode,
# request ids, debug logging), and the Xet check its uploads use.
from huggingface_hub.utils._http import hf_request_event_hook
from huggingface_hub.utils._runtime import is_xet_available

from spacectl.debuglog import redact_secret_bodies
from spacectl.errors import (
    AuthError,
)
from spacectl.state import (
    PUBLIC_HUB,
)

DEFAULT_ENDPOINT = PUBLIC_HUB
# The hardware flavours the installed client knows (its enum is synced from the Hub): checks and
# the sandbox use this, never a hand-kept list.
SPACE_HARDWARE: tuple[str, ...] = tuple(flavor.value for flavor in SpaceHardware)


class _ServerClock:
    """The Hub's clock, learnt from the `Date` header of every response.

    Secret markers record when spacectl wrote a secret, to compare with the Hub's `updatedAt`;
    using the Hub's time rather than the local clock keeps a CI runner's skewed clock from
    looking like an edit on the Hub."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def observe(self, response: httpx2.Response) -> None:
        header = response.headers.get("Date")
        if not header:
            return
        try:
            server = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return
        self.offset = server - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


SERVER_CLOCK = _ServerClock()


@functools.cache
def configure_client() -> None:
    """Set the huggingface_hub client up for spacectl, process-wide; call it before the first
    `Hub` is made. Idempotent (the first call does the work). It
    - turns telemetry off unless HF_HUB_DISABLE_TELEMETRY is set: spacectl sends none, and the
      client would otherwise fetch an agent registry from huggingface.co on first use;
    - gives every request a timeout: the client has none, so a hung server would hang spacectl;
    - quiets the client: spacectl reports progress, retries and warnings itself, one line per
      event, and the client's progress bars, retry log lines and Python warnings would interleave
      with them (and fill CI logs). HF_DEBUG=1 keeps the client's own output for debugging.
    """
    if "HF_HUB_DISABLE_TELEMETRY" not in os.environ:
        os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
        # The client read the variable when it was imported.
        constants.HF_HUB_DISABLE_TELEMETRY = True

    def factory() -> httpx2.Client:
        return httpx2.Client(
            event_hooks={"request": [hf_request_event_hook], "response": [SERVER_CLOCK.observe]},
            follow_redirects=True,
            timeout=httpx2.Timeout(120.0, connect=15.0),
        )

    set_client_factory(factory)
    logging.getLogger("huggingface_hub.utils._http").addFilter(redact_secret_bodies)
    if os.environ.get("HF_DEBUG"):
        return
    disable_progress_bars()
    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    warnings.filterwarnings("ignore", module=r"huggingface_hub(\.|$)")


def resolve_endpoint(flag: str | None) -> str:
    """`--endpoint`, then HF_ENDPOINT, then huggingface.co (the `hf` CLI's order)."""
    return (flag or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def resolve_token(flag: str | None) -> str | None:
    """`--token`, then HF_TOKEN, then the stored `hf auth login` token (or, with
    HF_OIDC_RESOURCE, the client's keyless exchange: its failures are AuthErrors)."""
    if flag:
        return flag
    try:
        return get_token()
    except OIDCError as exc:
        raise _oidc_error(exc) from None


def _oidc_error(exc: OIDCError) -> AuthError:
    """A keyless-token failure is configuration, not a bug: one line and the fix."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else "the OIDC exchange failed"
    return AuthError(
        f"keyless token (HF_OIDC_RESOURCE): {first}",
        hint="in GitHub Actions give the job `permissions: id-token: write`; elsewhere set "
        "HF_OIDC_ID_TOKEN; or unset HF_OIDC_RESOURCE and set HF_TOKEN",
    )


_KEYLESS_HINT = (
    "in GitHub Actions give the job `permissions: id-token: write`; elsewhere set HF_OIDC_ID_TOKEN "
    "to an id token whose audience is the Hub URL; or drop --oidc and set HF_TOKEN"
)


def mint_id_token(audience: str) -> tuple[str, bool]:
    """One OIDC id token for `audience` and whether another can be minted later: from
    HF_OIDC_ID_TOKEN when set (any CI system; it cannot be minted again), else from the CI
    provider (GitHub Actions: ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN, which need the job's
    `permissions: id-token: write`). AuthError with the fix otherwise."""
    given = os.environ.get("HF_OIDC_ID_TOKEN", "").strip()
    if given:
        return given, False
    if detect_provider() is None:
        raise AuthError(
            "--oidc: no OIDC id token: not running in GitHub Actions and HF_OIDC_ID_TOKEN is unset",
            hint=_KEYLESS_HINT,
        )
    try:
        return get_oidc_token(audience=audience), True
    except (OIDCError, HfHubHTTPError, httpx2.TransportError, KeyError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AuthError(
            f"--oidc: cannot get an id token from GitHub Actions: {first}", hint=_KEYLESS_HINT
        ) from None


def xet_active() -> bool:
    """Whether uploads of large files go through Xet storage (hf_xet installed and enabled)."""
    return is_xet_available()


def token_or_error(token: str | None) -> str:
    if not token:
        raise _no_token()
    return token


def _no_token() -> AuthError:
    return AuthError(
        "no Hugging Face token found",
        hint="set HF_TOKEN, pass --token, run `hf auth login`, or try `--sandbox`",
    )
