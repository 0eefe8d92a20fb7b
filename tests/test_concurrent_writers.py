"""Concurrent writers, FakeHub unit tests of apply's logic (the e2e proofs through the CLI are
tests/e2e/test_concurrent_writers.py and test_crash_trials.py):

- the first commit of a Space apply created is built on the head it read: on the Hub's initial
  commit it deletes the template's files the source lacks; past it (another writer committed),
  only template files unchanged by path and blob id, keeping and reporting the others; a head
  that moves again is read once more, twice refuses;
- the per-Space lock (locking.py) wraps every write to an existing Space, is released however the
  Space ends, refuses a Space another apply holds, and can be waited for or switched off."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from fakehub import FakeHub, stored_file

from spacectl.apply import apply_plan
from spacectl.errors import TransientHubError
from spacectl.inputs import plan_inputs, read_needs, targeted
from spacectl.locking import LOCK_BRANCH
from spacectl.manifest_loader import parse_manifest
from spacectl.plan import Plan, compute_plan
from spacectl.results import Outcome, SpaceResult
from spacectl.state import LiveSpace, ReadNeeds

SID = "acme/site"
TEMPLATE = {"index.html": b"template page\n", "style.css": b"template style\n"}


def _plan(hub: FakeHub, base: Path, page: str = "<p>ours</p>\n", variable: str = "1") -> Plan:
    (base / "site").mkdir(exist_ok=True)
    (base / "site" / "index.html").write_text(page)
    text = (
        "version: 1\nowner: acme\nspaces:\n"
        f"  site: {{sdk: static, source: ./site, variables: {{V: '{variable}'}}}}\n"
    )
    return _plan_of(hub, text, base)


def _plan_of(hub: FakeHub, text: str, base: Path) -> Plan:
    manifest = parse_manifest(text, "spaces.yaml", base_dir=base)
    inputs = plan_inputs(manifest, environ={}, targets=None)
    needs = {s.id: read_needs(s, inputs.files.get(s.id)) for s in targeted(manifest, None)}
    return compute_plan(manifest, hub.read_live(needs), inputs)


def _apply(hub: FakeHub, plan: Plan, base: Path, **options: object) -> SpaceResult:
    return apply_plan(plan, hub, environ={}, base_dir=base, **options).spaces[0]  # type: ignore[arg-type]


class RaceHub(FakeHub):
    """Creates static Spaces with the Hub's template; another writer commits `theirs.txt` (and
    `also` files) right after the create (`after_create`) or as spacectl's first commits are
    sent (`commits_intruded` of them). Records each commit's parent."""

    def __init__(self, *, after_create: bool = False, commits_intruded: int = 0) -> None:
        super().__init__()
        self.template = dict(TEMPLATE)
        self.after_create = after_create
        self.commits_intruded = commits_intruded
        self.also: dict[str, bytes] = {}
        self.parents: list[str | None] = []

    def create_space(self, space_id, create, secrets):  # type: ignore[no-untyped-def]
        super().create_space(space_id, create, secrets)
        if self.after_create:
            self.theirs(space_id)

    def theirs(self, space_id: str, name: str = "theirs.txt") -> None:
        """An out-of-band commit, as the real client makes one."""
        space = self.spaces[space_id]
        space.files[name] = stored_file(name, b"out of band\n")
        space.files.update((path, stored_file(path, data)) for path, data in self.also.items())
        self._update(space, sha=f"{len(space.history):040x}")
        space.history.append((str(space.live.sha), dict(space.files)))

    def commit(self, space_id: str, **kwargs: Any) -> str:  # type: ignore[override]
        self.parents.append(kwargs["parent"])
        if self.commits_intruded:
            self.commits_intruded -= 1
            self.theirs(space_id, f"theirs-{self.commits_intruded}.txt")
        return super().commit(space_id, **kwargs)


def test_the_first_commit_is_built_on_the_initial_commit_and_deletes_the_template(
    tmp_path: Path,
) -> None:
    hub = RaceHub()
    space = _apply(hub, _plan(hub, tmp_path), tmp_path)
    assert space.outcome is Outcome.APPLIED, space.error
    assert set(hub.spaces[SID].files) == {".gitattributes", "README.md", "index.html"}
    initial = hub.spaces[SID].history[0][0]
    assert hub.parents == [initial]  # built on the head it read, never on "whatever is there"
    assert space.notes == []
    assert hub.branch_calls == []  # a Space this apply creates takes no lock


