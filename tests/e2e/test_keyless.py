"""Keyless apply (`--oidc`) end to end: the real CLI, the real client, a sandbox process that
trusts a publisher for some Spaces and verifies id tokens against the JWKS of an RS256 key this
test creates; the id tokens are minted here, as a CI provider would."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spacectl.sandbox.testing import SandboxProcess, sandbox_process
from spacectl.yamlio import read_manifest_document
from tests.e2e.conftest import BOT, BOT_TOKEN, ORG, CliResult, Workspace, is_write
from tests.oidc_keys import Issuer, trusted

SPACES = ("alpha", "beta", "gamma")
TRUSTED = ("alpha", "beta")  # gamma trusts nobody
MANIFEST = """\
version: 1
owner: {org}
spaces:
{entries}
"""


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer.create()


@pytest.fixture
def keyless(tmp_path: Path, issuer: Issuer) -> Iterator[Workspace]:
    """A sandbox trusting the test's publisher for alpha and beta, where a bot token created
    all three Spaces; the workspace's environment has no Hub token."""
    jwks = issuer.write_jwks(tmp_path / "jwks.json")
    with sandbox_process(
        tmp_path / "sandbox",
        build_seconds=0.2,
        user=[f"{BOT}:{BOT_TOKEN}"],
        org=[f"{ORG}:{BOT}"],
        oidc_jwks=jwks,
        trusted_publisher=[trusted(f"{ORG}/{name}") for name in TRUSTED],
    ) as sandbox:
        root = tmp_path / "repo"
        root.mkdir()
        env = sandbox.env(xet=True, token=BOT_TOKEN)  # the client's default
        ws = Workspace(root, sandbox, env)
        write_manifest(ws, "one")
        created = ws.run("apply", "--yes")
        assert created.code == 0, created.both
        env.pop("HF_TOKEN")
        sandbox.clear_requests()
        yield ws


def write_manifest(ws: Workspace, stage: str, spaces: tuple[str, ...] = SPACES) -> None:
    entries = "\n".join(
        f"  {name}:\n    sdk: static\n    variables:\n      STAGE: {stage}" for name in spaces
    )
    ws.manifest.write_text(MANIFEST.format(org=ORG, entries=entries))


def stage_of(sandbox: SandboxProcess, name: str) -> str:
    status, _, body = sandbox.http(
        "GET",
        f"/api/spaces/{ORG}/{name}/variables",
        headers={"Authorization": f"Bearer {BOT_TOKEN}"},
    )
    assert status == 200
    return str(json.loads(body)["STAGE"]["value"])


def issued(sandbox: SandboxProcess) -> list[dict[str, Any]]:
    tokens: list[dict[str, Any]] = sandbox.control("GET", "oidc")["tokens"]
    return tokens


