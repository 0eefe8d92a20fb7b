"""Manifest loading: one exact message per error case, merging rules, anchors, the schema."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from spacectl.errors import ManifestError
from spacectl.manifest import CardSpec, SecretSpec, SpaceSpec, VolumeSpec, manifest_json_schema
from spacectl.manifest_loader import ManifestProblems, load_manifest, parse_manifest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "spaces.yaml"


def _write(folder: Path, text: str) -> Path:
    path = folder / "spaces.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding `app/`, so manifests can say `source: ./app`."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "app.py").write_text("print('hi')\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _error(workdir: Path, text: str) -> str:
    _write(workdir, text)
    with pytest.raises(ManifestError) as info:
        load_manifest(Path("spaces.yaml"))
    message = str(info.value)
    assert "\n" not in message
    return message


ERROR_CASES: list[Any] = [
    pytest.param(
        "owner: o\nspaces: [1\n",
        "spaces.yaml:3:1: Invalid YAML: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence started at line 2, column 9)",
        id="yaml-syntax",
    ),
    pytest.param(
        """\
        owner: o
        spaces:
          a:
            sdk: docker
            sdk: gradio
        """,
        "spaces.yaml:5:5: spaces.a.sdk: Duplicate key 'sdk' (first defined at line 4).",
        id="duplicate-key",
    ),
    pytest.param(
        """\
        owner: o
        spaces:
          platform:
            sdk: docker
            hardwre: cpu-basic
        """,
        "spaces.yaml:5:5: spaces.platform.hardwre: Unknown key 'hardwre'; did you mean 'hardware'?",
        id="unknown-key-did-you-mean",
    ),
    pytest.param(
        "owner: o\nspace: {}\n",
        "spaces.yaml:2:1: space: Unknown key 'space'; did you mean 'spaces'?",
        id="unknown-top-level-key-before-missing-key",
    ),
    pytest.param(
        """\
        owner: o
        spaces:
          a:
            secrets:
              TOKEN: {form_env: TOKEN}
        """,
        "spaces.yaml:5:15: spaces.a.secrets.TOKEN.form_env: Unknown key 'form_env'; did you "
        "mean 'from_env'?",
        id="unknown-secret-key",
    ),
    pytest.param(
        "owner: o\nspaces: {}\ncolour: blue\n",
        "spaces.yaml:3:1: colour: Unknown key 'colour'; expected one of: version, owner, "
        "defaults, spaces, previews, environments (top-level keys starting with 'x-' are free, "
        "e.g. for anchors).",
        id="unknown-key-no-match",
    ),
    pytest.param(
        """\
        owner: o
        spaces:
          platform:
            sdk: dockerr
        """,
        "spaces.yaml:4:5: spaces.platform.sdk: Input should be 'gradio', 'streamlit', 'docker' "
        "or 'static'.",
        id="wrong-literal",
    ),
    pytest.param(
        """\
        owner: o
        spaces:
          a:
            sleep_time: "3600"
        """,
        "spaces.yaml:4:5: spaces.a.sleep_time: Input should be a valid integer.",
        id="wrong-type-string-for-int",
    ),
    pytest.param(
        """\
        owner: o
        spaces:
          a:
            protect: yes
        """,
        "spaces.yaml:4:5: spaces.a.protect: Input should be a valid boolean.",
        id="wrong-type-yes-is-a-string-in-yaml-1.2",
    ),
    pytest.param(
        "owner: o\nspaces:\n  a: [docker]\n",
        "spaces.yaml:3:3: spaces.a: Expected a mapping.",
        id="wrong-type-space-entry",
    ),
    pytest.param(
        """\
        owner: o
        spaces:
          a:
            volumes:
              - {source: o/data}
        """,
        "spaces.yaml:5:9: spaces.a.volumes[0].mount_path: Required key is missing.",
        id="missing-volume-field",
    ),
    pytest.param(
        "owner: o\nspaces:\n  bad--name: {}\n",
        "spaces.yaml:3:3: spaces.bad--name: Invalid Space name 'bad--name': cannot contain "
        "'--' or '..'.",
        id="name-double-dash",
    ),
    pytest.param(
        "owner: o\nspaces:\n  -demo: {}\n",
        "spaces.yaml:3:3: spaces.-demo: Invalid Space name '-demo': cannot start or end with "
        "'-' or '.'.",
        id="name-leading-dash",
    ),
    pytest.param(
        "owner: o\nspaces:\n  demo.git: {}\n",
        "spaces.yaml:3:3: spaces.demo.git: Invalid Space name 'demo.git': cannot end with '.git'.",
        id="name-git-suffix",
    ),
    pytest.param(
        "owner: o\nspaces:\n  my space: {}\n",
        "spaces.yaml:3:3: spaces.my space: Invalid Space name 'my space': may only contain "
        "letters, digits, '-', '_' and '.'.",
        id="name-bad-character",
    ),
    pytest.param(
        f"owner: o\nspaces:\n  {'x' * 97}: {{}}\n",
        f"spaces.yaml:3:3: spaces.{'x' * 97}: Invalid Space name '{'x' * 97}': must be 1 to 96 "
        "characters.",
        id="name-too-long",
    ),
    pytest.param(
        "owner: o\nspaces:\n  other..org/demo: {}\n",
        "spaces.yaml:3:3: spaces.other..org/demo: Invalid owner 'other..org': cannot contain "
        "'--' or '..'.",
        id="name-bad-owner-part",
    ),
    pytest.param(
        "owner: my_org.\nspaces: {}\n",
        "spaces.yaml:1:1: owner: Invalid owner 'my_org.': cannot start or end with '-' or '.'.",
        id="name-bad-top-level-owner",
    ),
    pytest.param(
        "owner: o\nspaces:\n  demo: {}\n  o/demo: {}\n",
        "spaces.yaml:4:3: spaces.o/demo: Space 'o/demo' is already declared as 'demo'.",
        id="same-space-twice",
    ),
    pytest.param(
        """\
        owner: o
        spaces:
          a:
            variables: {API_KEY: x}
            secrets:
              API_KEY: {from_env: API_KEY}
        """,
        "spaces.yaml:6:7: spaces.a.secrets.API_KEY: 'API_KEY' is both a variable and a secret; "
        "a Space can have only one of them.",
        id="variable-and-secret-same-key",
    ),
    pytest.param(
        """\
        owner: o
        defaults:
          secrets:
            LOG_LEVEL: {from_env: LOG_LEVEL}
        spaces:
          a:
            variables: {LOG_LEVEL: info}
        """,
        "spaces.yaml:4:5: defaults.secrets.LOG_LEVEL: 'LOG_LEVEL' is both a variable and a "
        "secret; a Space can have only one of them.",
        id="variable-and-default-secret-same-key",
    ),
    pytest.param(
        "owner: o\nspaces:\n  a:\n    variables: {1st: x}\n",
        "spaces.yaml:4:17: spaces.a.variables.1st: Invalid key '1st': use letters, digits and "
        "'_', not starting with a digit.",
        id="variable-key-pattern",
    ),
    pytest.param(
        "owner: o\nspaces:\n  a:\n    variables: {LIST: [1, 2]}\n",
        "spaces.yaml:4:17: spaces.a.variables.LIST: Expected a string, number or boolean, "
        "got a list.",
        id="variable-value-type",
    ),
    pytest.param(
        """\
        owner: o
        spaces:
          docs:
            sdk: static
            hardware: cpu-basic
        """,
        "spaces.yaml:5:5: spaces.docs.hardware: A static Space has no hardware; remove 'hardware'.",
        id="hardware-on-static",
    ),
    pytest.param(
        """\
        owner: o
        spaces:
          docs:
            sdk: static
            sleep_time: 600
        """,
        "spaces.yaml:5:5: spaces.docs.sleep_time: A static Space has no sleep time; remove "
        "'sleep_time'.",
        id="sleep-time-on-static",
    ),
    pytest.param(
        "owner: o\nspaces:\n  a:\n    sleep_time: 0\n",
        "spaces.yaml:4:5: spaces.a.sleep_time: Expected a positive number of seconds, or -1 to "
        "never sleep.",
        id="sleep-time-zero",
    ),
    pytest.param(
        "owner: o\nspaces:\n  a:\n    source: ./nope\n",
        "spaces.yaml:4:5: spaces.a.source: Source folder './nope' does not exist ({cwd}/nope).",
        id="missing-source-folder",
    ),
    pytest.param(
        "owner: o\nspaces:\n  a:\n    source: ./app/app.py\n",
        "spaces.yaml:4:5: spaces.a.source: Source './app/app.py' is not a folder "
        "({cwd}/app/app.py).",
        id="source-is-a-file",
    ),
    pytest.param(
        """\
        owner: o
        spaces:
          a:
            secrets:
              GEMINI_API_KEY: AIzaSy-not-a-real-key
        """,
        "spaces.yaml:5:7: spaces.a.secrets.GEMINI_API_KEY: Secret values are never written in "
        "the manifest; use {from_env: VAR} and set VAR in the environment.",
        id="literal-secret-value",
    ),
    pytest.param(
        "owner: o\nspaces:\n  a:\n    secrets:\n      K:\n",
        "spaces.yaml:5:7: spaces.a.secrets.K: Expected a mapping like {from_env: VAR}.",
        id="null-secret",
    ),
    pytest.param(
        "owner: o\nspaces:\n  a:\n    secrets:\n      K: {from_env: my-var}\n",
        "spaces.yaml:5:11: spaces.a.secrets.K.from_env: Invalid environment variable name "
        "'my-var'.",
        id="bad-from-env-name",
    ),
    pytest.param(
        "version: 2\nowner: o\nspaces: {}\n",
        "spaces.yaml:1:1: version: Unsupported manifest version 2; this spacectl reads version 1.",
        id="unsupported-version",
    ),
    pytest.param(
        "version: '1'\nowner: o\nspaces: {}\n",
        "spaces.yaml:1:1: version: Expected the number 1.",
        id="version-not-a-number",
    ),
    pytest.param(
        "# yaml-language-server: $schema=x\nspaces: {}\n",
        "spaces.yaml:2:1: owner: Required key is missing; set it to the user or organisation "
        "that owns the Spaces.",
        id="missing-owner",
    ),
    pytest.param(
        "owner: o\n",
        "spaces.yaml:1:1: spaces: Required key is missing.",
        id="missing-spaces",
    ),
    pytest.param(
        "# only a comment\n",
        "spaces.yaml:1:1: The manifest is empty; expected a mapping with 'owner' and 'spaces'.",
        id="empty-document",
    ),
    pytest.param(
        "- owner: o\n",
        "spaces.yaml:1:1: Expected a mapping with 'owner' and 'spaces' at the top level, got "
        "a list.",
        id="non-mapping-document",
    ),
    pytest.param(
        "owner: o\ndefaults: {state: absent}\nspaces: {}\n",
        "spaces.yaml:2:12: defaults.state: 'state' cannot be a default; set it on each Space.",
        id="state-in-defaults",
    ),
    pytest.param(
        """\
        owner: o
        spaces:
          a:
            card: {title: A, sdk: docker}
        """,
        "spaces.yaml:4:22: spaces.a.card.sdk: Set 'sdk' on the Space, not in its card.",
        id="sdk-in-card",
    ),
    pytest.param(
        """\
        owner: o
        spaces:
          a:
            volumes:
              - {source: o/data, mount_path: data}
        """,
        "spaces.yaml:5:26: spaces.a.volumes[0].mount_path: mount_path must be absolute, "
        "e.g. '/data'.",
        id="relative-mount-path",
    ),
    pytest.param(
        """\
        x-template: &template
          sdk: gradoi
        owner: o
        spaces:
          a:
            <<: *template
        """,
        "spaces.yaml:2:3: spaces.a.sdk: Input should be 'gradio', 'streamlit', 'docker' or "
        "'static'.",
        id="error-inside-anchor-points-at-anchor",
    ),
    pytest.param(
        """\
        owner: o
        spaces:
          Demo: {sdk: gradio}
          o/demo: {sdk: gradio}
        """,
        "spaces.yaml:4:3: spaces.o/demo: Space 'o/demo' is already declared as 'Demo'.",
        id="same-space-twice-in-other-case",
    ),
    pytest.param(
        """\
        owner: o
        defaults: {hardware: cpu-basic}
        spaces:
          a:
            sdk: gradio
            sleep_time: 3600
        """,
        "spaces.yaml:6:5: spaces.a.sleep_time: cpu-basic Spaces always sleep after 48 h without "
        "visitors; a sleep time needs upgraded hardware. Remove 'sleep_time' or change 'hardware'.",
        id="sleep-time-on-free-hardware",
    ),
    pytest.param(
        """\
        owner: o
        spaces:
          a:
            sdk: docker
            volumes:
              - {source: o/x, mount_path: /d}
              - {source: o/y, mount_path: /d}
        """,
        "spaces.yaml:7:23: spaces.a.volumes[1].mount_path: Two volumes are mounted at '/d'.",
        id="two-volumes-one-mount-path",
    ),
    pytest.param(
        """\
        owner: o
        spaces:
          a:
            sdk: gradio
            ignore_changes: [hardware, hardwear]
        """,
        "spaces.yaml:5:32: spaces.a.ignore_changes[1]: Unknown field 'hardwear'; ignore_changes "
        "names fields such as hardware, variables.KEY, secrets.*, files/PATH (one of: sdk, "
        "visibility, hardware, sleep_time, dev_mode, volumes, variables, secrets, card, files).",
        id="ignore-changes-unknown-field",
    ),
    pytest.param(
        """\
        owner: o
        defaults:
          ignore_changes:
            - files.data
        spaces:
          a: {sdk: gradio}
        """,
        "spaces.yaml:4:7: defaults.ignore_changes[0]: Write files patterns as files/PATH, not "
        "'files.data'.",
        id="ignore-changes-files-spelling",
    ),
    pytest.param(
        """\
        owner: o
        spaces:
          a:
            sdk: gradio
            secrets:
              K: {from_env: K, manage: once}
        """,
        "spaces.yaml:6:24: spaces.a.secrets.K.manage: Input should be 'always' or 'create_only'.",
        id="secret-manage-value",
    ),
    # A nested model's keys are read off the models: environments' volumes listed none.
    pytest.param(
        """\
        owner: o
        spaces: {a: {}}
        environments:
          prod:
            overrides:
              volumes: [{source: o/d, mount_path: /d, zzz: 1}]
        """,
        "spaces.yaml:6:47: environments.prod.overrides.volumes[0].zzz: Unknown key 'zzz'; "
        "expected one of: type, source, mount_path, revision, read_only, path.",
        id="environment-volume-unknown-key",
    ),
    pytest.param(
        """\
        owner: o
        spaces: {a: {}}
        environments:
          prod:
            spaces:
              a:
                volumes: [{source: o/d, mountpath: /d}]
        """,
        "spaces.yaml:7:33: environments.prod.spaces.a.volumes[0].mountpath: Unknown key "
        "'mountpath'; did you mean 'mount_path'?",
        id="environment-space-volume-did-you-mean",
    ),
    # A key that is not text is found where it was written (pydantic names it by its str()).
    pytest.param(
        """\
        owner: o
        spaces:
          ? [a, b]
          : {}
        """,
        "spaces.yaml:3:5: spaces.('a', 'b'): Input should be a valid string.",
        id="non-text-space-key",
    ),
    # A value Python cannot hold is reported where it was written, not at the document's start.
    pytest.param(
        """\
        owner: o
        x-when: 2024-02-30
        spaces: {a: {}}
        """,
        "spaces.yaml:2:9: Invalid YAML: day is out of range for month",
        id="impossible-date",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ERROR_CASES)
def test_manifest_error_message(workdir: Path, text: str, expected: str) -> None:
    assert _error(workdir, text) == expected.replace("{cwd}", str(workdir.resolve()))


def test_secret_variables_are_never_read(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """validate runs without any secret (pre-commit, a fork's pull request): the loader never
    looks at the environment; plan and apply deal with a missing value."""
    text = """\
    owner: o
    defaults:
      secrets: {D: {from_env: EMPTY_VAR}}
    spaces:
      a:
        secrets: {K: {from_env: UNSET_VAR}}
    """
    monkeypatch.delenv("UNSET_VAR", raising=False)
    monkeypatch.setenv("EMPTY_VAR", "")
    _write(workdir, text)
    assert load_manifest(Path("spaces.yaml")).space("o/a").secrets == {
        "D": SecretSpec(from_env="EMPTY_VAR"),
        "K": SecretSpec(from_env="UNSET_VAR"),
    }


def test_literal_secret_value_is_never_echoed(workdir: Path) -> None:
    message = _error(workdir, "owner: o\nspaces:\n  a:\n    secrets:\n      K: hunter2\n")
    assert "hunter2" not in message


def test_duplicate_key_message_does_not_quote_values(workdir: Path) -> None:
    text = "owner: o\nspaces:\n  a:\n    secrets:\n      K: one-secret\n      K: two-secret\n"
    message = _error(workdir, text)
    assert (
        message
        == "spaces.yaml:6:7: spaces.a.secrets.K: Duplicate key 'K' (first defined at line 5)."
    )


def test_first_problem_in_file_order_with_a_hint_counting_the_rest(workdir: Path) -> None:
    _write(workdir, "owner: o\nspaces:\n  b:\n    sdk: nope\n  a:\n    sdkk: docker\n")
    with pytest.raises(ManifestError) as info:
        load_manifest(Path("spaces.yaml"))
    assert str(info.value).startswith("spaces.yaml:4:5: spaces.b.sdk: ")
    assert info.value.hint == ("1 more problem in this file; 'spacectl validate' lists them all.")


def test_every_problem_is_kept_in_file_order_with_missing_keys_last(workdir: Path) -> None:
    _write(
        workdir,
        "spaces:\n  b:\n    sdk: nope\n  a:\n    sdkk: docker\n",
    )
    with pytest.raises(ManifestProblems) as info:
        load_manifest(Path("spaces.yaml"))
    assert [str(p) for p in info.value.problems] == [
        "spaces.yaml:3:5: spaces.b.sdk: Input should be 'gradio', 'streamlit', 'docker' or "
        "'static'.",
        "spaces.yaml:5:5: spaces.a.sdkk: Unknown key 'sdkk'; did you mean 'sdk'?",
        "spaces.yaml:1:1: owner: Required key is missing; set it to the user or organisation "
        "that owns the Spaces.",
    ]
    assert str(info.value) == str(info.value.problems[0])
    assert info.value.hint is not None and info.value.hint.startswith("2 more problems")


def test_file_name_is_shown_as_given(workdir: Path) -> None:
    (workdir / "conf").mkdir()
    (workdir / "conf" / "org.yaml").write_text("owner: o\nspaces: {a: {sdk: x}}\n")
    with pytest.raises(ManifestError) as info:
        load_manifest(Path("conf/org.yaml"))
    assert str(info.value).startswith("conf/org.yaml:2:14: spaces.a.sdk: ")


@pytest.mark.parametrize("kind", ["folder", "symlink-loop"])
def test_an_unreadable_manifest_path_is_one_line_naming_it(workdir: Path, kind: str) -> None:
    if kind == "folder":
        (workdir / "conf").mkdir()
        target = Path("conf")
    else:
        (workdir / "one.yaml").symlink_to("two.yaml")
        (workdir / "two.yaml").symlink_to("one.yaml")
        target = Path("one.yaml")
    with pytest.raises(ManifestError) as info:
        load_manifest(target)
    reason = "Is a directory" if kind == "folder" else "Too many levels of symbolic links"
    assert str(info.value) == f"Cannot read manifest '{target}': {reason}."


def test_many_problems_are_each_reported_once() -> None:
    """5,000 Spaces with one mistake each: every one listed, and once (the de-duplication was
    a scan of every earlier problem: 5,000 of them took 9 s)."""
    entry = "{sdk: docker, bogus: 1, secrets: {K: pasted}}"  # the secret: two checks object
    entries = "".join(f"  s{i}: {entry}\n" for i in range(5000))
    with pytest.raises(ManifestProblems) as info:
        parse_manifest(f"owner: o\nspaces:\n{entries}", "m.yaml", base_dir=Path("."))
    reported = [problem.where for problem in info.value.problems]
    assert len(reported) == len(set(reported)) == 10_000
    assert reported[:2] == ["spaces.s0.bogus", "spaces.s0.secrets.K"]


def test_missing_manifest_file(workdir: Path) -> None:
    with pytest.raises(ManifestError) as info:
        load_manifest(Path("nope.yaml"))
    assert str(info.value) == "Manifest 'nope.yaml' not found."


def test_defaults_merge(workdir: Path) -> None:
    text = """\
    owner: ifcore-org
    defaults:
      sdk: docker
      visibility: private
      hardware: cpu-basic
      ignore: ["*.log"]
      variables: {LOG_LEVEL: info, REGION: eu}
      secrets:
        GEMINI_API_KEY: {from_env: GEMINI_API_KEY}
      card: {emoji: "🏗️", pinned: false}
    spaces:
      platform:
        source: ./app
        hardware: cpu-upgrade
        ignore: ["*.tmp"]
        variables: {LOG_LEVEL: debug}
        secrets:
          DB_URL: {from_env: DB_URL, description: database}
        card: {title: Platform, pinned: true}
      docs:
        sdk: static
      other-org/bare:
      cleared:
        variables: null
        secrets: null
        card: null
        hardware: null
    """
    _write(workdir, text)
    manifest = load_manifest(Path("spaces.yaml"))
    assert manifest.owner == "ifcore-org"
    assert manifest.path == (workdir / "spaces.yaml").resolve()
    assert manifest.space("ifcore-org/platform") == SpaceSpec(
        id="ifcore-org/platform",
        sdk="docker",
        visibility="private",
        hardware="cpu-upgrade",
        variables={"LOG_LEVEL": "debug", "REGION": "eu"},
        secrets={
            "GEMINI_API_KEY": SecretSpec(from_env="GEMINI_API_KEY"),
            "DB_URL": SecretSpec(from_env="DB_URL", description="database"),
        },
        card=CardSpec(title="Platform", emoji="🏗️", pinned=True),
        source=(workdir / "app").resolve(),
        ignore=("*.tmp",),
    )
    docs = manifest.space("ifcore-org/docs")
    assert (docs.sdk, docs.hardware, docs.visibility) == ("static", None, "private")
    bare = manifest.space("other-org/bare")
    assert (bare.sdk, bare.hardware, bare.ignore) == ("docker", "cpu-basic", ("*.log",))
    assert bare.card == CardSpec(emoji="🏗️", pinned=False)
    cleared = manifest.space("ifcore-org/cleared")
    assert (cleared.variables, cleared.secrets, cleared.card, cleared.hardware) == (
        {},
        {},
        None,
        None,
    )
    assert [s.id for s in manifest.spaces] == [
        "ifcore-org/platform",
        "ifcore-org/docs",
        "other-org/bare",
        "ifcore-org/cleared",
    ]


def test_anchors_and_merge_keys(workdir: Path) -> None:
    text = """\
    owner: o
    x-team: &team
      sdk: gradio
      source: ./app
      hardware: cpu-basic
      variables: {MODEL: tiny}
    x-card: &card {emoji: "🧪", colorFrom: green}
    spaces:
      team-a:
        <<: *team
      team-b:
        <<: *team
        hardware: t4-small
        card: {<<: *card, title: B}
    """
    _write(workdir, text)
    manifest = load_manifest(Path("spaces.yaml"))
    a, b = manifest.spaces
    assert (a.sdk, a.hardware, a.variables, a.source) == (
        "gradio",
        "cpu-basic",
        {"MODEL": "tiny"},
        (workdir / "app").resolve(),
    )
    assert (b.hardware, b.card) == ("t4-small", CardSpec(title="B", emoji="🧪", colorFrom="green"))


def test_variables_become_strings_as_written(workdir: Path) -> None:
    text = """\
    owner: o
    spaces:
      a:
        variables:
          FLAG: true
          OFF: false
          PORT: 7860
          RATIO: 1.10
          PADDED: 007
          BIG: 1e3
          TEXT: hello
          QUOTED: "1.10"
          INLINE: {}
    """
    _write(workdir, text.replace("INLINE: {}", "NEG: -2.50"))
    variables = load_manifest(Path("spaces.yaml")).space("o/a").variables
    assert variables == {
        "FLAG": "true",
        "OFF": "false",
        "PORT": "7860",
        "RATIO": "1.10",
        "PADDED": "007",
        "BIG": "1e3",
        "TEXT": "hello",
        "QUOTED": "1.10",
        "NEG": "-2.50",
    }


def test_parse_manifest_resolves_source_against_base_dir(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    manifest = parse_manifest(
        "owner: o\nspaces:\n  a: {source: site}\n",
        "inline.yaml",
        base_dir=tmp_path,
    )
    assert manifest.space("o/a").source == (tmp_path / "site").resolve()


def test_example_manifest_loads() -> None:
    manifest = load_manifest(EXAMPLE)
    assert manifest.owner == "ifcore-org"
    assert [s.id for s in manifest.spaces] == [
        "ifcore-org/platform",
        "ifcore-org/team-a",
        "ifcore-org/team-b",
        "ifcore-org/team-c",
        "ifcore-org/docs",
        "ifcore-org/vision-lab",
        "ifcore-org/old-demo",
    ]
    platform = manifest.space("ifcore-org/platform")
    assert (platform.sdk, platform.hardware, platform.protect) == ("docker", "cpu-upgrade", True)
    assert platform.secrets["GEMINI_API_KEY"].from_env == "GEMINI_API_KEY"
    assert platform.volumes is not None and platform.volumes[0] == VolumeSpec(
        source="ifcore-org/platform-data", mount_path="/data"
    )
    teams = [manifest.space(f"ifcore-org/team-{t}") for t in "abc"]
    assert {t.source for t in teams} == {EXAMPLE.parent / "apps" / "team-template"}
    assert [t.card.title if t.card else None for t in teams] == [
        "IFCore Team A",
        "IFCore Team B",
        "IFCore Team C",
    ]
    docs = manifest.space("ifcore-org/docs")
    assert (docs.sdk, docs.hardware, docs.sleep_time) == ("static", None, None)
    gpu = manifest.space("ifcore-org/vision-lab")
    assert (gpu.hardware, gpu.sleep_time) == ("t4-small", 3600)
    assert manifest.space("ifcore-org/old-demo").state == "absent"


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def test_json_schema_describes_every_space_field() -> None:
    schema = manifest_json_schema()
    json.loads(json.dumps(schema))  # plain JSON data
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert schema["required"] == ["owner", "spaces"]
    assert schema["additionalProperties"] is False
    assert "^x-" in schema["patternProperties"]
    defs = schema["$defs"]
    assert {ref.rsplit("/", 1)[-1] for ref in _refs(schema)} <= set(defs)
    space_fields = set(SpaceSpec.model_fields) - {"id"}
    entry = defs["SpaceEntry"]["properties"]
    assert set(entry) == space_fields
    assert set(defs["DefaultsEntry"]["properties"]) == space_fields - {"state"}
    for name, field in entry.items():
        assert field.get("description"), name
    assert entry["sdk"]["anyOf"][0]["enum"] == ["gradio", "streamlit", "docker", "static"]
    assert entry["variables"]["propertyNames"]["pattern"] == "^[A-Za-z_][A-Za-z0-9_]*$"


def test_json_schema_space_key_pattern_follows_the_hub_rules() -> None:
    import re

    pattern = manifest_json_schema()["properties"]["spaces"]["propertyNames"]["pattern"]
    for good in ("platform", "ifcore-org/platform", "a", "team_a.v2"):
        assert re.match(pattern, good), good
    for bad in ("-a", "a.", "a--b", "a..b", "a.git", "a/b/c", "x" * 97, "my space"):
        assert not re.match(pattern, bad), bad


@pytest.mark.parametrize(
    ("healthcheck", "where", "what"),
    [
        ("{path: health}", "6:19: spaces.a.healthcheck.path", "starting with '/'"),
        ("{expect: 700}", "6:19: spaces.a.healthcheck.expect", "less than or equal to 599"),
        ("{timeout: 0}", "6:19: spaces.a.healthcheck.timeout", "greater than or equal to 1"),
        ("{path: /, retries: 3}", "6:28: spaces.a.healthcheck.retries", "one of: path, expect"),
    ],
)
def test_a_bad_healthcheck_is_one_line_with_its_place(
    workdir: Path, healthcheck: str, where: str, what: str
) -> None:
    text = "owner: o\ndefaults:\n  healthcheck: {path: /up}\nspaces:\n  a:\n"
    text += f"    healthcheck: {healthcheck}\n"
    message = _error(workdir, text)
    assert f"spaces.yaml:{where}" in message and what in message, message


def test_a_healthcheck_in_defaults_is_inherited_whole_and_replaced_whole(workdir: Path) -> None:
    text = (
        "owner: o\ndefaults:\n  healthcheck: {path: /health, timeout: 30}\n"
        "spaces:\n  a: {}\n  b:\n    healthcheck: {expect: 204}\n"
    )
    _write(workdir, text)
    a, b = load_manifest(Path("spaces.yaml")).spaces
    assert a.healthcheck is not None and (a.healthcheck.path, a.healthcheck.timeout) == (
        "/health",
        30,
    )
    assert b.healthcheck is not None
    assert (b.healthcheck.path, b.healthcheck.expect, b.healthcheck.timeout) == ("/", 204, 60)