@pytest.mark.parametrize("changed_style", [False, True])
def test_a_commit_after_the_create_is_kept_and_only_the_untouched_template_deleted(
    tmp_path: Path, changed_style: bool
) -> None:
    hub = RaceHub(after_create=True)
    if changed_style:
        hub.also = {"style.css": b"their style\n"}  # the other writer edited a template file
    space = _apply(hub, _plan(hub, tmp_path), tmp_path)
    assert space.outcome is Outcome.APPLIED, space.error
    files = hub.spaces[SID].files
    assert "theirs.txt" in files
    assert ("style.css" in files) is changed_style
    kept = "style.css, theirs.txt" if changed_style else "theirs.txt"
    assert space.notes == [
        f"kept {2 if changed_style else 1} file(s) another writer added or changed: {kept}"
    ]
    assert hub.parents == [hub.spaces[SID].history[1][0]]  # on the moved head it read
    # The next plan shows what was kept, for review.
    again = _plan(hub, tmp_path)
    commits = [op for c in again.changes for op in c.operations if op.kind == "commit"]
    assert [c.deletions for c in commits] == [tuple(kept.split(", "))]  # type: ignore[attr-defined]


def test_a_head_that_moves_as_the_first_commit_is_sent_is_read_again(tmp_path: Path) -> None:
    hub = RaceHub(commits_intruded=1)
    space = _apply(hub, _plan(hub, tmp_path), tmp_path)
    assert space.outcome is Outcome.APPLIED, space.error
    history = hub.spaces[SID].history
    # First on the initial commit (refused: 412), then on the head the other writer made.
    assert hub.parents == [history[0][0], history[1][0]]
    assert "theirs-0.txt" in hub.spaces[SID].files and "style.css" not in hub.spaces[SID].files
    assert space.notes == ["kept 1 file(s) another writer added or changed: theirs-0.txt"]


def test_a_head_that_moves_twice_refuses_the_first_commit(tmp_path: Path) -> None:
    hub = RaceHub(commits_intruded=2)
    space = _apply(hub, _plan(hub, tmp_path), tmp_path)
    assert space.outcome is Outcome.FAILED  # the create and its settings were written
    assert space.error is not None and "its head moved twice" in space.error
    assert space.hint == "run `spacectl plan` to review its files, then `spacectl apply`"
    assert "index.html" in hub.spaces[SID].files and hub.spaces[SID].files["index.html"].size == 14
    assert len(hub.parents) == 2


# --- the lock -----------------------------------------------------------------------------------


