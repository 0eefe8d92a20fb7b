"""Branches and tags of a Space: `create_branch`, `delete_branch`, `create_tag`, `delete_tag`.
`main` is the Space's `commits`; another branch is the list of its commit ids, sharing the
commits it started from (see `records.Space`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spacectl.sandbox.errors import ApiError

if TYPE_CHECKING:
    from spacectl.sandbox.records import Space


def _check_name(name: str, what: str) -> None:
    """400 for a ref name git would refuse (the common cases: empty, spaces, `..`, `~^:?*[\\`,
    a leading `-` or `/`, a trailing `/` or `.lock`)."""
    bad = set(" ~^:?*[\\\x7f") | {chr(c) for c in range(32)}
    if (
        not name
        or any(c in bad for c in name)
        or ".." in name
        or name.startswith(("-", "/", "refs/"))
        or name.endswith(("/", ".lock", "."))
        or "//" in name
    ):
        raise ApiError(400, f"Invalid {what} name: {name!r}")


def _taken(space: Space, name: str) -> bool:
    return name == "main" or name in space.branches or name in space.tags


def create_branch(space: Space, name: str, starting_point: str | None) -> None:
    """A branch `name` at `starting_point` (a revision; `main`'s head when None); 409 if a
    branch or tag has that name."""
    _check_name(name, "branch")
    if _taken(space, name):
        raise ApiError(409, f"Reference already exists: {name}")
    start = space.resolve(starting_point or "main")
    space.branches[name] = [c.id for c in space.lineage(start)]


def delete_branch(space: Space, name: str) -> None:
    """Delete the branch `name`; `main` cannot be deleted (403), a missing one is 404."""
    name = name.removeprefix("refs/heads/")
    if name == "main":
        raise ApiError(403, "Cannot delete the default branch")
    if name not in space.branches:
        raise ApiError(404, f"Invalid rev id: {name}", code="RevisionNotFound")
    del space.branches[name]


def create_tag(space: Space, revision: str, tag: object) -> None:
    """A tag on the commit `revision` names; 409 if a branch or tag has that name."""
    if not isinstance(tag, str):
        raise ApiError(400, '"tag" is required and must be a string')
    _check_name(tag, "tag")
    if _taken(space, tag):
        raise ApiError(409, f"Tag already exists: {tag}")
    space.tags[tag] = space.resolve(revision).id


def delete_tag(space: Space, tag: str) -> None:
    tag = tag.removeprefix("refs/tags/")
    if tag not in space.tags:
        raise ApiError(404, f"Invalid rev id: {tag}", code="RevisionNotFound")
    del space.tags[tag]
