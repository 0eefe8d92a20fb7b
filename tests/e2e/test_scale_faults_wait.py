"""Large folders, injected faults and --wait, through the real CLI against a sandbox process."""

from __future__ import annotations

import time
from pathlib import Path

from huggingface_hub import HfApi

from tests.e2e.conftest import BOT_TOKEN, ORG, Workspace


def _api(ws: Workspace) -> HfApi:
    return HfApi(endpoint=ws.sandbox.endpoint, token=BOT_TOKEN)


def _write_manifest(ws: Workspace, body: str) -> None:
    ws.manifest.write_text(f"version: 1\nowner: {ORG}\n{body}")


def test_one_changed_file_among_2000_is_one_small_commit(workspace: Workspace) -> None:
    ws = workspace
    site = ws.root / "big-site"
    for i in range(2000):
        folder = site / f"section-{i // 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"page-{i:04d}.html").write_text(f"<p>page {i}</p>\n")
    _write_manifest(ws, "spaces:\n  big:\n    sdk: static\n    source: ./big-site\n")
    assert ws.run("apply", "--yes").code == 0
    space = f"{ORG}/big"
    api = _api(ws)
    commits_before = len(api.list_repo_commits(space, repo_type="space"))

    (site / "section-07" / "page-0700.html").write_text("<p>changed</p>\n")
    plan = ws.run("plan", "--detailed-exitcode")
    assert plan.code == 2
    assert "~ files/section-07/page-0700.html" in plan.out
    assert "Plan: 0 to create, 1 to update" in plan.out
    ws.sandbox.clear_requests()
    assert ws.run("apply", "--yes").code == 0
    commits = [r for r in ws.sandbox.requests() if "/commit/" in str(r["path"])]
    assert len(commits) == 1
    assert int(commits[0]["request_bytes"]) < 2000, commits[0]
    assert len(api.list_repo_commits(space, repo_type="space")) == commits_before + 1

    (site / "section-03" / "page-0301.html").unlink()
    result = ws.run("apply", "--yes")
    assert result.code == 0 and "- files/section-03/page-0301.html" in result.out
    files = set(api.list_repo_files(space, repo_type="space"))
    assert "section-03/page-0301.html" not in files
    assert ".gitattributes" in files and "README.md" in files
    assert len(files) == 1999 + 2
    assert ws.run("plan", "--detailed-exitcode").code == 0


def test_thirty_spaces_converge_under_injected_faults(workspace: Workspace) -> None:
    ws = workspace
    site = ws.root / "shared-site"
    site.mkdir()
    (site / "index.html").write_text("<h1>hello</h1>\n")
    (site / "app.js").write_text("console.log(1)\n")
    spaces = "".join(
        f"  s{i:02d}:\n    variables: {{INDEX: {i}}}\n    card: {{title: Space {i}}}\n"
        for i in range(30)
    )
    _write_manifest(
        ws,
        "defaults:\n  sdk: static\n  source: ./shared-site\n  variables: {STAGE: prod}\n"
        "  secrets: {API_KEY: {from_env: GEMINI_API_KEY}}\n"
        f"spaces:\n{spaces}",
    )
    # 20 % of requests fail: errors and resets before the work, and lost answers after it (a
    # write that landed but looks failed: a naive retry would commit twice).
    ws.sandbox.set_faults(
        error_rate=0.14, error_statuses=[500, 503, 429], reset_rate=0.03, lost_response_rate=0.03
    )
    key = {"SPACECTL_SECRET_KEY": "faults-test-key"}
    started = time.monotonic()
    result = ws.run("apply", "--yes", "--parallelism", "8", env=key)
    elapsed = time.monotonic() - started
    assert result.code == 0, result.both
    assert "30 applied" in result.out
    assert "retry:" in result.err  # faults really happened and were retried
    print(f"apply of 30 Spaces under 20% faults: {elapsed:.1f}s")

    ws.sandbox.set_faults(error_rate=0.0, reset_rate=0.0, lost_response_rate=0.0)
    # No drift after retried writes: secrets are stamped per attempt with the Hub's time.
    after = ws.run("plan", "--detailed-exitcode", env=key)
    assert after.code == 0, after.out
    api = _api(ws)
    for i in range(30):
        commits = api.list_repo_commits(f"{ORG}/s{i:02d}", repo_type="space")
        assert len(commits) == 2, (i, [c.title for c in commits])  # initial + exactly one ours
        assert api.get_space_variables(f"{ORG}/s{i:02d}")["INDEX"].value == str(i)


