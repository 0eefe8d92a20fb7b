"""The sandbox's Xet CAS over raw HTTP: token answers, scopes and expiry, and bad uploads (a
truncated xorb, a shard naming a missing xorb, a wrong SHA-256) refused with a 4xx, never a
500. The xorb and shard are those hf_xet 1.8 wrote (`xet_fixtures/`, see test_xetformat.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_xetformat import _fixture, fixture_content

from spacectl.sandbox.models import xetformat
from spacectl.sandbox.testing import SandboxProcess, sandbox_process

ALICE = "hf_alice_write"
READER = "hf_alice_read"
SPACE = "/api/spaces/alice/demo"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    flags = {"user": ["alice:hf_alice_write", "alice:hf_alice_read:read", "bob:hf_bob_write"]}
    with sandbox_process(tmp_path_factory.mktemp("xet"), **flags) as process:
        body = json.dumps({"name": "demo", "type": "space", "sdk": "static"}).encode()
        headers = {**_bearer(ALICE), "Content-Type": "application/json"}
        assert process.http("POST", "/api/repos/create", body, headers)[0] == 200
        yield process


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _token(sandbox: SandboxProcess, kind: str, user_token: str = ALICE) -> tuple[str, str]:
    """(CAS path prefix, access token) from a token route, checking body and headers agree."""
    status, headers, body = sandbox.http(
        "GET", f"{SPACE}/xet-{kind}-token/main", headers=_bearer(user_token)
    )
    assert status == 200, body
    data = json.loads(body)
    assert data["accessToken"] == headers["X-Xet-Access-Token"]
    assert data["casUrl"] == headers["X-Xet-Cas-Url"]
    assert str(data["exp"]) == headers["X-Xet-Token-Expiration"]
    return data["casUrl"].removeprefix(sandbox.endpoint), data["accessToken"]


def _cas(
    sandbox: SandboxProcess, method: str, path: str, token: str, body: bytes | None = None
) -> tuple[int, bytes]:
    status, _, answer = sandbox.http(method, path, body, _bearer(token))
    return status, answer


def test_token_routes_bind_scope_and_space(sandbox: SandboxProcess) -> None:
    assert sandbox.http("GET", f"{SPACE}/xet-write-token/main", headers=_bearer(READER))[0] == 403
    bob = _bearer("hf_bob_write")
    assert sandbox.http("GET", f"{SPACE}/xet-write-token/main", headers=bob)[0] == 403
    assert sandbox.http("GET", f"{SPACE}/xet-read-token/nosuchrev")[0] == 404
    cas, read = _token(sandbox, "read", READER)
    xorb_name, xorb = _fixture("xorb")
    assert _cas(sandbox, "POST", f"{cas}/v1/xorbs/default/{xorb_name}", read, xorb)[0] == 403
    assert _cas(sandbox, "POST", f"{cas}/v1/xorbs/default/{xorb_name}", "xet_nope", xorb)[0] == 401
    _, write = _token(sandbox, "write")
    wrong_instance = cas.rsplit("/", 1)[0] + "/0000000000000000"
    assert _cas(sandbox, "POST", f"{wrong_instance}/v1/shards", write, b"x")[0] == 404
    # What the client probes and falls back from: dedup, upload grants, v2 routes.
    assert _cas(sandbox, "GET", f"{cas}/v1/chunks/default/{xorb_name}", write)[0] == 404
    assert _cas(sandbox, "POST", f"{cas}/v1/xorb-grants/default/{xorb_name}", write)[0] == 404
    assert _cas(sandbox, "POST", f"{cas}/v2/shards", write, b"x")[0] == 404


def test_bad_uploads_are_refused_with_a_4xx(sandbox: SandboxProcess) -> None:
    cas, token = _token(sandbox, "write")
    xorb_name, xorb = _fixture("xorb")
    _, shard = _fixture("xetshard")
    truncated = _cas(sandbox, "POST", f"{cas}/v1/xorbs/default/{xorb_name}", token, xorb[:-100])
    assert truncated[0] == 400 and b"truncated" in truncated[1]
    assert _cas(sandbox, "POST", f"{cas}/v1/xorbs/default/XYZ", token, xorb)[0] == 400
    missing = _cas(sandbox, "POST", f"{cas}/v1/shards", token, shard)
    assert missing[0] == 400 and b"never uploaded" in missing[1]
    assert _cas(sandbox, "POST", f"{cas}/v1/shards", token, b"garbage" * 20)[0] == 400
    assert _cas(sandbox, "POST", f"{cas}/v1/shards", token, shard[:200])[0] == 400

    stored = _cas(sandbox, "POST", f"{cas}/v1/xorbs/default/{xorb_name}", token, xorb)
    assert stored == (200, b'{"was_inserted":true}')
    assert _cas(sandbox, "HEAD", f"{cas}/v1/xorbs/default/{xorb_name}", token)[0] == 200
    sha256 = hashlib.sha256(fixture_content()).hexdigest()
    stored_sha = xetformat.hash_raw(sha256)
    assert shard.count(stored_sha) == 1  # the metadata extension, in Merkle-hash byte order
    lying = shard.replace(stored_sha, stored_sha[:-1] + bytes([stored_sha[-1] ^ 1]))
    wrong = _cas(sandbox, "POST", f"{cas}/v1/shards", token, lying)
    assert wrong[0] == 400 and b"SHA-256" in wrong[1]
    log = sandbox.requests()
    assert not any(entry["status"] >= 500 for entry in log)


def test_a_good_shard_is_stored_and_reconstructs_through_signed_urls(
    sandbox: SandboxProcess,
) -> None:
    cas, token = _token(sandbox, "write")
    xorb_name, xorb = _fixture("xorb")
    _, shard = _fixture("xetshard")
    assert _cas(sandbox, "POST", f"{cas}/v1/xorbs/default/{xorb_name}", token, xorb)[0] == 200
    assert _cas(sandbox, "POST", f"{cas}/v1/shards", token, shard) == (200, b'{"result":1}')
    (file,) = xetformat.shard_files(shard)
    _, read = _token(sandbox, "read", READER)
    ten = {**_bearer(read), "Range": "bytes=100000-100009"}
    status, _, body = sandbox.http("GET", f"{cas}/v1/reconstructions/{file.hash}", headers=ten)
    assert status == 200, body
    answer = json.loads(body)
    content = fixture_content()
    first = answer["terms"][0]
    (fetch,) = [f for f in answer["fetch_info"][first["hash"]] if f["range"] == first["range"]]
    # The fetch URL needs no Authorization: its signature is the grant.
    url = fetch["url"].removeprefix(sandbox.endpoint)
    span = fetch["url_range"]
    status, headers, part = sandbox.http(
        "GET", url, headers={"Range": f"bytes={span['start']}-{span['end']}"}
    )
    assert status == 206 and len(part) == span["end"] - span["start"] + 1
    assert headers["Content-Range"] == f"bytes {span['start']}-{span['end']}/{len(xorb)}"
    assert sandbox.http("GET", url[:-4] + "0000")[0] == 404
    # Rebuild the ten bytes asked for from the fetched chunks, as the client does.
    rebuilt = b"".join(xetformat.chunk_content(part, c) for c in xetformat.xorb_chunks(part))
    offset = answer["offset_into_first_range"]
    assert rebuilt[offset : offset + 10] == content[100000:100010]
    beyond = {**_bearer(read), "Range": f"bytes={len(content)}-"}
    assert sandbox.http("GET", f"{cas}/v1/reconstructions/{file.hash}", headers=beyond)[0] == 416


def test_tokens_expire(sandbox: SandboxProcess) -> None:
    cas, token = _token(sandbox, "write")
    probe = f"{cas}/v1/xorbs/default/{'0' * 64}"
    assert _cas(sandbox, "HEAD", probe, token)[0] == 404  # valid token, no such xorb
    sandbox.control("PUT", "clock", {"advance_seconds": 3601})
    assert _cas(sandbox, "HEAD", probe, token)[0] == 401
    _, fresh = _token(sandbox, "write")
    assert _cas(sandbox, "HEAD", probe, fresh)[0] == 404


def test_xet_off_refuses_tokens_with_501(tmp_path: Path) -> None:
    with sandbox_process(tmp_path, xet="off", user=["alice:hf_alice_write"]) as process:
        body = json.dumps({"name": "demo", "type": "space", "sdk": "static"}).encode()
        headers = {**_bearer(ALICE), "Content-Type": "application/json"}
        assert process.http("POST", "/api/repos/create", body, headers)[0] == 200
        status, _, answer = process.http("GET", f"{SPACE}/xet-write-token/main", headers=headers)
        assert status == 501 and b"HF_HUB_DISABLE_XET=1" in answer
