"""Persistence across restarts, the request log, fault injection and malformed requests."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from spacectl.errors import ConfigError
from spacectl.sandbox.config import FLAGS, parse_args
from spacectl.sandbox.testing import SandboxProcess, sandbox_process

SCENARIOS = Path(__file__).with_name("client_scenarios.py")
ALICE = "alice:hf_alice_write"


def client(sandbox: SandboxProcess, scenario: str, *, xet: bool = False) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(SCENARIOS), scenario],
        env=sandbox.env(xet=xet, token="hf_alice_write"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def auth(token: str = "hf_alice_write") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def test_state_survives_a_restart_with_data(tmp_path: Path) -> None:
    data = tmp_path / "state"
    with sandbox_process(tmp_path, data=data, user=[ALICE], build_seconds=0.3) as sandbox:
        written = client(sandbox, "persist_write")
        sandbox.restart()
        checked = client(sandbox, "persist_check")
        assert checked["sha"] == written["sha"]
    with closing(sqlite3.connect(data / "state.sqlite3")) as db:
        state = "".join(str(row[0]) for row in db.execute("SELECT data FROM records"))
    assert "SECRET" in state  # secret values are persisted (the API never returns them)
    # Started again without --user: the persisted user and token are still valid.
    with sandbox_process(tmp_path, data=data) as again:
        assert again.users == {"alice": "hf_alice_write"}
        status, _, _ = again.http("GET", "/api/spaces/alice/persisted", headers=auth())
        assert status == 200


def test_without_data_state_is_in_memory(tmp_path: Path) -> None:
    with sandbox_process(tmp_path, user=[ALICE]) as sandbox:
        body = json.dumps({"name": "gone", "type": "space", "sdk": "static"}).encode()
        assert sandbox.http("POST", "/api/repos/create", body, auth())[0] == 200
        sandbox.restart()
        status, headers, _ = sandbox.http("GET", "/api/spaces/alice/gone", headers=auth())
        assert status == 404 and headers["X-Error-Code"] == "RepoNotFound"


def test_request_log_and_live_faults(hub_sandbox: SandboxProcess) -> None:
    token = {"Authorization": f"Bearer {hub_sandbox.token}"}
    hub_sandbox.clear_requests()
    assert hub_sandbox.http("GET", "/api/whoami-v2", headers=token)[0] == 200
    [entry] = hub_sandbox.requests()
    assert entry["method"] == "GET" and entry["path"] == "/api/whoami-v2"
    assert entry["status"] == 200 and entry["response_bytes"] > 0
    assert set(entry) == {
        "method",
        "path",
        "query",
        "status",
        "request_bytes",
        "response_bytes",
        "duration_ms",
        "time",
        "token",
    }
    assert hub_sandbox.token not in json.dumps(hub_sandbox.requests())  # no headers logged
    # The token appears only as a fingerprint: a prefix of its SHA-256.
    assert entry["token"] == hashlib.sha256(hub_sandbox.token.encode()).hexdigest()[:16]

    hub_sandbox.set_faults(latency_ms=150)
    hub_sandbox.clear_requests()
    started = time.time()
    hub_sandbox.http("GET", "/api/spaces", headers=token)
    assert time.time() - started >= 0.15
    assert hub_sandbox.requests()[0]["duration_ms"] >= 150

    faults = hub_sandbox.set_faults(latency_ms=0, error_rate=1.0, error_statuses="503")
    assert faults["error_statuses"] == [503]
    status, _, body = hub_sandbox.http("GET", "/api/spaces", headers=token)
    assert status == 503 and "error" in json.loads(body)
    assert hub_sandbox.control("GET", "faults")["error_rate"] == 1.0  # control API not faulted
    hub_sandbox.set_faults(error_rate=0.0, reset_rate=1.0)
    with pytest.raises(OSError):
        hub_sandbox.http("GET", "/api/spaces", headers=token)
    hub_sandbox.set_faults(reset_rate=0.0)
    assert hub_sandbox.http("GET", "/api/spaces", headers=token)[0] == 200
    statuses = [e["status"] for e in hub_sandbox.requests()]
    assert statuses[-3:] == [503, None, 200], statuses  # faulted requests are logged too


def test_lost_response_carries_out_the_request(hub_sandbox: SandboxProcess) -> None:
    """A lost response: the write lands, the client sees only a dropped connection."""
    headers = {"Authorization": f"Bearer {hub_sandbox.token}", "Content-Type": "application/json"}
    body = json.dumps({"name": "lossy", "type": "space", "sdk": "static"}).encode()
    hub_sandbox.set_faults(lost_response_rate=1.0)
    with pytest.raises(OSError):
        hub_sandbox.http("POST", "/api/repos/create", body, headers)
    hub_sandbox.set_faults(lost_response_rate=0.0)
    status, _, info = hub_sandbox.http(
        "GET", f"/api/spaces/{hub_sandbox.user}/lossy", None, headers
    )
    assert status == 200 and json.loads(info)["id"] == f"{hub_sandbox.user}/lossy"
    # Retrying the create now answers 409 with the url, as the Hub does for an existing repo.
    status, _, again = hub_sandbox.http("POST", "/api/repos/create", body, headers)
    assert status == 409 and "url" in json.loads(again)


def test_clock_can_be_advanced(hub_sandbox: SandboxProcess) -> None:
    headers = {"Authorization": f"Bearer {hub_sandbox.token}", "Content-Type": "application/json"}
    body = json.dumps({"name": "clocked", "type": "space", "sdk": "gradio"}).encode()
    assert hub_sandbox.http("POST", "/api/repos/create", body, headers)[0] == 200
    secret = json.dumps({"key": "K", "value": "v"}).encode()
    path = f"/api/spaces/{hub_sandbox.user}/clocked/secrets"
    hub_sandbox.http("POST", path, secret, headers)
    before = json.loads(hub_sandbox.http("GET", path, headers=headers)[2])["K"]["updatedAt"]
    assert (
        hub_sandbox.control("PUT", "clock", {"advance_seconds": 86400})["offset_seconds"] == 86400
    )
    hub_sandbox.http("POST", path, secret, headers)
    after = json.loads(hub_sandbox.http("GET", path, headers=headers)[2])["K"]["updatedAt"]
    assert after[:10] > before[:10]  # a day later, by the sandbox's clock


def test_rate_limit_headers_and_client_retry(tmp_path: Path) -> None:
    with sandbox_process(tmp_path, user=[ALICE]) as sandbox:
        for name in ("r1", "r2", "r3"):
            body = json.dumps({"name": name, "type": "space", "sdk": "static"}).encode()
            assert sandbox.http("POST", "/api/repos/create", body, auth())[0] == 200
        sandbox.configure(page_size={"spaces": 1})
        sandbox.set_faults(rate_limit="2/1")
        sandbox.clear_requests()
        statuses = [sandbox.http("GET", "/api/spaces")[0] for _ in range(3)]
        assert statuses == [200, 200, 429]
        status, headers, body = sandbox.http("GET", "/api/spaces")
        assert status == 429 and json.loads(body)["error"]
        assert headers["RateLimit"].startswith('"api";r=0;t=')
        assert headers["RateLimit-Policy"] == '"fixed window";"api";q=2;w=1'
        assert int(headers["Retry-After"]) >= 1
        time.sleep(1.1)
        # huggingface_hub's paginated listing sleeps t+1 s on the 429 and goes on.
        result = client(sandbox, "rate_limited_listing")
        assert result["ids"] == ["alice/r1", "alice/r2", "alice/r3"]
        log = [e for e in sandbox.requests() if e["path"] == "/api/spaces"]
        assert 429 in [e["status"] for e in log[4:]], log
        assert log[-1]["status"] == 200


def test_malformed_requests_get_4xx_and_the_server_keeps_serving(
    hub_sandbox: SandboxProcess,
) -> None:
    headers = {"Authorization": f"Bearer {hub_sandbox.token}"}
    user = hub_sandbox.user
    create = json.dumps({"name": "ok", "type": "space", "sdk": "gradio"}).encode()
    assert hub_sandbox.http("POST", "/api/repos/create", create, headers)[0] == 200
    space = f"/api/spaces/{user}/ok"
    cases = [
        ("POST", "/api/repos/create", b"{not json", 400),
        ("POST", "/api/repos/create", b"[1, 2]", 400),
        (
            "POST",
            "/api/repos/create",
            json.dumps({"name": "a--b", "type": "space", "sdk": "static"}).encode(),
            400,
        ),
        (
            "POST",
            "/api/repos/create",
            json.dumps({"name": "x", "type": "space", "sdk": "php"}).encode(),
            400,
        ),
        ("POST", "/api/repos/create", json.dumps({"name": "x", "type": "model"}).encode(), 400),
        ("POST", f"{space}/commit/main", b"garbage\n", 400),
        ("POST", f"{space}/commit/main", b'{"key": "file", "value": {}}\n', 400),
        (
            "POST",
            f"{space}/commit/main",
            b'{"key":"header","value":{"summary":"s"}}\n{"key":"file","value":{"path":"a","content":"%%%"}}\n',
            400,
        ),
        (
            "POST",
            f"{space}/commit/main",
            b'{"key":"header","value":{"summary":"s"}}\n{"key":"file","value":{"path":"../x","content":""}}\n',
            422,
        ),
        ("POST", f"{space}/preupload/main", b'{"files": 3}', 400),
        ("POST", f"{space}/hardware", b'{"flavor": 12}', 400),
        ("POST", f"{space}/hardware", b'{"flavor": {"a": 1}}', 400),
        ("POST", f"{space}/hardware", b'{"flavor": ["t4-small"]}', 400),
        (
            "POST",
            "/api/repos/create",
            json.dumps({"name": "y", "type": "space", "sdk": "gradio", "hardware": ["x"]}).encode(),
            400,
        ),
        (
            "POST",
            f"{space}/commit/main",
            b'{"key":"header","value":{"summary":"s","parentCommit":123}}\n',
            400,
        ),
        (
            "POST",
            f"{space}/commit/main",
            b'{"key":"header","value":{"summary":"s","parentCommit":["abcdef1"]}}\n',
            400,
        ),
        (
            "POST",
            f"{space}/commit/main",
            # README.md exists: it cannot also be a folder.
            b'{"key":"header","value":{"summary":"s"}}\n'
            b'{"key":"file","value":{"path":"README.md/x","content":""}}\n',
            400,
        ),
        ("POST", f"{space}/sleeptime", b'{"seconds": "soon"}', 400),
        ("POST", f"{space}/secrets", b'{"key": "1bad", "value": "v"}', 400),
        ("PUT", f"{space}/volumes", b'{"volumes": [{"source": "x"}]}', 400),
        ("GET", f"{space}/tree/main?cursor=%%%", None, 400),
        ("GET", "/api/spaces?expand=bogus", None, 400),
        ("GET", f"{space}/tree/no-such-branch", None, 404),
        ("GET", f"{space}/xet-write-token/no-such-branch", None, 404),
        ("GET", "/api/no/such/route/at/all", None, 404),
    ]
    for method, path, body, expected in cases:
        status, response_headers, raw = hub_sandbox.http(method, path, body, headers)
        assert status == expected, (method, path, status, raw)
        assert "error" in json.loads(raw), raw
        assert response_headers.get("X-Error-Message")
    status, _, raw = hub_sandbox.http("POST", "/api/validate-yaml", b"nope", headers)
    assert status == 400 and "errors" in json.loads(raw)  # always JSON for the client
    assert hub_sandbox.http("GET", "/api/whoami-v2", headers=headers)[0] == 200


def test_cli_flags_are_validated() -> None:
    flags = "--user alice:tok_a --user alice:tok_r:read --org acme:alice --rate-limit 10/60"
    config = parse_args([*flags.split(), "--build-seconds", "1.0"])
    assert [u.role for u in config.users] == ["write", "read"]
    assert config.faults.rate_limit is not None and config.faults.rate_limit.requests == 10
    assert config.build_seconds == 1.0 and config.faults.error_statuses == [500, 502, 503]
    for bad in (
        ["--user", "alice"],
        ["--user", "alice:tok:admin"],
        ["--org", "acme"],
        ["--rate-limit", "ten"],
        ["--error-statuses", "200"],
        ["--error-rate", "2.0"],
        ["--upload-mode", "xet"],
        ["--port", "http"],
        ["--no-such-flag"],
        ["--user"],
    ):
        with pytest.raises(ConfigError):
            parse_args(bad)


def test_serve_lists_its_flags_and_refuses_a_bad_one_in_one_line() -> None:
    command = [sys.executable, "-m", "spacectl", "sandbox", "serve"]
    shown = subprocess.run([*command, "--help"], capture_output=True, text=True, check=False)
    assert shown.returncode == 0, shown.stderr
    for flag in FLAGS:
        assert flag.name in shown.stdout
    assert "(default: 500,502,503)" in " ".join(shown.stdout.split())
    for bad in (["--port", "99999"], ["--port", "x"], ["--bogus"]):
        refused = subprocess.run([*command, *bad], capture_output=True, text=True, check=False)
        assert refused.returncode == 1, bad
        assert refused.stdout == "" and len(refused.stderr.splitlines()) == 1, refused.stderr
        assert refused.stderr.startswith("Error: ")


def test_credentials_are_checked_before_the_body(hub_sandbox: SandboxProcess) -> None:
    """The Hub answers a bad token with 401 whatever the body says."""
    bad = {"Authorization": "Bearer hf_not_a_token"}
    for path in ("/api/repos/create", f"/api/spaces/{hub_sandbox.user}/x/commit/main"):
        status, headers, _ = hub_sandbox.http("POST", path, b"{not json", bad)
        assert status == 401, path
        assert headers["X-Error-Message"] == "Invalid credentials in Authorization header"
    good = {"Authorization": f"Bearer {hub_sandbox.token}"}
    create = json.dumps({"name": "described", "type": "space", "sdk": "static"}).encode()
    assert hub_sandbox.http("POST", "/api/repos/create", create, good)[0] == 200
    header = b'{"key":"header","value":{"summary":"s","description":{"a":1}}}\n'
    path = f"/api/spaces/{hub_sandbox.user}/described/commit/main"
    assert hub_sandbox.http("POST", path, header, good)[0] == 400


def test_anonymous_commit_is_a_401_whatever_the_body(hub_sandbox: SandboxProcess) -> None:
    path = f"/api/spaces/{hub_sandbox.user}/x/commit/main"
    assert hub_sandbox.http("POST", path, b"{not json")[0] == 401