def test_wait_shows_the_build_error_of_a_dockerfile_without_from(workspace: Workspace) -> None:
    ws = workspace
    app = ws.root / "broken"
    app.mkdir()
    (app / "Dockerfile").write_text("RUN echo no base image\nCMD python app.py\n")
    (app / "app.py").write_text("print('hi')\n")
    _write_manifest(ws, "spaces:\n  broken:\n    sdk: docker\n    source: ./broken\n")
    result = ws.run("apply", "--yes", "--wait", "--timeout", "60")
    assert result.code == 1, result.both
    assert "BUILD_ERROR" in result.out
    assert "FROM" in result.out  # the build log's reason is shown
    assert f"more: spacectl logs {ORG}/broken --build" in result.out
    assert f"/spaces/{ORG}/broken" in result.out
    assert "Error: apply did not complete: not every changed Space is running" in result.err


def test_wait_succeeds_and_prints_urls(workspace: Workspace) -> None:
    ws = workspace
    result = ws.run("apply", "--yes", "--wait", "--timeout", "60", "--target", "team-a")
    assert result.code == 0, result.both
    assert f"{ORG}/team-a: running" in result.out
    assert f"{ws.sandbox.endpoint}/spaces/{ORG}/team-a" in result.out
    assert "hf.space" not in result.out  # the sandbox's URLs, not the public Hub's


def test_docker_space_without_dockerfile_is_warned_in_plan(workspace: Workspace) -> None:
    ws = workspace
    (ws.root / "nodocker").mkdir()
    (ws.root / "nodocker" / "main.py").write_text("print(1)\n")
    _write_manifest(ws, "spaces:\n  nd:\n    sdk: docker\n    source: ./nodocker\n")
    plan = ws.run("plan")
    assert plan.code == 0
    assert "Warning: ifcore-org/nd: Docker Space without a Dockerfile" in plan.out
    waited = ws.run("apply", "--yes", "--wait", "--timeout", "60")
    assert waited.code == 1
    assert f"{ORG}/nd: NO_APP_FILE" in waited.out
    assert "fix: the Space has no app to run: add a Dockerfile" in waited.out


def test_apply_with_xet_enabled_client(workspace: Workspace, tmp_path: Path) -> None:
    """The default install has hf_xet: a binary file goes through the sandbox's Xet storage."""
    ws = workspace
    env = ws.sandbox.env(xet=True, token=BOT_TOKEN)
    env["GEMINI_API_KEY"] = ws.env["GEMINI_API_KEY"]
    (ws.root / "apps" / "docs" / "logo.bin").write_bytes(bytes(range(256)) * 8)
    result = ws.run("apply", "--yes", "--target", "docs", env=env)
    assert result.code == 0, result.both
    assert ws.run("plan", "--detailed-exitcode", "--target", "docs", env=env).code == 0


def test_a_commit_whose_answer_is_lost_is_not_made_twice(workspace: Workspace) -> None:
    """The commit lands but its answer is lost. Retrying it, the client skips the files that
    are already there and the deletion finds nothing to delete: spacectl checks that the head
    carries exactly the planned change and stops. One commit, and the next plan is empty."""
    ws = workspace
    assert ws.run("apply", "--yes", "--target", "docs").code == 0
    api = _api(ws)
    before = len(api.list_repo_commits(f"{ORG}/docs", repo_type="space"))
    (ws.root / "apps" / "docs" / "style.css").unlink()
    (ws.root / "apps" / "docs" / "index.html").write_text("<h1>v2</h1>\n")
    ws.sandbox.set_faults(only_paths="/commit/", lose_next=1)
    result = ws.run("apply", "--yes", "--target", "docs")
    assert result.code == 0, result.both
    assert "an earlier attempt of the commit landed" in result.err
    assert ws.sandbox.control("GET", "faults")["lose_next"] == 0
    assert len(api.list_repo_commits(f"{ORG}/docs", repo_type="space")) == before + 1
    ws.sandbox.set_faults(only_paths=None)
    assert ws.run("plan", "--detailed-exitcode", "--target", "docs").code == 0