def of_space(entries: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    base = f"/api/spaces/{ORG}/{name}"
    return [e for e in entries if e["path"] == base or str(e["path"]).startswith(base + "/")]


def hub_writes(sandbox: SandboxProcess) -> list[dict[str, Any]]:
    """Requests that change a Space (the token exchange changes none)."""
    return [e for e in sandbox.requests() if is_write(e) and e["path"] != "/oauth/token"]


def error_lines(result: CliResult) -> list[str]:
    return [line for line in result.err.splitlines() if line.startswith("Error:")]


def test_apply_oidc_updates_each_space_with_its_own_token_and_refuses_the_untrusted(
    keyless: Workspace, issuer: Issuer
) -> None:
    ws, sandbox = keyless, keyless.sandbox
    write_manifest(ws, "two")
    id_token = issuer.mint(sandbox.endpoint)
    result = ws.run("apply", "--oidc", "--yes", env={"HF_OIDC_ID_TOKEN": id_token})

    assert result.code == 1, result.both
    assert f"{ORG}/alpha: applied 1 change(s)" in result.out
    assert f"{ORG}/beta: applied 1 change(s)" in result.out
    assert f"{ORG}/gamma: refused: " in result.out
    assert "no trusted publisher" in result.out and "Trusted Publisher" in result.out
    assert error_lines(result) == [
        "Error: apply did not complete: 1 Space(s) failed or were refused (see above)"
    ]
    assert id_token not in result.both
    log = sandbox.requests()
    assert [stage_of(sandbox, name) for name in SPACES] == ["two", "two", "one"]
    exchanges = [e for e in log if e["path"] == "/oauth/token"]
    assert sorted(e["status"] for e in exchanges) == [200, 200, 400]  # one per Space
    tokens = {t["space"]: t["fingerprint"] for t in issued(sandbox)}
    assert sorted(tokens) == [f"{ORG}/alpha", f"{ORG}/beta"]  # one token per trusted Space
    for name in TRUSTED:
        requests = of_space(log, name)
        writes = [e for e in requests if is_write(e)]
        assert writes, name
        # Locked and unlocked with that token too (the lock's branch, locking.py).
        locks = [e["method"] for e in writes if "/branch/spacectl-lock" in str(e["path"])]
        assert locks == ["POST", "DELETE"], writes
        # Every read and write of the Space carried that Space's own token, none another's.
        assert {e["token"] for e in requests} == {tokens[f"{ORG}/{name}"]}, [
            (e["method"], e["path"], e["token"]) for e in requests
        ]
    assert of_space(log, "gamma") == []  # refused in the plan: not even read
    assert all(e["token"] is None for e in log if e["path"] == "/oauth/token")


def test_a_saved_keyless_plan_applies_and_still_refuses_the_untrusted(
    keyless: Workspace, issuer: Issuer
) -> None:
    ws, sandbox = keyless, keyless.sandbox
    write_manifest(ws, "three")
    env = {"HF_OIDC_ID_TOKEN": issuer.mint(sandbox.endpoint)}
    planned = ws.run("plan", "--oidc", "--out", "keyless.plan", env=env)
    assert planned.code == 1, planned.both  # the plan refuses gamma, and says so
    applied = ws.run("apply", "--oidc", "keyless.plan", env=env)
    assert applied.code == 1, applied.both
    assert f"{ORG}/alpha: applied 1 change(s)" in applied.out
    assert f"{ORG}/gamma: refused: " in applied.out and "no trusted publisher" in applied.out
    assert error_lines(applied) == [
        "Error: apply did not complete: 1 Space(s) failed or were refused (see above)"
    ]
    assert [stage_of(sandbox, name) for name in SPACES] == ["three", "three", "one"]


def test_status_and_logs_read_keylessly_and_name_what_they_cannot(
    keyless: Workspace, issuer: Issuer
) -> None:
    ws, sandbox = keyless, keyless.sandbox
    env = {"HF_OIDC_ID_TOKEN": issuer.mint(sandbox.endpoint)}
    status = ws.run("status", "--oidc", "--format", "json", env=env)
    assert status.code == 1, status.both
    rows = {row["id"]: row for row in json.loads(status.out)["spaces"]}
    assert rows[f"{ORG}/alpha"]["stage"] not in ("absent", "unreadable")
    assert rows[f"{ORG}/gamma"]["stage"] == "unreadable"
    assert "no trusted publisher" in rows[f"{ORG}/gamma"]["warning"]
    assert error_lines(status) == [
        "Error: --oidc: 1 Space(s) could not be read keylessly (see above)"
    ]
    tokens = {t["space"]: t["fingerprint"] for t in issued(sandbox)}
    reads = of_space(sandbox.requests(), "alpha")
    assert reads and {e["token"] for e in reads} == {tokens[f"{ORG}/alpha"]}
    sandbox.clear_requests()
    logs = ws.run("logs", "alpha", "--build", "--oidc", env=env)
    assert logs.code == 0, logs.both  # a static Space: "no build logs yet"
    asked = of_space(sandbox.requests(), "alpha")
    assert any("logs" in e["path"] for e in asked), asked
    latest = {t["space"]: t["fingerprint"] for t in issued(sandbox)}  # logs exchanged anew
    assert {e["token"] for e in asked} == {latest[f"{ORG}/alpha"]}


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"audience": "https://huggingface.co"}, "audience is not"),
        ({"lifetime": -120}, "has expired"),
        ({"subject": "repo:someone/fork:ref:refs/heads/main"}, "no trusted publisher"),
    ],
    ids=["wrong-audience", "expired", "wrong-subject"],
)
def test_a_bad_id_token_is_invalid_grant_and_one_line(
    keyless: Workspace, issuer: Issuer, claims: dict[str, Any], reason: str
) -> None:
    ws, sandbox = keyless, keyless.sandbox
    write_manifest(ws, "two", TRUSTED)
    audience = str(claims.pop("audience", sandbox.endpoint))
    id_token = issuer.mint(audience, **claims)
    result = ws.run("apply", "--oidc", "--yes", env={"HF_OIDC_ID_TOKEN": id_token})

    assert result.code == 1, result.both
    [line] = error_lines(result)
    assert "invalid_grant" in line and reason in line, line
    assert "Trusted Publisher" in result.err  # the fix
    assert hub_writes(sandbox) == []
    assert issued(sandbox) == []


