"""Calls at the API floor, counted from the sandbox's request log: an apply from empty reads
nothing back per created Space but its head (one commit listing) for its first commit, and a
plan with a warm tree cache reads no tree."""

from __future__ import annotations

from tests.e2e.conftest import Workspace

SPACES = 6  # examples/spaces.yaml creates six Spaces


def _gets(ws: Workspace) -> list[str]:
    return [str(r["path"]) for r in ws.sandbox.requests() if r["method"] == "GET"]


def test_apply_from_empty_reads_nothing_back_and_a_warm_plan_reads_no_tree(
    workspace: Workspace,
) -> None:
    ws = workspace
    ws.sandbox.clear_requests()
    assert ws.run("apply", "--yes").code == 0
    gets = _gets(ws)
    # No per-Space read-back or variables/secrets read after a create: the bulk listing, one
    # head read (commit listing) per first commit, at most one template tree listing per SDK.
    assert not [g for g in gets if g.endswith(("/variables", "/secrets"))], gets
    assert not [g for g in gets if g.count("/") == 4 and g.startswith("/api/spaces/")], gets
    assert len([g for g in gets if "/tree/" in g]) <= 4, gets
    commits = [r for r in ws.sandbox.requests() if str(r["path"]).endswith("/commit/main")]
    assert commits and len([g for g in gets if g.endswith("/commits/main")]) == len(commits)

    ws.sandbox.clear_requests()
    cold = ws.run("plan", "--detailed-exitcode")
    assert cold.code == 0, cold.both
    assert len([g for g in _gets(ws) if "/tree/" in g]) == SPACES

    ws.sandbox.clear_requests()
    warm = ws.run("plan", "--detailed-exitcode")
    assert warm.code == 0, warm.both
    gets = _gets(ws)
    assert not [g for g in gets if "/tree/" in g], gets

    # Another cache folder is cold again: the cache is the only reason trees were not read.
    ws.sandbox.clear_requests()
    other = ws.run("plan", "--cache-dir", str(ws.root / "other-cache"))
    assert other.code == 0, other.both
    assert len([g for g in _gets(ws) if "/tree/" in g]) == SPACES
