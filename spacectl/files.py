"""Local files of a Space: its `source` folder, scanned and hashed, with the ignore rules.

`scan_source(root, ignore)` returns what the folder contributes to the Space repository, each
file with the hashes the Hub reports (git blob SHA-1, LFS SHA-256), so that the planner can diff
it against the remote tree. Reads the local filesystem only; no network. The README card is
merged into the scan by `card.desired_files`.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pathspec

from spacectl.cache import DigestCache
from spacectl.errors import ConfigError, SpillError
from spacectl.escape import printable
from spacectl.operations import PROTECTED_FILES, Action, FieldChange, FileAdd
from spacectl.state import LiveFile

_CHUNK = 1 << 20  # 1 MiB: bounded memory for large files, few syscalls for small ones
# Files hashed at once: enough to keep every core and the disk busy, few enough for small hosts.
_HASH_THREADS = min(8, (os.cpu_count() or 2) + 1)
_THREAD_MIN = 256 << 10  # files from this size are hashed on the pool, smaller ones inline
# The Hub rejects any path with one of these segments (huggingface_hub `_commit_api.py`).
_FORBIDDEN_SEGMENTS = frozenset({".git", ".cache"})
# File names that hold credentials by convention; published only when `allow_files` names them.
CREDENTIAL_FILES = (
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
)
# Bounds on a path in a Space repository: a file system's name limit per part, PATH_MAX overall.
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4096
# Characters a repository path may not hold: lone surrogates (a name that is not UTF-8, as
# Python decodes one) and Unicode's control characters (category Cc is exactly these 65).
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# Secret values shorter than this are not looked for in files: "1" or "true" is in everything.
MIN_SECRET_SEARCH = 8


@dataclass(frozen=True)
class LocalFile:
    """One file the Space repository should contain.

    `path` is POSIX and relative to the repository root. `blob_id` is the git blob SHA-1 of the
    content (what the Hub reports for a regular file); `sha256` is what it reports for an LFS file.
    Exactly one of `source_path` (a file on disk, read on upload) and `content` (generated in
    memory, e.g. the merged README.md) is set.
    """

    path: str
    size: int
    blob_id: str
    sha256: str
    source_path: Path | None = None
    content: bytes | None = None

    @classmethod
    def from_bytes(cls, path: str, data: bytes) -> LocalFile:
        """A generated file held in memory."""
        sha1, sha256 = _hashers(len(data))
        sha1.update(data)
        sha256.update(data)
        return cls(path, len(data), sha1.hexdigest(), sha256.hexdigest(), content=data)

    def read_bytes(self) -> bytes:
        """The content: from memory, or read from `source_path`."""
        if self.content is not None:
            return self.content
        if self.source_path is None:
            raise ValueError(f"LocalFile {self.path!r} has neither content nor source_path")
        return self.source_path.read_bytes()


def scan_source(
    root: Path,
    ignore: Sequence[str] = (),
    *,
    allow: Sequence[str] = (),
    digests: DigestCache | None = None,
) -> dict[str, LocalFile]:
    """Every file under `root` that belongs in the Space, keyed by POSIX path, sorted by path.

    Files are hashed on `_HASH_THREADS` threads (hashlib releases the GIL on large buffers); a
    file `digests` knows unchanged (same path, size, mtime, inode, ctime) is not read at all.

    Excluded, like `huggingface_hub.upload_folder` and git:
    - any `.git` folder or file, and `.cache/huggingface/` folders, at any depth;
    - paths matched by `ignore` or by `.gitignore` files (root and nested, gitwildmatch rules).
      Precedence, highest first: `ignore` (so `!pattern` there re-includes a file a .gitignore
      excludes), then the deepest `.gitignore`; within one list the last matching pattern wins.
      As in git, nothing inside an excluded folder can be re-included.

    Symbolic links: a link to a file inside `root` is uploaded with the target's content; a link
    to a file outside `root` is an error (following it would publish a file nobody sees in the
    folder, such as a credentials file); a link to a folder inside `root` is followed (its files
    appear under the link's path); a link to a folder outside `root`, or one that would loop, is
    skipped, so a stray link cannot upload a home directory. A broken link is an error.

    Refused, before anything is read from the Hub or written to it (`ConfigError`, the path
    escaped): a name the Hub cannot store (`path_problem`), and a file named like a credential
    (`CREDENTIAL_FILES`) unless a pattern of `allow` (gitwildmatch) matches it; `ignore` it to
    leave it out instead.

    Raises `ConfigError` when `root` is not a folder, when a remaining path has a segment the Hub
    refuses (`.cache`), or when a file cannot be read.
    """
    if not root.is_dir():
        raise ConfigError(f"Source folder '{root}' does not exist or is not a folder.")
    real_root = Path(os.path.realpath(root))
    manifest_rules = _spec(ignore)
    found: dict[str, tuple[os.DirEntry[str], Path]] = {}  # path -> (entry, its folder)
    _scan_dir(root, "", real_root, manifest_rules, [], {str(real_root)}, found)
    paths = sorted(found)
    allowed = _spec(allow)
    for rel in paths:
        if (
            _CREDENTIAL_NAMES.search(rel)
            and _CREDENTIAL_RULES.match_file(rel)
            and not allowed.match_file(rel)
        ):
            raise ConfigError(
                f"'{printable(rel)}' in {printable(str(root))} looks like a credentials file; "
                "spacectl does not publish it. Add it to 'ignore', or to 'allow_files' if it "
                "holds nothing secret."
            )
    # Digest-cache keys are absolute paths, made by string (pathlib costs more than a stat).
    root_text, absolute_root = str(root), os.path.abspath(root)
    out: dict[str, LocalFile] = {}
    large: list[tuple[str, Path]] = []
    for rel in paths:
        entry, folder = found[rel]
        # The folder's Path and the name: a third of the cost of parsing the whole path anew.
        path, st = folder / entry.name, _stat(entry)
        key = absolute_root + entry.path[len(root_text) :]
        known = digests.get(key, st) if digests is not None else None
        if known is not None:
            out[rel] = LocalFile(rel, st.st_size, known[0], known[1], source_path=path)
        elif len(paths) > 1 and st.st_size >= _THREAD_MIN:
            large.append((rel, path))
        else:
            out[rel] = _hash_file(rel, path, digests)
    if large:
        # A thread per file costs more than hashing a small one; large ones share the cores.
        with ThreadPoolExecutor(max_workers=min(_HASH_THREADS, len(large))) as pool:
            hashed = pool.map(lambda item: _hash_file(item[0], item[1], digests), large)
            out.update(zip((rel for rel, _ in large), hashed, strict=True))
    return {rel: out[rel] for rel in paths}


@dataclass(frozen=True)
class _GitIgnore:
    prefix: str  # folder of the .gitignore, relative to root, "" or ending with "/"
    spec: pathspec.GitIgnoreSpec


def _spec(lines: Sequence[str]) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines(lines)


_CREDENTIAL_RULES = _spec(CREDENTIAL_FILES)
# A cheap first test for `_CREDENTIAL_RULES` (a dozen regexes per path; most of a warm scan of
# 10,000 files): each pattern is a name glob without '/', which gitwildmatch matches against any
# part of the path, so a part matching the glob is necessary. The rules still decide.
_CREDENTIAL_NAMES = re.compile(
    "(?:^|/)(?:"
    + "|".join(re.escape(p).replace(r"\*", "[^/]*") for p in CREDENTIAL_FILES)
    + ")(?:/|$)"
)


def _scan_dir(
    folder: Path,
    prefix: str,
    real_root: Path,
    manifest_rules: pathspec.GitIgnoreSpec,
    gitignores: list[_GitIgnore],
    ancestors: set[str],
    out: dict[str, tuple[os.DirEntry[str], Path]],
) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        raise ConfigError(f"Cannot list '{folder}': {exc.strerror}.") from exc
    gitignore = folder / ".gitignore"
    if any(e.name == ".gitignore" and e.is_file() for e in entries):
        try:
            lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as exc:
            raise ConfigError(f"Cannot read '{gitignore}': {exc.strerror}.") from exc
        gitignores = [*gitignores, _GitIgnore(prefix, _spec(lines))]

    for entry in entries:
        rel = prefix + entry.name
        if entry.name == ".git":
            continue
        try:
            is_dir = entry.is_dir()  # follows symlinks
            is_link = entry.is_symlink()
        except OSError as exc:
            raise ConfigError(f"Cannot read '{entry.path}': {exc.strerror}.") from exc
        if is_dir:
            if rel == ".cache/huggingface" or rel.endswith("/.cache/huggingface"):
                continue
            if _ignored(rel + "/", manifest_rules, gitignores):
                continue
            real = os.path.realpath(entry.path)
            if is_link and (not _inside(Path(real), real_root) or real in ancestors):
                continue
            _scan_dir(
                Path(entry.path),
                rel + "/",
                real_root,
                manifest_rules,
                gitignores,
                ancestors | {real},
                out,
            )
            continue
        if _ignored(rel, manifest_rules, gitignores):
            continue
        if is_link and not os.path.exists(entry.path):
            raise ConfigError(
                f"'{rel}' is a broken symbolic link; remove it or add it to 'ignore'."
            )
        if is_link and not _inside(Path(os.path.realpath(entry.path)), real_root):
            # Following it would publish a file from elsewhere on this machine (a credentials
            # file, a .env) that nobody sees in the source folder.
            raise ConfigError(
                f"'{rel}' is a symbolic link to a file outside the source folder; spacectl does "
                "not upload it. Copy the file in, or add the link to 'ignore'."
            )
        if not (is_link or entry.is_file()):
            continue  # sockets, FIFOs, devices: not files git could hold
        problem = path_problem(rel)
        if problem:
            raise ConfigError(
                f"The Hub cannot store '{printable(rel)}': {problem}. Rename it, or add it to "
                "'ignore'."
            )
        forbidden = _FORBIDDEN_SEGMENTS.intersection(rel.split("/"))
        if forbidden:
            raise ConfigError(
                f"The Hub refuses '{rel}' (no file may be under a '{min(forbidden)}/' folder); "
                "add the folder to 'ignore' or .gitignore."
            )
        out[rel] = (entry, folder)


def path_problem(path: str) -> str:
    """Why a repository path cannot be stored on the Hub as it is, or "" when it can: a name
    that is not UTF-8 (a lone surrogate, as Python decodes such a name), a control character,
    a backslash (the client turns it into a folder separator), an absolute path or an empty,
    `.` or `..` part, a part over `MAX_NAME_BYTES` or a path over `MAX_PATH_BYTES`."""
    # Regexes and list membership rather than a loop per character: this runs for every file
    # of every scan.
    if _SURROGATE.search(path):
        return "its name is not valid UTF-8"
    if _CONTROL.search(path):
        return "its name holds a control character"
    if "\\" in path:
        return "its name holds a backslash, which the Hub client turns into a folder separator"
    parts = path.split("/")
    if "" in parts or "." in parts or ".." in parts:
        return "its path is absolute or has an empty, '.' or '..' part"
    size = len(path.encode())
    if size > MAX_NAME_BYTES and any(len(part.encode()) > MAX_NAME_BYTES for part in parts):
        return f"a part of its path is longer than {MAX_NAME_BYTES} bytes"
    if size > MAX_PATH_BYTES:
        return f"its path is longer than {MAX_PATH_BYTES} bytes"
    return ""


def check_no_secret_values(
    files: Mapping[str, LocalFile], values: Mapping[str, str], allow: Sequence[str] = ()
) -> None:
    """Refuse (`ConfigError`) the first file of `files` whose content holds one of `values`
    (label -> value, e.g. "$API_KEY" -> its value; values shorter than `MIN_SECRET_SEARCH` are
    not looked for) unless a pattern of `allow` matches its path. Files are streamed in chunks
    with an overlap, so a value across a chunk boundary is found; the message names the file and
    the label, never the value."""
    needles = {label: v.encode() for label, v in values.items() if len(v) >= MIN_SECRET_SEARCH}
    if not needles:
        return
    overlap = max(len(n) for n in needles.values()) - 1
    allowed = _spec(allow)
    for rel, local in files.items():
        if allowed.match_file(rel):
            continue
        found = _find_needle(local, needles, overlap)
        if found:
            raise ConfigError(
                f"'{printable(rel)}' holds the value of {found}; spacectl does not publish a "
                "secret in a file. Remove it, add the file to 'ignore', or to 'allow_files' if "
                "this is deliberate."
            )


def _find_needle(local: LocalFile, needles: Mapping[str, bytes], overlap: int) -> str | None:
    if local.content is not None:
        return next((label for label, n in needles.items() if n in local.content), None)
    assert local.source_path is not None
    tail = b""
    try:
        with local.source_path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                window = tail + chunk
                for label, needle in needles.items():
                    if needle in window:
                        return label
                tail = window[-overlap:] if overlap else b""
    except OSError as exc:
        raise ConfigError(f"Cannot read '{local.source_path}': {exc.strerror}.") from exc
    return None


def _ignored(
    rel: str, manifest_rules: pathspec.GitIgnoreSpec, gitignores: list[_GitIgnore]
) -> bool:
    """Whether `rel` (with a trailing '/' for a folder) is excluded; see `scan_source`."""
    if not gitignores and not manifest_rules.patterns:
        return False  # nothing to match: the common case, and the cost of 10,000 files
    verdict = manifest_rules.check_file(rel).include
    if verdict is not None:
        return bool(verdict)
    for gitignore in reversed(gitignores):  # deepest first
        verdict = gitignore.spec.check_file(rel[len(gitignore.prefix) :]).include
        if verdict is not None:
            return bool(verdict)
    return False


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _hashers(size: int) -> tuple[Any, Any]:
    sha1 = hashlib.sha1(b"blob %d\0" % size)  # git's object id, not a security use
    return sha1, hashlib.sha256()


def _read_hashed(path: Path, sink: Callable[[bytes], object] | None = None) -> tuple[int, str, str]:
    """(size, git blob SHA-1, SHA-256) in one streaming read, each chunk also given to `sink`.
    The size comes from the open file, and a file that changes size while being read is an
    error rather than a wrong blob id."""
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            sha1, sha256 = _hashers(size)
            read = 0
            while chunk := handle.read(_CHUNK):
                sha1.update(chunk)
                sha256.update(chunk)
                if sink is not None:
                    sink(chunk)
                read += len(chunk)
    except OSError as exc:
        raise ConfigError(f"Cannot read '{path}': {exc.strerror}.") from exc
    if read != size:
        raise ConfigError(f"'{path}' changed while it was being read; run the command again.")
    return size, sha1.hexdigest(), sha256.hexdigest()


def _stat(entry: os.DirEntry[str] | Path) -> os.stat_result:
    """The file's stat, following a symbolic link (a scanned DirEntry caches it)."""
    try:
        return entry.stat()
    except OSError as exc:
        raise ConfigError(f"Cannot read '{entry}': {exc.strerror}.") from exc


def _hash_file(rel: str, path: Path, digests: DigestCache | None = None) -> LocalFile:
    """Read and hash one file; its digests go into `digests` (keyed by the stat from before
    the read, and only when the read saw that size)."""
    st = _stat(path) if digests is not None else None  # before the read: a later edit misses
    size, blob_id, sha256 = _read_hashed(path)
    if digests is not None and st is not None and size == st.st_size:
        digests.put(os.path.abspath(path), st, blob_id, sha256)
    return LocalFile(rel, size, blob_id, sha256, source_path=path)


def checked_content(
    path: Path, spill_dir: Path, *, in_memory: int
) -> tuple[bytes | Path, str, str]:
    """The content of `path` to upload, read once: (data, blob SHA-1, SHA-256).

    `data` is bytes when the file has at most `in_memory` bytes; a larger file is copied into
    `spill_dir` while it is hashed and `data` is that copy. Either way the hashes are of exactly
    the bytes that will be uploaded, so the caller can check them against the plan and an edit
    of the file after the check cannot reach the Hub. At most `in_memory` bytes are held.
    Raises ConfigError when the file cannot be read, SpillError when the copy cannot be
    written."""
    chunks: list[bytes] = []
    copy = None
    held = 0

    def sink(chunk: bytes) -> None:
        nonlocal copy, held
        if copy is None and held + len(chunk) <= in_memory:
            chunks.append(chunk)
            held += len(chunk)
            return
        try:
            if copy is None:
                copy = tempfile.NamedTemporaryFile(dir=spill_dir, delete=False)  # noqa: SIM115
                copy.writelines(chunks)
                chunks.clear()
            copy.write(chunk)
        except OSError as exc:
            raise SpillError(
                f"cannot write a temporary copy of '{path}' under {spill_dir}: {exc.strerror}",
                hint="free space there, or point TMPDIR at a folder with room for the largest "
                "files of a Space",
            ) from None

    try:
        _, blob_id, sha256 = _read_hashed(path, sink)
    finally:
        if copy is not None:
            copy.close()
    return (Path(copy.name) if copy is not None else b"".join(chunks)), blob_id, sha256


# --- the desired tree against the Space's tree ------------------------------------------------


def _portable(path: Path, base: Path) -> str:
    """A file's path relative to the manifest's folder (POSIX), so a saved plan applies from
    another checkout of the same repository; absolute when the file lies outside it."""
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return str(path)


def planned_files(
    local: Mapping[str, LocalFile], readme: str | None, base_dir: Path
) -> dict[str, FileAdd]:
    """The files a commit would upload: the local file set (paths relative to `base_dir`) plus
    a generated README.md, hashed like every other file."""
    desired = {
        path: FileAdd(
            path,
            lf.size,
            lf.blob_id,
            lf.sha256,
            source=_portable(lf.source_path, base_dir) if lf.source_path else None,
            content=lf.content.decode() if lf.content is not None else None,
        )
        for path, lf in local.items()
    }
    if readme is not None:
        generated = LocalFile.from_bytes("README.md", readme.encode())
        desired["README.md"] = FileAdd(
            "README.md", generated.size, generated.blob_id, generated.sha256, content=readme
        )
    return desired


def tree_changes(
    want: Mapping[str, FileAdd],
    have: Mapping[str, LiveFile],
    *,
    readme_from_hub: bool,
    mirror: bool,
) -> list[FieldChange]:
    """Files compare by git blob SHA-1, or SHA-256 where the Hub stores them as LFS.

    `readme_from_hub`: README.md was merged into the Hub's README (no source folder lists it,
    the tree was not read) and differs in its front matter. `mirror`: the files mirror a source
    folder, so files it lacks are deleted (never `.gitattributes` or README.md)."""
    changes: list[FieldChange] = []
    for path in sorted(want):
        add, current = want[path], have.get(path)
        if current is None and path == "README.md" and readme_from_hub:
            before = "front matter differs"
            changes.append(FieldChange("files/README.md", Action.UPDATE, before, _summary(add)))
        elif current is None:
            changes.append(FieldChange(f"files/{path}", Action.CREATE, after=_summary(add)))
        elif not current.matches(add.blob_id, add.sha256):
            changes.append(
                FieldChange(f"files/{path}", Action.UPDATE, _live_summary(current), _summary(add))
            )
    if mirror:
        changes += [
            FieldChange(f"files/{path}", Action.DELETE, before=_live_summary(have[path]))
            for path in sorted(set(have) - set(want))
            if path not in PROTECTED_FILES
        ]
    return changes


def _summary(f: FileAdd) -> str:
    return f"{f.size} bytes, sha1 {f.blob_id[:10]}"


def _live_summary(f: LiveFile) -> str:
    digest = f"sha256 {f.lfs_sha256[:10]}" if f.lfs_sha256 else f"sha1 {f.blob_id[:10]}"
    return f"{f.size} bytes, {digest}"