def test_a_token_expiring_mid_apply_is_exchanged_again(keyless: Workspace, issuer: Issuer) -> None:
    """alpha is applied, then the sandbox clock moves past the tokens' hour while beta's write
    is on its way: the Hub answers 401, spacectl exchanges again and the write lands."""
    ws, sandbox = keyless, keyless.sandbox
    write_manifest(ws, "two", TRUSTED)
    id_token = issuer.mint(sandbox.endpoint, lifetime=3 * 3600)
    beta_variables = f"/api/spaces/{ORG}/beta/variables"
    sandbox.set_faults(latency_ms=2000, only_paths=beta_variables)
    env = {**ws.env, "HF_OIDC_ID_TOKEN": id_token}
    command = [sys.executable, "-m", "spacectl", "apply", "--oidc", "--yes", "--parallelism", "1"]
    with subprocess.Popen(
        command, cwd=ws.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        deadline = time.monotonic() + 120
        while not any(
            e["method"] == "POST" and e["path"] == f"/api/spaces/{ORG}/alpha/variables"
            for e in sandbox.requests()
        ):
            assert proc.poll() is None and time.monotonic() < deadline, "alpha was never written"
            time.sleep(0.05)
        sandbox.control("PUT", "clock", {"advance_seconds": 3700})
        out, err = proc.communicate(timeout=120)

    assert proc.returncode == 0, out + err
    assert "exchanging again" in err
    assert [stage_of(sandbox, name) for name in TRUSTED] == ["two", "two"]
    beta_tokens = [t["fingerprint"] for t in issued(sandbox) if t["space"] == f"{ORG}/beta"]
    assert len(beta_tokens) == 2
    # The first token expires on its way, at apply's lock or re-read of beta before its first
    # write or at the write itself: its last answer is a 401, and the write lands with the
    # second token.
    beta = of_space(sandbox.requests(), "beta")
    assert [e["status"] for e in beta if e["token"] == beta_tokens[0]][-1] == 401
    calls = [e for e in sandbox.requests() if e["path"] == beta_variables]
    posts = [(e["status"], e["token"]) for e in calls if e["method"] == "POST"]
    assert posts[-1] == (200, beta_tokens[1]) and (200, beta_tokens[0]) not in posts


def test_doctor_oidc_reports_which_spaces_trust_this_workflow(
    keyless: Workspace, issuer: Issuer
) -> None:
    ws, sandbox = keyless, keyless.sandbox
    id_token = issuer.mint(sandbox.endpoint)
    result = ws.run("doctor", "--oidc", "--format", "json", env={"HF_OIDC_ID_TOKEN": id_token})
    assert result.code == 1, result.both
    checks = {c["name"]: c for c in json.loads(result.out)["checks"]}
    assert checks[f"keyless ({ORG}/alpha)"]["verdict"] == "PASS"
    assert checks[f"keyless ({ORG}/beta)"]["verdict"] == "PASS"
    gamma = checks[f"keyless ({ORG}/gamma)"]
    assert gamma["verdict"] == "FAIL" and "no trusted publisher" in gamma["message"]
    assert "Trusted Publisher" in gamma["fix"]
    summary = checks["keyless"]
    assert summary["verdict"] == "WARN"
    assert summary["message"] == f"2 of 3 Space(s) trust this workflow: {ORG}/alpha, {ORG}/beta"
    assert "token" not in checks  # no whoami: a keyless token has no user


def test_creates_and_deletes_are_refused_before_any_write(
    keyless: Workspace, issuer: Issuer
) -> None:
    ws, sandbox = keyless, keyless.sandbox
    # delta does not exist; the sandbox trusts the publisher for it (the exchange succeeds),
    # but a Space-scoped token cannot create it. alpha is to be deleted: that needs a token too.
    sandbox.control("POST", "oidc", {"trusted_publisher": trusted(f"{ORG}/delta")})
    text = MANIFEST.format(
        org=ORG,
        entries="  alpha:\n    state: absent\n  beta:\n    sdk: static\n"
        "  delta:\n    sdk: static\n",
    )
    ws.manifest.write_text(text)
    result = ws.run("plan", "--oidc", env={"HF_OIDC_ID_TOKEN": issuer.mint(sandbox.endpoint)})
    assert result.code == 1, result.both
    assert f"{ORG}/delta: not applied keylessly: creating a Space needs a user" in result.both
    assert f"{ORG}/alpha: not applied keylessly: deleting a Space needs a user" in result.both
    assert hub_writes(sandbox) == []
    # With a token as well, that token does what keyless tokens cannot.
    shutil.rmtree(ws.root / ".spacectl-sandbox", ignore_errors=True)
    both = ws.run(
        "plan",
        "--oidc",
        env={"HF_OIDC_ID_TOKEN": issuer.mint(sandbox.endpoint), "HF_TOKEN": BOT_TOKEN},
    )
    assert both.code == 0, both.both
    assert "not applied keylessly" not in both.both


def test_the_actions_keyless_mode_applies_with_the_jobs_id_token(
    keyless: Workspace, issuer: Issuer
) -> None:
    """The example keyless workflow's action step, as the runner runs it: no HF_TOKEN; the job's
    id token comes from the (fake) Actions runtime, which only a job with `id-token: write` can
    reach (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN)."""
    from tests.e2e.test_github_action import REPOSITORY, WORKFLOWS, WRITE_GH, run_action
    from tests.fakegithub import ID_TOKEN_PATH, fake_github

    workflow = read_manifest_document((WORKFLOWS / "apply-keyless.yml").read_text())
    assert workflow["permissions"]["id-token"] == "write"
    ws, sandbox = keyless, keyless.sandbox
    write_manifest(ws, "two", TRUSTED)
    request_token = "actions-runtime-request-token"
    with fake_github(REPOSITORY, {WRITE_GH: "write", request_token: "read"}) as github:
        audiences: list[str] = []

        def mint(audience: str) -> str:
            audiences.append(audience)
            return issuer.mint(audience)

        github.id_token = mint
        ws.env["ACTIONS_ID_TOKEN_REQUEST_URL"] = f"{github.url}{ID_TOKEN_PATH}?api-version=2.0"
        ws.env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = request_token
        run = run_action(ws, github, "apply-keyless.yml", event="push", secrets={})

    assert run.code == 0, run.log
    assert audiences == [sandbox.endpoint]  # one id token, for the Hub that verifies it
    assert [stage_of(sandbox, name) for name in TRUSTED] == ["two", "two"]
    assert sorted(t["space"] for t in issued(sandbox)) == [f"{ORG}/alpha", f"{ORG}/beta"]
    assert "HF_TOKEN" not in ws.env
    assert request_token not in run.log


def test_without_an_id_token_oidc_is_a_one_line_configuration_error(keyless: Workspace) -> None:
    ws = keyless
    env = {k: v for k, v in ws.env.items() if k not in ("GITHUB_ACTIONS", "HF_OIDC_ID_TOKEN")}
    ws.env.clear()
    ws.env.update(env)
    result = ws.run("plan", "--oidc")
    assert result.code == 1, result.both
    assert error_lines(result) == [
        "Error: --oidc: no OIDC id token: not running in GitHub Actions and HF_OIDC_ID_TOKEN "
        "is unset"
    ]
    assert "id-token: write" in result.err
    assert ws.sandbox.requests() == []


def test_a_keyless_plan_reads_each_space_with_its_own_token_and_no_listing(
    keyless: Workspace, issuer: Issuer
) -> None:
    """The read path's cost: per Space one exchange, one space_info and the reads its entry
    needs; a plan with an owner's token makes one listing instead of the exchanges and infos."""
    ws, sandbox = keyless, keyless.sandbox
    write_manifest(ws, "one", TRUSTED)

    def calls() -> list[tuple[str, str]]:
        return [(str(e["method"]), str(e["path"])) for e in sandbox.requests()]

    result = ws.run("plan", "--oidc", env={"HF_OIDC_ID_TOKEN": issuer.mint(sandbox.endpoint)})
    assert result.code == 0, result.both
    keyless_calls = calls()
    expected = [("POST", "/oauth/token")] * 2
    for name in TRUSTED:
        base = f"/api/spaces/{ORG}/{name}"
        expected += [("GET", base), ("GET", base + "/variables")]
    assert sorted(keyless_calls) == sorted(expected)

    sandbox.clear_requests()
    with_token = ws.run("plan", env={"HF_TOKEN": BOT_TOKEN})
    assert with_token.code == 0, with_token.both
    token_calls = calls()
    assert sorted(token_calls) == sorted(
        [("GET", "/api/spaces")] + [("GET", f"/api/spaces/{ORG}/{n}/variables") for n in TRUSTED]
    )
    print(
        f"requests for a plan of {len(TRUSTED)} Spaces: keyless {len(keyless_calls)}, "
        f"with a token {len(token_calls)}"
    )
