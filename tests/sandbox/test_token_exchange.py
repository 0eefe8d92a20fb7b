"""The sandbox's Trusted Publisher exchange (`POST /oauth/token`, RFC 8693) over raw HTTP: id
tokens minted here with an RS256 key this test creates, verified against `--oidc-jwks`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spacectl.errors import ConfigError
from spacectl.sandbox.config import parse_args
from spacectl.sandbox.testing import SandboxProcess, sandbox_process
from tests.oidc_keys import ISSUER, SUBJECT, Issuer, trusted

ALICE_TOKEN = "hf_alice_write"
GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer.create()


@pytest.fixture
def sandbox(tmp_path: Path, issuer: Issuer) -> Iterator[SandboxProcess]:
    jwks = issuer.write_jwks(tmp_path / "jwks.json")
    with sandbox_process(
        tmp_path,
        user=[f"alice:{ALICE_TOKEN}"],
        oidc_jwks=jwks,
        trusted_publisher=[trusted("alice/one")],
    ) as process:
        for name in ("one", "two"):
            body = json.dumps({"name": name, "type": "space", "sdk": "static"}).encode()
            assert process.http("POST", "/api/repos/create", body, _auth(ALICE_TOKEN))[0] == 200
        yield process


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def _exchange(sandbox: SandboxProcess, id_token: str, resource: str) -> tuple[int, Any]:
    body = {
        "grant_type": GRANT,
        "subject_token_type": ID_TOKEN,
        "subject_token": id_token,
        "resource": resource,
    }
    status, _, raw = sandbox.http(
        "POST", "/oauth/token", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    return status, json.loads(raw)


def _set_variable(sandbox: SandboxProcess, space: str, token: str) -> int:
    body = json.dumps({"key": "K", "value": "v"}).encode()
    return sandbox.http("POST", f"/api/spaces/{space}/variables", body, _auth(token))[0]


def test_an_exchanged_token_reads_and_writes_its_space_only(
    sandbox: SandboxProcess, issuer: Issuer
) -> None:
    status, answer = _exchange(sandbox, issuer.mint(sandbox.endpoint), "spaces/alice/one")
    assert status == 200, answer
    assert answer["token_type"] == "bearer" and answer["expires_in"] == 3600
    token = answer["access_token"]
    assert _set_variable(sandbox, "alice/one", token) == 200
    assert sandbox.http("GET", "/api/spaces/alice/one/variables", headers=_auth(token))[0] == 200
    assert _set_variable(sandbox, "alice/two", token) == 403
    body = json.dumps({"name": "three", "type": "space", "sdk": "static"}).encode()
    assert sandbox.http("POST", "/api/repos/create", body, _auth(token))[0] == 403
    body = json.dumps({"name": "one", "type": "space"}).encode()
    assert sandbox.http("DELETE", "/api/repos/delete", body, _auth(token))[0] == 403
    # The log names the caller's token by fingerprint only; the control API says whose it is.
    fingerprint = hashlib.sha256(token.encode()).hexdigest()[:16]
    logged = json.dumps(sandbox.requests())
    assert token not in logged and fingerprint in logged
    issued = sandbox.control("GET", "oidc")["tokens"]
    assert [(t["fingerprint"], t["space"]) for t in issued] == [(fingerprint, "alice/one")]


@pytest.mark.parametrize(
    ("mint", "resource", "reason"),
    [
        (lambda i, e: i.mint("https://huggingface.co"), "spaces/alice/one", "audience"),
        (lambda i, e: i.mint(e, lifetime=-60), "spaces/alice/one", "expired"),
        (lambda i, e: i.mint(e, subject="repo:evil/fork:ref:x"), "spaces/alice/one", "subject"),
        (lambda i, e: i.mint(e), "spaces/alice/two", "no trusted publisher"),
        (lambda i, e: Issuer.create().mint(e), "spaces/alice/one", "invalid"),
        (lambda i, e: i.mint(e), "alice/one", "not a Space"),
    ],
    ids=["audience", "expired", "subject", "untrusted", "foreign-key", "not-space"],
)
def test_every_mismatch_is_invalid_grant(
    sandbox: SandboxProcess, issuer: Issuer, mint: Any, resource: str, reason: str
) -> None:
    status, answer = _exchange(sandbox, mint(issuer, sandbox.endpoint), resource)
    assert status == 400
    assert answer["error"] == "invalid_grant"
    assert reason in answer["error_description"]
    assert sandbox.control("GET", "oidc")["tokens"] == []


def test_tokens_expire_on_the_sandbox_clock(sandbox: SandboxProcess, issuer: Issuer) -> None:
    _, answer = _exchange(sandbox, issuer.mint(sandbox.endpoint), "spaces/alice/one")
    sandbox.control("PUT", "clock", {"advance_seconds": 3601})
    status, _, raw = sandbox.http(
        "GET", "/api/spaces/alice/one/variables", headers=_auth(answer["access_token"])
    )
    assert status == 401 and b"expired" in raw
    # The id token (2 h) still holds: a new exchange gives a working token.
    _, again = _exchange(sandbox, issuer.mint(sandbox.endpoint), "spaces/alice/one")
    assert _set_variable(sandbox, "alice/one", again["access_token"]) == 200
    # An id token past its exp on the sandbox clock is refused though the machine's clock
    # has not reached it.
    sandbox.control("PUT", "clock", {"advance_seconds": 7200})
    assert _exchange(sandbox, issuer.mint(sandbox.endpoint), "spaces/alice/one")[0] == 400


def test_the_control_api_adds_and_removes_trusted_publishers(
    sandbox: SandboxProcess, issuer: Issuer
) -> None:
    id_token = issuer.mint(sandbox.endpoint)
    assert _exchange(sandbox, id_token, "spaces/alice/two")[0] == 400
    listed = sandbox.control("POST", "oidc", {"trusted_publisher": trusted("alice/two")})
    assert {"space": "alice/two", "issuer": ISSUER, "subject": SUBJECT} in listed[
        "trusted_publishers"
    ]
    assert _exchange(sandbox, id_token, "spaces/alice/two")[0] == 200
    sandbox.control("DELETE", "oidc", {"trusted_publisher": trusted("alice/two")})
    assert _exchange(sandbox, id_token, "spaces/alice/two")[0] == 400


def test_without_jwks_no_exchange_succeeds(tmp_path: Path, issuer: Issuer) -> None:
    with sandbox_process(tmp_path, trusted_publisher=[trusted("alice/one")]) as sandbox:
        status, answer = _exchange(sandbox, issuer.mint(sandbox.endpoint), "spaces/alice/one")
    assert status == 400 and "--oidc-jwks" in answer["error_description"]


def test_bad_oidc_flags_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--trusted-publisher"):
        parse_args(["--trusted-publisher", "alice/one https://issuer"])
    with pytest.raises(ConfigError, match="Space id"):
        parse_args(["--trusted-publisher", "alice https://issuer sub"])
    config = parse_args(["--trusted-publisher", "a/b https://i:x repo:o/r:ref:main"])
    assert config.trusted_publishers[0].subject == "repo:o/r:ref:main"
    from spacectl.sandbox.server import build_sandbox

    bad = tmp_path / "jwks.json"
    bad.write_text('{"keys": [{"kty": "nope"}]}')
    with pytest.raises(ConfigError, match="JWKS"):
        build_sandbox(parse_args(["--oidc-jwks", str(bad)]))
    with pytest.raises(ConfigError, match="--oidc-jwks"):
        build_sandbox(parse_args(["--oidc-jwks", str(tmp_path / "missing.json")]))