def test_a_commit_with_an_lfs_file_whose_answer_is_lost_counts_as_landed(
    workspace: Workspace,
) -> None:
    """The same with a binary file the Hub stores as LFS: the head's blob id is the pointer's,
    so the landed check must compare the content's SHA-256 (it used to report a 412 failure)."""
    ws = workspace
    assert ws.run("apply", "--yes", "--target", "docs").code == 0
    api = _api(ws)
    before = len(api.list_repo_commits(f"{ORG}/docs", repo_type="space"))
    (ws.root / "apps" / "docs" / "logo.bin").write_bytes(bytes(range(256)) * 8)  # 2 KiB
    # With a deletion the retried commit is not empty, so the Hub answers 412 to it.
    (ws.root / "apps" / "docs" / "style.css").unlink()
    ws.sandbox.set_faults(only_paths="/commit/", lose_next=1)
    result = ws.run("apply", "--yes", "--target", "docs")
    assert result.code == 0, result.both
    assert "an earlier attempt of the commit landed" in result.err
    assert len(api.list_repo_commits(f"{ORG}/docs", repo_type="space")) == before + 1
    info = api.get_paths_info(f"{ORG}/docs", ["logo.bin"], repo_type="space")
    assert info[0].lfs is not None  # stored as LFS, the case under test
    ws.sandbox.set_faults(only_paths=None)
    assert ws.run("plan", "--detailed-exitcode", "--target", "docs").code == 0


def test_a_create_whose_answer_is_lost_is_not_made_twice(workspace: Workspace) -> None:
    ws = workspace
    ws.sandbox.set_faults(only_paths="/api/repos/create", lose_next=1)
    result = ws.run("apply", "--yes", "--target", "team-a")
    assert result.code == 0, result.both
    assert "an earlier attempt of the create landed" in result.err
    ws.sandbox.set_faults(only_paths=None)
    assert ws.run("plan", "--detailed-exitcode", "--target", "team-a").code == 0


def test_rate_limit_is_honoured_not_fatal(workspace: Workspace) -> None:
    """The Hub's fixed-window limit answers 429 with RateLimit headers; apply waits and goes on."""
    ws = workspace
    ws.sandbox.set_faults(rate_limit="6/2")
    ws.sandbox.clear_requests()
    result = ws.run("apply", "--yes", "--target", "platform", "--target", "docs")
    assert result.code == 0, result.both
    statuses = [r["status"] for r in ws.sandbox.requests()]
    assert 429 in statuses
    ws.sandbox.set_faults(rate_limit=None)
    assert (
        ws.run("plan", "--detailed-exitcode", "--target", "platform", "--target", "docs").code == 0
    )


def test_readme_the_hub_rejects_is_refused_at_plan_time(workspace: Workspace) -> None:
    """A README front matter the Hub's validator refuses: one line naming that Space, at plan
    time, exit 1, no traceback, and nothing written (not even the other targeted Space)."""
    ws = workspace
    (ws.root / "apps" / "docs" / "README.md").write_text("---\nsdk: static\ncolorFrom: 12\n---\n")
    ws.sandbox.clear_requests()
    result = ws.run("apply", "--yes", "--target", "docs", "--target", "team-a")
    assert result.code == 1, result.both
    errors = [line for line in result.err.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "ifcore-org/docs: the Hub refuses its README.md" in errors[0]
    assert ws.writes() == []


def test_wait_timeout_is_reported_per_space(workspace: Workspace) -> None:
    """A build slower than --timeout: that Space is reported, the others' results still show."""
    ws = workspace
    ws.sandbox.configure(build_seconds=60)
    result = ws.run(
        "apply", "--yes", "--wait", "--timeout", "3", "--target", "team-a", "--target", "docs"
    )
    assert result.code == 1, result.both
    assert f"{ORG}/team-a: BUILDING" in result.out or f"{ORG}/team-a: APP_STARTING" in result.out
    assert "(--timeout)" in result.out
    assert f"{ORG}/docs: running" in result.out  # a static Space runs at once
    assert f"/spaces/{ORG}/team-a" in result.out and f"/spaces/{ORG}/docs" in result.out