class LockOrderHub(FakeHub):
    """Logs the lock's calls and the stale check's re-read in one sequence."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[str] = []

    def create_branch(self, space_id: str, branch: str) -> None:
        self.events.append("lock")
        super().create_branch(space_id, branch)

    def delete_branch(self, space_id: str, branch: str) -> bool:
        self.events.append("unlock")
        return super().delete_branch(space_id, branch)

    def read_space(self, space_id: str, needs: ReadNeeds) -> LiveSpace | None:
        self.events.append("re-read")
        return super().read_space(space_id, needs)

    def set_variable(self, space_id: str, key: str, value: str) -> None:
        self.events.append("write")
        super().set_variable(space_id, key, value)

    def commit(self, space_id: str, **kwargs: Any) -> str:  # type: ignore[override]
        self.events.append("write")
        return super().commit(space_id, **kwargs)


def _existing(hub: FakeHub) -> None:
    hub.add_space(SID, "static")


def test_the_lock_is_taken_before_the_re_read_and_released_after_the_writes(
    tmp_path: Path,
) -> None:
    hub = LockOrderHub()
    _existing(hub)
    space = _apply(hub, _plan(hub, tmp_path), tmp_path)
    assert space.outcome is Outcome.APPLIED, space.error
    assert hub.events == ["lock", "re-read", "write", "write", "unlock"]
    assert hub.spaces[SID].branches == set()


def test_a_held_lock_refuses_the_space_before_any_write(tmp_path: Path) -> None:
    hub = LockOrderHub()
    _existing(hub)
    hub.spaces[SID].branches.add(LOCK_BRANCH)  # another apply holds it (or was killed)
    space = _apply(hub, _plan(hub, tmp_path), tmp_path)
    assert space.outcome is Outcome.REFUSED
    assert space.error == (
        f"{SID}: another spacectl apply holds its lock (branch spacectl-lock); "
        "nothing was written to it"
    )
    assert space.hint is not None and f"`spacectl unlock {SID}`" in space.hint
    assert hub.events == ["lock"] and hub.writes(SID) == []
    assert hub.spaces[SID].branches == {LOCK_BRANCH}  # not ours: left as it was


def test_the_lock_is_released_when_the_space_is_stale_or_fails(tmp_path: Path) -> None:
    hub = LockOrderHub()
    _existing(hub)
    plan = _plan(hub, tmp_path)
    hub.spaces[SID].variables["V"] = "changed"  # another apply finished meanwhile
    space = _apply(hub, plan, tmp_path)
    assert space.outcome is Outcome.REFUSED and "changed on the Hub" in (space.error or "")
    assert hub.events == ["lock", "re-read", "unlock"]
    hub.events.clear()
    hub.fail[(SID, "commit")] = TransientHubError(f"{SID}: the Hub answered 503", status=503)
    space = _apply(hub, _plan(hub, tmp_path), tmp_path)
    assert space.outcome is Outcome.FAILED
    assert hub.events == ["lock", "re-read", "write", "write", "unlock"]
    assert hub.spaces[SID].branches == set()


def test_a_lock_that_cannot_be_released_fails_the_space_with_the_unlock_hint(
    tmp_path: Path,
) -> None:
    class Stuck(FakeHub):
        def delete_branch(self, space_id: str, branch: str) -> bool:
            raise TransientHubError(f"{space_id}: delete branch: the Hub answered 503")

    hub = Stuck()
    _existing(hub)
    space = _apply(hub, _plan(hub, tmp_path), tmp_path)
    assert space.outcome is Outcome.FAILED
    assert "was not released" in (space.error or "")
    assert space.hint == f"run `spacectl unlock {SID}`, then `spacectl apply` again if needed"


def test_lock_timeout_waits_for_the_lock_and_no_lock_takes_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("spacectl.locking.POLL_SECONDS", 0.05)
    hub = FakeHub()
    _existing(hub)
    hub.spaces[SID].branches.add(LOCK_BRANCH)
    threading.Timer(0.3, lambda: hub.spaces[SID].branches.clear()).start()
    space = _apply(hub, _plan(hub, tmp_path), tmp_path, lock_timeout=5.0)
    assert space.outcome is Outcome.APPLIED, space.error
    asks = [c for c in hub.branch_calls if c[1].startswith("create_branch")]
    assert len(asks) > 1  # refused at first, taken once the other released it
    hub.branch_calls.clear()
    space = _apply(hub, _plan(hub, tmp_path, variable="2"), tmp_path, lock=False)
    assert space.outcome is Outcome.APPLIED and hub.branch_calls == []


def test_a_deleted_space_releases_nothing_that_fails(tmp_path: Path) -> None:
    hub = FakeHub()
    _existing(hub)
    text = "version: 1\nowner: acme\nspaces:\n  site: {sdk: static, state: absent}\n"
    plan = _plan_of(hub, text, tmp_path)
    space = _apply(hub, plan, tmp_path)
    assert space.outcome is Outcome.APPLIED, space.error
    assert SID not in hub.spaces
    assert hub.branch_calls == [
        (SID, f"create_branch {LOCK_BRANCH}"),
        (SID, "delete_branch " + LOCK_BRANCH),
    ]


def test_a_space_another_writer_created_first_is_refused_with_nothing_written(
    tmp_path: Path,
) -> None:
    hub = RaceHub()
    plan = _plan(hub, tmp_path)  # plans a create
    hub.add_space(SID, "static")  # the other apply's create landed first
    space = _apply(hub, plan, tmp_path)
    assert space.outcome is Outcome.REFUSED and space.operations_done == []
    assert "already exists" in (space.error or "") and hub.writes(SID) == ["create_space"]


def test_a_duplicated_spaces_first_commit_deletes_nothing_beyond_the_plan(tmp_path: Path) -> None:
    hub = RaceHub()
    hub.add_space("acme/tpl", "static")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<p>ours</p>\n")
    text = (
        "version: 1\nowner: acme\nspaces:\n"
        "  site: {sdk: static, source: ./site, template: acme/tpl}\n"
    )
    plan = _plan_of(hub, text, tmp_path)
    space = _apply(hub, plan, tmp_path)
    assert space.outcome is Outcome.APPLIED, space.error
    assert "style.css" in hub.spaces[SID].files  # the template's: shown by the next plan
    assert hub.parents == [hub.spaces[SID].history[0][0]] and space.notes == []


def test_the_kept_files_note_is_printed_escaped() -> None:
    from spacectl.render import render_apply_result
    from spacectl.results import ApplyResult

    space = SpaceResult(SID, Outcome.APPLIED, ["commit"], notes=["kept 1 file(s): evil\x1b[2J.txt"])
    text = render_apply_result(ApplyResult((space,)))
    assert "\x1b" not in text and "      note: kept 1 file(s): evil" in text
