"""Trusted Publishers: the Hub's RFC 8693 token exchange, without HTTP. PyJWT's only home.

A CI job presents an OIDC id token (a JWT its provider signed) and names a resource,
`spaces/OWNER/NAME`. The exchange answers a short-lived token that can read and write that Space
only, when
- the id token's signature verifies against a key of the JWKS document given at start
  (`--oidc-jwks`; asymmetric algorithms only, never `none` or a shared secret),
- its `aud` is this Hub's endpoint, its `exp` (and any `nbf`) hold at the sandbox's clock, and
- a trusted publisher of that Space names its `iss` and `sub` exactly.

Any mismatch is `invalid_grant` (400), with a description of which check failed. Trusted
publishers and issued tokens live in memory (like the clock): a restart forgets them.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from spacectl.errors import ConfigError
from spacectl.sandbox.errors import ApiError
from spacectl.sandbox.hub_data import repo_name_problem
from spacectl.sandbox.records import token_fingerprint

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
# The Hub's Trusted Publisher tokens last one hour.
TOKEN_SECONDS = 3600
# Signature algorithms accepted from an issuer: public-key ones only.
_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
_RESOURCE = re.compile(r"^spaces/([^/]+/[^/]+)$")


@dataclass(frozen=True)
class TrustedPublisher:
    """A Space's trust in one CI identity: tokens from `issuer` with subject `subject`."""

    space: str
    issuer: str
    subject: str

    def to_json(self) -> dict[str, str]:
        return {"space": self.space, "issuer": self.issuer, "subject": self.subject}


def parse_trusted_publisher(value: str) -> TrustedPublisher:
    """`SPACE ISSUER SUBJECT`, space-separated (issuers and subjects contain colons); ValueError
    with the reason if malformed."""
    parts = value.split()
    if len(parts) != 3:
        raise ValueError(f"must look like 'OWNER/NAME ISSUER SUBJECT', not {value!r}")
    space, issuer, subject = parts
    owner, _, name = space.partition("/")
    if not owner or not name or repo_name_problem(owner) or repo_name_problem(name):
        raise ValueError(f"{space!r} is not a Space id (OWNER/NAME)")
    return TrustedPublisher(space, issuer, subject)


@dataclass(frozen=True)
class IssuedToken:
    """A token the exchange gave out: the one Space it may use, and until when."""

    space: str  # as the resource named it
    issuer: str
    subject: str
    issued_at: float
    expires_at: float

    def to_json(self, token: str) -> dict[str, Any]:
        return {
            "fingerprint": token_fingerprint(token),
            "space": self.space,
            "issuer": self.issuer,
            "subject": self.subject,
            "issued_at": self.issued_at,
            "expires_at": self.expires_at,
        }


def load_jwks(path: Path) -> jwt.PyJWKSet:
    """The issuer keys of `--oidc-jwks`; ConfigError with the reason when unusable."""
    try:
        return jwt.PyJWKSet.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except OSError as error:
        raise ConfigError(f"--oidc-jwks {path}: {error.strerror}") from None
    except (ValueError, jwt.PyJWKError, jwt.PyJWKSetError) as error:
        raise ConfigError(f"--oidc-jwks {path}: not a usable JWKS document: {error}") from None


def invalid_grant(description: str) -> ApiError:
    """The OAuth error body `{"error": "invalid_grant", "error_description": ...}`."""
    return ApiError(400, "invalid_grant", extra={"error_description": description})


class Exchange:
    """The trusted publishers, the issuer keys and the tokens issued; thread-safe."""

    def __init__(
        self, keys: jwt.PyJWKSet | None, publishers: list[TrustedPublisher] | None = None
    ) -> None:
        self._keys = keys
        self._publishers = list(publishers or [])
        self._issued: dict[str, IssuedToken] = {}
        self._lock = threading.Lock()

    def trust(self, publisher: TrustedPublisher) -> None:
        with self._lock:
            if publisher not in self._publishers:
                self._publishers.append(publisher)

    def distrust(self, publisher: TrustedPublisher) -> None:
        with self._lock:
            if publisher in self._publishers:
                self._publishers.remove(publisher)

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "trusted_publishers": [p.to_json() for p in self._publishers],
                "tokens": [issued.to_json(token) for token, issued in self._issued.items()],
            }

    def exchange(self, body: dict[str, Any], *, audience: str, now: float) -> dict[str, Any]:
        """The token-exchange answer for the request `body`; ApiError (400) when refused."""
        if body.get("grant_type") != GRANT_TYPE:
            raise ApiError(400, "unsupported_grant_type", extra={"error_description": GRANT_TYPE})
        if body.get("subject_token_type") != ID_TOKEN_TYPE:
            raise ApiError(
                400, "invalid_request", extra={"error_description": f"need {ID_TOKEN_TYPE}"}
            )
        subject_token, resource = body.get("subject_token"), body.get("resource")
        if not isinstance(subject_token, str) or not isinstance(resource, str):
            raise ApiError(
                400,
                "invalid_request",
                extra={"error_description": "subject_token and resource are required"},
            )
        match = _RESOURCE.match(resource)
        if match is None:
            raise invalid_grant(f"resource {resource!r} is not a Space (spaces/OWNER/NAME)")
        space = match.group(1)
        claims = self._verified(subject_token, audience=audience, now=now)
        issuer, subject = str(claims["iss"]), str(claims["sub"])
        with self._lock:
            trusted = any(
                p.space.lower() == space.lower() and p.issuer == issuer and p.subject == subject
                for p in self._publishers
            )
            if not trusted:
                raise invalid_grant(
                    f"no trusted publisher of spaces/{space} matches issuer {issuer!r} and "
                    f"subject {subject!r}"
                )
            token = "hf_jwt_" + secrets.token_urlsafe(24)
            self._issued[token] = IssuedToken(space, issuer, subject, now, now + TOKEN_SECONDS)
        return {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": TOKEN_SECONDS,
            "issued_token_type": ACCESS_TOKEN_TYPE,
        }

    def _verified(self, token: str, *, audience: str, now: float) -> dict[str, Any]:
        """The claims of a correctly signed id token for `audience`, valid at `now`."""
        if self._keys is None:
            raise invalid_grant("this Hub knows no issuer keys (start it with --oidc-jwks)")
        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            keys = [k for k in self._keys.keys if kid is None or k.key_id == kid]
            if not keys:
                raise invalid_grant(f"no issuer key has kid {kid!r}")
            # exp and nbf are checked below with the sandbox's clock, not the machine's.
            claims: dict[str, Any] = jwt.decode(
                token,
                keys[0],
                algorithms=_ALGORITHMS,
                audience=audience,
                options={
                    "require": ["iss", "sub", "aud", "exp"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidAudienceError:
            raise invalid_grant(f"the id token's audience is not {audience}") from None
        except jwt.PyJWTError as error:
            raise invalid_grant(f"the id token is invalid: {error}") from None
        if not isinstance(claims["exp"], (int, float)) or claims["exp"] <= now:
            raise invalid_grant("the id token has expired")
        nbf = claims.get("nbf")
        if isinstance(nbf, (int, float)) and nbf > now:
            raise invalid_grant("the id token is not valid yet (nbf)")
        return claims

    def lookup(self, token: str, now: float) -> IssuedToken | None:
        """The issued token `token` (None if never issued); ApiError 401 once it expired."""
        with self._lock:
            issued = self._issued.get(token)
        if issued is not None and issued.expires_at <= now:
            raise ApiError(401, "The token has expired")
        return issued
