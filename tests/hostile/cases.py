"""The hostile corpus: manifests and source trees a hostile (or careless) user could hand to
spacectl, one row each, with what must happen.

A row is refused (`error`, a regex the one `Error:` line must match; `located`: it starts with
FILE:LINE:COL) or valid (`error` None: exit 0, and every render escaped). `tree` is the source
folder `./app` (bytes: a file; `Link(target)`: a symbolic link; FIFO: a named pipe); `live` names
files the Space already holds on the Hub (seeded before the run), so the plan shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

HEAD = "version: 1\nowner: ifcore-org\n"
SECRET = "canary-hostile-5e1f0c7a"  # a secret value: must never be printed, and files holding it
TOKEN = "{{TOKEN}}"  # replaced by the Hub token the run uses
FIFO = "fifo"
SECRET_ENV = {"HOSTILE_SECRET": SECRET}


@dataclass(frozen=True)
class Link:
    target: str


@dataclass(frozen=True)
class Case:
    id: str
    manifest: bytes | str  # a str starting with "/" is a path passed to -f as is
    error: str | None = None
    command: str = "validate"
    located: bool = True
    tree: dict[str, bytes | Link | str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    live: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()  # files of `tree` the plan must not upload (ignored ones)


def _m(text: str) -> bytes:
    return (HEAD + text).encode()


def _app(extra: str = "", name: str = "hostile") -> bytes:
    """A static Space deployed from ./app."""
    return _m(f"spaces:\n  {name}:\n    sdk: static\n    source: ./app\n{extra}")


def _secret(from_env: str, extra: str = "") -> bytes:
    return _m(
        "spaces:\n  hostile:\n    sdk: docker\n    secrets:\n"
        f"      KEY: {{from_env: {from_env}{extra}}}\n"
    )


def _bomb(levels: int, width: int) -> str:
    lines = [f"x-l0: &l0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels):
        lines.append(f"x-l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    return "\n".join(lines) + "\nspaces: {}\n"


INDEX = {"index.html": b"<h1>hi</h1>\n"}

CASES: list[Case] = [
    # --- YAML syntax --------------------------------------------------------------------------
    Case("tab-indent", _m("spaces:\n\thostile: {}\n"), r"Invalid YAML"),
    Case("unclosed-flow", _m("spaces: {a: [1, 2}\n"), r"Invalid YAML"),
    Case("unclosed-quote", b'version: 1\nowner: "ifcore-org\nspaces: {}\n', r"Invalid YAML"),
    Case("duplicate-key", _m("spaces: {}\nspaces: {}\n"), r"Duplicate key 'spaces'"),
    Case("bad-indent", _m("spaces:\n  a:\n   sdk: docker\n  sdk: gradio\n b: 1\n"), r"YAML"),
    Case("two-documents", _m("spaces: {}\n---\nowner: x\n"), r"Invalid YAML"),
    Case("top-scalar", b"hello\n", r"Expected a mapping"),
    Case("top-list", b"- a\n- b\n", r"Expected a mapping"),
    Case("empty", b"", r"empty"),
    Case("only-comments", b"# nothing\n# here\n", r"empty"),
    Case("undefined-alias", _m("spaces: *nope\n"), r"Invalid YAML.*alias"),
    Case("anchor-only-colon", _m("spaces: &\n"), r"."),
    # --- types ----------------------------------------------------------------------------------
    Case("version-string", b'version: "1"\nowner: ifcore-org\nspaces: {}\n', r"number 1"),
    Case("version-2", b"version: 2\nowner: ifcore-org\nspaces: {}\n", r"version 2"),
    Case("owner-number", b"version: 1\nowner: 123\nspaces: {}\n", r"owner"),
    Case("spaces-list", _m("spaces: [a, b]\n"), r"mapping|dictionary"),
    Case("sdk-number", _m("spaces: {a: {sdk: 5}}\n"), r"sdk"),
    Case("visibility-enum", _m("spaces: {a: {visibility: secret}}\n"), r"public"),
    Case("sleep-string", _m("spaces: {a: {sdk: docker, sleep_time: soon}}\n"), r"integer"),
    Case("sleep-infinite", _m("spaces: {a: {sdk: docker, sleep_time: .inf}}\n"), r"."),
    Case("variable-list", _m("spaces: {a: {variables: {A: [1, 2]}}}\n"), r"a list"),
    Case("literal-secret", _m("spaces: {a: {secrets: {A: hunter2}}}\n"), r"never written"),
    Case("bad-env-name", _m("spaces: {a: {secrets: {A: {from_env: BAD-NAME}}}}\n"), r"BAD-NAME"),
    Case("relative-mount", _m("spaces: {a: {volumes: [{source: o/d, mount_path: data}]}}\n"), r"/"),
    Case("static-hardware", _m("spaces: {a: {sdk: static, hardware: t4-small}}\n"), r"static"),
    Case("date-owner", b"version: 1\nowner: 2024-01-01\nspaces: {}\n", r"owner|string"),
    Case("null-secret", _m("spaces: {a: {secrets: {A: null}}}\n"), r"from_env"),
    # --- unknown keys ---------------------------------------------------------------------------
    Case(
        "unknown-top",
        _m("spaces: {}\nspacez: {}\n"),
        r"Unknown key 'spacez'; did you mean 'spaces'",
    ),
    Case("unknown-entry", _m("spaces: {a: {hardwear: t4-small}}\n"), r"did you mean 'hardware'"),
    Case(
        "unknown-secret",
        _m("spaces: {a: {secrets: {A: {from_env: X, form_env: X}}}}\n"),
        r"Unknown key 'form_env'",
    ),
    # --- tags ---------------------------------------------------------------------------------
    Case("python-object", _m("x: !!python/object:os.system [echo]\nspaces: {}\n"), r"tag"),
    Case("python-name", _m("x: !!python/name:os.system ''\nspaces: {}\n"), r"tag"),
    Case("python-apply", _m("spaces: !!python/object/apply:os.system [ls]\n"), r"tag"),
    Case("binary", _m("x: !!binary aGVsbG8=\nspaces: {}\n"), r"tag"),
    Case("custom-tag", _m("spaces: {a: {sdk: !docker docker}}\n"), r"tag"),
    Case("set-tag", _m("x: !!set {a, b}\nspaces: {}\n"), r"tag"),
    Case("omap-tag", _m("x: !!omap [a: 1]\nspaces: {}\n"), r"tag"),
    # --- alias bombs ----------------------------------------------------------------------------
    Case("bomb-9x9", _m(_bomb(9, 9)), r"alias bomb"),
    Case("bomb-5x50", _m(_bomb(5, 50)), r"alias bomb"),
    Case("recursive-anchor", _m("x-a: &a [*a]\nspaces: {}\n"), r"refer to themselves"),
    Case(
        "merge-bomb",
        _m(
            "x-0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}\n"
            + "".join(
                f"x-{i}: &m{i} [" + ", ".join([f"*m{i - 1}"] * 12) + "]\n" for i in range(1, 7)
            )
            + "spaces: {}\n"
        ),
        r"alias bomb",
    ),
    Case("many-aliases", _m("x-a: &a 1\nx-b: [" + ", ".join(["*a"] * 100_001) + "]\n"), r"alias"),
    # --- deep nesting -------------------------------------------------------------------------
    Case(
        "deep-flow-seq", _m("spaces: {a: {card: " + "[" * 100_000 + "]" * 100_000 + "}}\n"), "deep"
    ),
    Case(
        "deep-flow-map", _m("x: " + "{a: " * 5_000 + "1" + "}" * 5_000 + "\nspaces: {}\n"), "deep"
    ),
    Case(
        "deep-block",
        _m("x:\n" + "".join("  " * i + "k:\n" for i in range(1, 100)) + "spaces: {}\n"),
        r"deep",
    ),
    Case("deep-dash", _m("x: \n  " + "- " * 200 + "a\nspaces: {}\n"), r"deep"),
    Case("deep-unclosed", _m("x: " + "[" * 200_000 + "\n"), r"deep"),
    # --- encodings and line ends ----------------------------------------------------------------
    Case("latin-1", _m("spaces: {}\n# caf\xe9\n").replace(b"\xc3\xa9", b"\xe9"), r"not UTF-8"),
    Case("utf-16", "version: 1\nowner: ifcore-org\nspaces: {}\n".encode("utf-16"), r"not UTF-8"),
    Case("nul-byte", _m("spaces: {}\n").replace(b"spaces", b"spa\x00ces"), r"YAML"),
    Case("raw-escape", _m('spaces: {a: {card: {title: "x\x1b[31mred"}}}\n'), r"YAML"),
    Case("bom", b"\xef\xbb\xbf" + _m("spaces: {}\n")),
    Case("crlf", _m("spaces:\r\n  a: {sdk: docker}\r\n").replace(b"\n", b"\r\n")),
    Case("cr-only", _m("spaces: {}\n").replace(b"\n", b"\r")),
    Case("lone-surrogate", _m('spaces: {a: {variables: {A: "\\udcff"}}}\n'), r"surrogate"),
    # --- huge values ----------------------------------------------------------------------------
    Case("over-size", _m("x: '" + "a" * (9 << 20) + "'\nspaces: {}\n"), r"larger than 8 MiB"),
    Case("huge-int", _m("spaces: {a: {sdk: docker, sleep_time: " + "9" * 5000 + "}}\n"), r"."),
    Case("big-string", _m("spaces: {a: {variables: {A: '" + "b" * (2 << 20) + "'}}}\n")),
    # YAML allows 1024 characters in an implicit key.
    Case("long-key", _m("spaces: {a: {variables: {" + "K" * 10_000 + ": v}}}\n"), r"YAML"),
    Case(
        "long-explicit-key",
        _m("spaces:\n  a:\n    variables:\n      ? " + "K" * 10_000 + "\n      : v\n"),
    ),
    # --- names the Hub rejects ------------------------------------------------------------------
    Case("owner-space", b"version: 1\nowner: bad owner\nspaces: {}\n", r"Invalid owner"),
    Case("name-double-dash", _m("spaces: {a--b: {}}\n"), r"'--'"),
    Case("name-dot-git", _m("spaces: {app.git: {}}\n"), r"\.git"),
    Case("name-too-long", _m("spaces: {" + "a" * 97 + ": {}}\n"), r"96 characters"),
    Case("name-unicode", _m("spaces: {café: {}}\n"), r"may only contain"),
    Case("name-bell", _m('spaces: {"a\\x07b": {}}\n'), r"may only contain"),
    Case("name-rtl", _m('spaces: {"a\\u202eb": {}}\n'), r"may only contain"),
    Case("name-case-twice", _m("spaces: {Demo: {}, demo: {}}\n"), r"already declared"),
    Case("hardware-typo", _m("spaces: {a: {sdk: docker, hardware: t4-smal}}\n"), r"t4-small"),
    Case("hardware-made-up", _m("spaces: {a: {hardware: h100-mega-9000}}\n"), r"Unknown hardware"),
    # --- what -f points at ----------------------------------------------------------------------
    Case("dev-zero", "/dev/zero", r"larger than 8 MiB"),
    Case("dev-null", "/dev/null", r"empty"),
    Case("a-folder", "/", r"Is a directory", located=False),
    Case("missing-file", "/nonexistent/spaces.yaml", r"not found", located=False),
    # --- credentials as secrets (plan: the token is known there) ---------------------------------
    Case("from-hf-token", _secret("HF_TOKEN"), r"own credential", "plan", located=False),
    Case("from-secret-key", _secret("SPACECTL_SECRET_KEY"), r"secret key", "plan", False),
    Case(
        "token-copy",
        _secret("MY_TOKEN"),
        r"token spacectl is using",
        "plan",
        False,
        env={"MY_TOKEN": TOKEN},
    ),
    Case("token-allowed", _secret("HF_TOKEN", ", allow_token: true"), None, "plan"),
    Case("secret-ok", _secret("HOSTILE_SECRET"), None, "plan", env=SECRET_ENV),
    Case(
        "secret-not-utf8",
        _secret("HOSTILE_SECRET"),
        r"not valid UTF-8",
        "plan",
        False,
        env={"HOSTILE_SECRET": "\udcff\udcfe-bytes", "SPACECTL_SECRET_KEY": "k" * 32},
    ),
    # --- source trees: names the Hub cannot store -----------------------------------------------
    *(
        Case(f"file-{label}", _app(), r"cannot store", "plan", False, {**INDEX, name: b"x"})
        for label, name in [
            ("newline", "a\nb.txt"),
            ("cr", "plan\rforged.txt"),
            ("escape", "\x1b[2Jclear.txt"),
            ("tab", "tab\there.txt"),
            ("del", "del\x7f.txt"),
            ("backslash", "back\\slash.txt"),
            ("dir-newline", "dir\nname/file.txt"),
        ]
    ),
    Case("file-not-utf8", _app(), r"not valid UTF-8", "plan", False, {**INDEX, "\udcff.txt": b"x"}),
    Case("file-cache", _app(), r"\.cache", "plan", False, {**INDEX, ".cache/x.txt": b"x"}),
    # --- source trees: valid but hostile names (plan, escaped in every render) ------------------
    *(
        Case(f"name-{label}", _app(), None, "plan", tree={**INDEX, name: b"x"})
        for label, name in [
            ("bidi", "evil\u202etxt.exe"),
            ("zero-width", "zero\u200bwidth.txt"),
            ("line-separator", "line\u2028sep.txt"),
            ("markdown-image", "![pwned](https:x.y)"),
            ("fence", "```"),
            ("fence-long", "``````diff"),
            ("html", "<img src=x onerror=alert(1)>"),
            ("mention", "@everyone"),
            ("emoji", "🧪 test.txt"),
            ("nbsp", "no\u00a0break.txt"),
        ]
    ),
    # --- credential files and secret values in files --------------------------------------------
    *(
        Case(f"cred-{label}", _app(), r"looks like a credentials file", "plan", False, tree)
        for label, tree in [
            ("dotenv", {**INDEX, ".env": b"A=1\n"}),
            ("dotenv-local", {**INDEX, ".env.local": b"A=1\n"}),
            ("pem", {**INDEX, "certs/server.pem": b"-----BEGIN\n"}),
            ("id-rsa", {**INDEX, "id_rsa": b"-----BEGIN\n"}),
            ("netrc", {**INDEX, "sub/.netrc": b"machine x\n"}),
        ]
    ),
    Case(
        "cred-allowed",
        _app("    allow_files: ['.env.example']\n"),
        None,
        "plan",
        tree={**INDEX, ".env.example": b"A=\n"},
    ),
    Case(
        "cred-ignored",
        _app("    ignore: ['.env']\n"),
        None,
        "plan",
        tree={**INDEX, ".env": b"A=1\n"},
        absent=(".env",),
    ),
    Case(
        "secret-in-file",
        _app("    secrets: {KEY: {from_env: HOSTILE_SECRET}}\n").replace(b"static", b"docker"),
        r"holds the value of \$HOSTILE_SECRET",
        "plan",
        False,
        {"Dockerfile": b"FROM x\n", "config.py": b"KEY = '" + SECRET.encode() + b"'\n"},
        env=SECRET_ENV,
    ),
    Case(
        "token-in-file",
        _app(),
        r"Hub token",
        "plan",
        False,
        {**INDEX, "deep/in/config.json": b'{"t": "' + TOKEN.encode() + b'"}'},
    ),
    # --- README cards the Hub would refuse (checked offline) ----------------------------------
    *(
        Case(f"card-{label}", _app(), r"README", "plan", False, {**INDEX, "README.md": readme})
        for label, readme in [
            ("bad-yaml", b"---\ntitle: [unclosed\n---\n# hi\n"),
            ("list", b"---\n- a\n- b\n---\n"),
            ("not-utf8", b"---\ntitle: caf\xe9\n---\n"),
            ("tag", b"---\ntitle: !!python/object:os.system x\n---\n"),
            ("bomb", ("---\n" + _bomb(9, 9).replace("spaces: {}\n", "") + "---\n").encode()),
        ]
    ),
    # --- symbolic links -------------------------------------------------------------------------
    Case(
        "link-out-file",
        _app(),
        r"outside the source folder",
        "plan",
        False,
        {**INDEX, "passwd": Link("/etc/passwd")},
    ),
    Case(
        "link-broken",
        _app(),
        r"broken symbolic link",
        "plan",
        False,
        {**INDEX, "gone": Link("nowhere")},
    ),
    Case("link-loop", _app(), None, "plan", tree={**INDEX, "loop": Link(".")}),
    Case("link-out-dir", _app(), None, "plan", tree={**INDEX, "etc": Link("/etc")}),
    Case("link-dotdot", _app(), None, "plan", tree={**INDEX, "up": Link("..")}),
    Case("fifo", _app(), None, "plan", tree={**INDEX, "pipe": FIFO}),
    # --- names from the Hub (the live Space holds them; the plan deletes them) ------------------
    Case(
        "hub-names",
        _app("    prune: true\n", name="hub-names"),
        None,
        "plan",
        tree=INDEX,
        live=("```", "![x](https:e.vil)", "<b>bold</b>.txt", "a`b``c.txt", "@here"),
    ),
]
