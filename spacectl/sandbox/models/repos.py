"""Space repositories: creating one as the Hub does (its first commit and settings), deleting,
moving and duplicating, and listing the Spaces a caller may see."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from spacectl.sandbox.errors import ApiError, RepoExists, repo_not_found
from spacectl.sandbox.hub_data import SPACE_TEMPLATES, repo_name_problem
from spacectl.sandbox.models.cards import card_of, card_repos, initial_readme, sdk_of, tags
from spacectl.sandbox.models.commits import new_commit
from spacectl.sandbox.models.runtime import rebuild
from spacectl.sandbox.models.settings import apply_create_options, visibility
from spacectl.sandbox.records import FileEntry, Setting, Space, new_object_id

if TYPE_CHECKING:
    from spacectl.sandbox.context import Context

# The `.gitattributes` the Hub writes into every new repository.
HUB_GITATTRIBUTES = "".join(
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n"
    for pattern in (
        "*.7z",
        "*.arrow",
        "*.bin",
        "*.bz2",
        "*.ckpt",
        "*.ftz",
        "*.gz",
        "*.h5",
        "*.joblib",
        "*.lfs.*",
        "*.mlmodel",
        "*.model",
        "*.msgpack",
        "*.npy",
        "*.npz",
        "*.onnx",
        "*.ot",
        "*.parquet",
        "*.pb",
        "*.pickle",
        "*.pkl",
        "*.pt",
        "*.pth",
        "*.rar",
        "*.safetensors",
        "saved_model/**/*",
        "*.tar.*",
        "*.tar",
        "*.tflite",
        "*.tgz",
        "*.wasm",
        "*.xz",
        "*.zip",
        "*.zst",
        "*tfevents*",
    )
)
_STATIC_INDEX = """<!doctype html>
<html>
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width" />
    <title>My static Space</title>
    <link rel="stylesheet" href="style.css" />
  </head>
  <body>
    <div class="card">
      <h1>Welcome to your static Space!</h1>
      <p>You can modify this app directly by editing <i>index.html</i> in the Files tab.</p>
    </div>
  </body>
