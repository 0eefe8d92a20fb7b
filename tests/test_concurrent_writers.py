"""The first commit of a Space apply created, when another writer got there first: it deletes
only the Hub's template files (by name), so a file another writer committed after the create is
kept and the next plan shows it for review. FakeHub unit tests; the e2e proof with an
out-of-band upload is tests/e2e/test_concurrent_writers.py."""

from __future__ import annotations

from pathlib import Path

from fakehub import FakeHub, stored_file

from spacectl.apply import apply_plan
from spacectl.inputs import plan_inputs, read_needs, targeted
from spacectl.manifest_loader import parse_manifest
from spacectl.plan import Plan, compute_plan
from spacectl.results import Outcome
from spacectl.state import LiveFile

SID = "acme/site"


def _plan(hub: FakeHub, base: Path) -> Plan:
    (base / "site").mkdir(exist_ok=True)
    (base / "site" / "index.html").write_text("<p>ours</p>\n")
    text = "version: 1\nowner: acme\nspaces:\n  site: {sdk: static, source: ./site}\n"
    manifest = parse_manifest(text, "spaces.yaml", base_dir=base)
    inputs = plan_inputs(manifest, environ={}, targets=None)
    needs = {s.id: read_needs(s, inputs.files.get(s.id)) for s in targeted(manifest, None)}
    return compute_plan(manifest, hub.read_live(needs), inputs)


class TemplateHub(FakeHub):
    """Creates static Spaces with the Hub's template files; `intrude` says when another
    writer commits `theirs.txt`: "after_create" (before the read-back) or "before_commit"
    (after the read-back, as the first commit's file listing runs)."""

    def __init__(self, intrude: str | None = None) -> None:
        super().__init__()
        self.intrude = intrude
        self.head_reads = 0

    def create_space(self, space_id, create, secrets):  # type: ignore[no-untyped-def]
        super().create_space(space_id, create, secrets)
        space = self.spaces[space_id]
        for name in ("index.html", "style.css"):
            space.files[name] = stored_file(name, b"template\n")
        if self.intrude == "after_create":
            self._theirs(space_id)

    def _theirs(self, space_id: str) -> None:
        space = self.spaces[space_id]
        space.files["theirs.txt"] = stored_file("theirs.txt", b"out of band\n")
        self._update(space, sha="f" * 40)

    def list_files(self, space_id: str, revision: str) -> dict[str, LiveFile]:
        files = super().list_files(space_id, revision)
        if self.intrude == "before_commit":
            self.intrude = None
            self._theirs(space_id)
        return files

    def head(self, space_id: str) -> str | None:
        self.head_reads += 1
        return super().head(space_id)


def test_the_first_commit_deletes_only_template_files(tmp_path: Path) -> None:
    hub = TemplateHub()
    result = apply_plan(_plan(hub, tmp_path), hub, environ={}, base_dir=tmp_path)
    assert result.spaces[0].outcome is Outcome.APPLIED
    files = hub.spaces[SID].files
    assert set(files) == {".gitattributes", "README.md", "index.html"}  # style.css removed
    assert hub.head_reads == 0  # a Space just created is not read back


def _kept(intrude: str, tmp_path: Path) -> TemplateHub:
    """Apply with another writer intruding at `intrude`: their file is kept, the template's
    style sheet is removed, and the next plan shows their file as a deletion to review."""
    hub = TemplateHub(intrude=intrude)
    space = apply_plan(_plan(hub, tmp_path), hub, environ={}, base_dir=tmp_path).spaces[0]
    assert space.outcome is Outcome.APPLIED, space.error
    files = hub.spaces[SID].files
    assert "theirs.txt" in files and "style.css" not in files
    again = _plan(hub, tmp_path)
    deletions = [op for c in again.changes for op in c.operations if op.kind == "commit"]
    assert [d.deletions for d in deletions] == [("theirs.txt",)]  # type: ignore[attr-defined]
    return hub


def test_a_foreign_file_before_the_template_listing_is_not_taken_for_the_template(
    tmp_path: Path,
) -> None:
    _kept("after_create", tmp_path)


def test_a_foreign_commit_before_the_first_commit_is_kept(tmp_path: Path) -> None:
    _kept("before_commit", tmp_path)
