"""An OIDC issuer made in the test: an RS256 key pair, its JWKS document, and id tokens signed
with it (as a CI provider mints them), for the sandbox's Trusted Publisher exchange."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://token.actions.githubusercontent.com"
SUBJECT = "repo:ifcore-org/spaces:ref:refs/heads/main"
KID = "test-key-1"


@dataclass
class Issuer:
    """A signing key and the JWKS that publishes its public half."""

    key: rsa.RSAPrivateKey
    kid: str = KID
    issuer: str = ISSUER

    @classmethod
    def create(cls, kid: str = KID) -> Issuer:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048), kid)

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def write_jwks(self, path: Path) -> Path:
        path.write_text(json.dumps(self.jwks()), encoding="utf-8")
        return path

    def mint(
        self,
        audience: str,
        *,
        subject: str = SUBJECT,
        lifetime: float = 7200,
        issued: float | None = None,
        **claims: Any,
    ) -> str:
        now = time.time() if issued is None else issued
        payload = {
            "iss": self.issuer,
            "sub": subject,
            "aud": audience,
            "iat": int(now),
            "nbf": int(now) - 5,
            "exp": int(now + lifetime),
            **claims,
        }
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": self.kid})


def trusted(space: str, subject: str = SUBJECT, issuer: str = ISSUER) -> str:
    """The `--trusted-publisher` value: SPACE ISSUER SUBJECT."""
    return f"{space} {issuer} {subject}"