</html>
"""
_STATIC_CSS = """body {
  padding: 2rem;
  font-family: -apple-system, BlinkMacSystemFont, "Arial", sans-serif;
}
"""
_SORT_KEYS: dict[str, Callable[[Space], Any]] = {
    "lastModified": lambda s: s.head.date,
    "createdAt": lambda s: s.created_at,
    "likes": lambda s: s.likes,
    "trendingScore": lambda s: 0,
}


def check_name(name: str) -> None:
    """400 for a name the Hub refuses for a repository."""
    problem = repo_name_problem(name)
    if problem:
        raise ApiError(400, problem)


def split_target(target: str, what: str) -> tuple[str, str]:
    """`namespace/name` of a move or duplicate target, with a valid name."""
    if target.count("/") != 1:
        raise ApiError(400, f"{what} must be namespace/name")
    namespace, name = target.split("/")
    check_name(name)
    return namespace, name


def refuse_existing(ctx: Context, repo_id: str) -> None:
    existing = ctx.store.find(repo_id)
    if existing is not None:
        raise RepoExists(existing.id)


def _new_space(
    ctx: Context,
    repo_id: str,
    visibility: str,
    sdk: str,
    data: dict[str, Any],
    author: str,
    files: dict[str, FileEntry] | None = None,
    title: str = "initial commit",
) -> Space:
    """A Space with one commit (the Hub's starter files unless `files`), the options of the
    create or duplicate body `data`, and its first build started; not yet stored."""
    st = ctx.store
    if files is None:
        files = {
            ".gitattributes": st.put_file(HUB_GITATTRIBUTES.encode()),
            "README.md": st.put_file(initial_readme(repo_id.split("/")[1], sdk, repo_id)),
        }
        if sdk == "static":
            files["index.html"] = st.put_file(_STATIC_INDEX.encode())
            files["style.css"] = st.put_file(_STATIC_CSS.encode())
    first = new_commit(repo_id, None, files, title, "", author, ctx.now())
    space = Space(
        id=repo_id,
        object_id=new_object_id(),
        created_at=ctx.now(),
        visibility=visibility,
        commits=[first],
        hardware=None if sdk == "static" else "cpu-basic",
    )
    apply_create_options(space, data, sdk, ctx.now())
    rebuild(ctx, space)
    return space


def template(value: Any, sdk: str) -> dict[str, Any] | None:
    """The Space template a create body's `template` names (by repo id), or None; 400 for an
    unknown one or one of another SDK."""
    if value is None:
        return None
    found = next((t for t in SPACE_TEMPLATES if t["repoId"] == value), None)
    if found is None:
        raise ApiError(400, f"Unknown Space template: {value}")
    if found["sdk"] != sdk:
        raise ApiError(400, f"The template {value} is a {found['sdk']} Space, not {sdk}")
    return found


def create(
    ctx: Context,
    namespace: str,
    name: str,
    sdk: str,
    visibility: str,
    data: dict[str, Any],
    from_template: dict[str, Any] | None = None,
) -> Space:
    """`create_repo` of a Space by the caller (a writer), with the options of `data`, seeded
    with the files of `from_template` (see `template`) if given."""
    ctx.require_namespace(namespace)
    repo_id = f"{namespace}/{name}"
    refuse_existing(ctx, repo_id)
    author = ctx.writer().user
    files = None
    if from_template is not None:
        st = ctx.store
        files = {
            ".gitattributes": st.put_file(HUB_GITATTRIBUTES.encode()),
            "README.md": st.put_file(initial_readme(name, sdk, repo_id)),
            **{p: st.put_file(text.encode()) for p, text in from_template["files"].items()},
        }
    space = _new_space(ctx, repo_id, visibility, sdk, data, author, files)
    ctx.store.put(space)
    return space


def duplicate(ctx: Context, source: Space, target: str, data: dict[str, Any]) -> Space:
    """`duplicate_space` to `target` (checked with `split_target`): the files, variables and LFS
    objects of `source`, and its hardware and visibility unless `data` asks for others; secrets
    are not copied."""
    ctx.require_namespace(target.split("/")[0])
    refuse_existing(ctx, target)
    sdk = sdk_of(ctx.store, source.head) or "gradio"
    copied = {k: Setting(v.value, v.description, ctx.now()) for k, v in source.variables.items()}
    hardware = data.get("hardware") or (source.hardware if sdk != "static" else None)
    space = _new_space(
        ctx,
        target,
        visibility(data, source.visibility),
        sdk,
        {**data, "hardware": hardware},
        ctx.writer().user,
        files=dict(source.head.files),
        title=f"Duplicated from {source.id}",
    )
    space.variables = {**copied, **space.variables}
    space.lfs_objects = set(source.lfs_objects)
    ctx.store.put(space)
    return space


def _owned(ctx: Context, repo_id: str, action: str) -> Space:
    """A Space the caller may see (404 otherwise) and whose namespace it belongs to (403)."""
    space = ctx.store.find(repo_id)
    if space is None or not ctx.can_see(space):
        raise repo_not_found()
    if not ctx.is_member(space.namespace):
        raise ApiError(403, f"You don't have the rights to {action} {space.id}")
    return space


def delete(ctx: Context, repo_id: str) -> None:
    ctx.store.remove(_owned(ctx, repo_id, "delete"))


def move(ctx: Context, source: str, target: str) -> None:
    """`move_repo`: the Space keeps everything under its new name; its old name redirects
    there until a Space takes that name again."""
    namespace, _ = split_target(target, "toRepo")
    space = _owned(ctx, source, "move")
    ctx.require_namespace(namespace)
    existing = ctx.store.find(target)
    if existing is not None and existing is not space:
        raise ApiError(409, f"A repository named {target} already exists")
    ctx.store.remove(space)
    if space.id.lower() != target.lower():
        space.former_ids.append(space.id)
    space.former_ids = [f for f in space.former_ids if f.lower() != target.lower()]
    space.id = target
    ctx.store.put(space)


def search(
    ctx: Context,
    *,
    author: str | None,
    text: str | None,
    filters: list[str],
    sort: str | None,
    descending: bool,
    models: Sequence[str] = (),
    datasets: Sequence[str] = (),
    linked: bool = False,
) -> list[Space]:
    """`list_spaces`: the Spaces the caller may see, of `author`, with `text` in their id, with
    every tag of `filters`, using every model of `models` and dataset of `datasets` (their card's
    `models:`/`datasets:`), with `linked` only those using one at all, by `sort` (oldest first
    without one)."""
    ctx.principal()  # a bad token is a 401 even when there is nothing to list
    spaces = [s for s in ctx.store.spaces.values() if ctx.can_see(s)]
    if author:
        spaces = [s for s in spaces if s.namespace.lower() == author.lower()]
    if text:
        spaces = [s for s in spaces if text.lower() in s.id.lower()]
    for wanted in filters:
        spaces = [
            s
            for s in spaces
            if wanted in tags(sdk_of(ctx.store, s.head), card_of(ctx.store, s.head), s.region)
        ]
    for key, wanted_repos in (("models", models), ("datasets", datasets)):
        for repo in wanted_repos:
            spaces = [
                s
                for s in spaces
                if repo.lower() in (r.lower() for r in card_repos(card_of(ctx.store, s.head), key))
            ]
    if linked:
        spaces = [
            s
            for s in spaces
            if any(card_repos(card_of(ctx.store, s.head), k) for k in ("models", "datasets"))
        ]
    if sort in _SORT_KEYS:
        spaces.sort(key=_SORT_KEYS[sort], reverse=descending)
    else:
        spaces.sort(key=lambda s: s.created_at)
    return spaces
