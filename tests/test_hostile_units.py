"""The hardening pieces one by one (the corpus in tests/hostile/ drives them through the CLI):
escaping, YAML bounds, file names and credential files, credentials as secret sources, import
naming, HF_DEBUG redaction, hardware names."""

from __future__ import annotations

import json
import logging
import time
import tracemalloc
from pathlib import Path

import pytest

from spacectl.adopt import entry_from_live
from spacectl.errors import ConfigError, ManifestError
from spacectl.escape import code_fence, code_span, json_text, markdown_text, printable
from spacectl.files import (
    MAX_NAME_BYTES,
    LocalFile,
    check_no_secret_values,
    path_problem,
    scan_source,
)
from spacectl.inputs import check_credentials
from spacectl.manifest_loader import hardware_problem, parse_manifest
from spacectl.secrets import imported_variable
from spacectl.state import LiveSecret, LiveSpace
from spacectl.yamlbounds import MAX_DEPTH, YamlLimitError, YamlSyntaxError
from spacectl.yamlio import load_front_matter, parse_document

# --- escaping -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain name.txt", "plain name.txt"),
        ("café 🧪", "café 🧪"),
        ("a\nb", "a\\nb"),
        ("a\rb", "a\\rb"),
        ("\x1b[2J", "\\x1b[2J"),
        ("nul\x00", "nul\\x00"),
        ("evil\u202etxt", "evil\\u202etxt"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("line\u2028sep", "line\\u2028sep"),
        ("bad\udcff", "bad\\udcff"),
        ("c1\x85", "c1\\x85"),
    ],
)
def test_printable_escapes_what_cannot_be_seen(raw: str, shown: str) -> None:
    assert printable(raw) == shown
    assert printable(printable(raw)) == printable(raw)  # idempotent: safe to apply twice


def test_json_text_is_valid_json_with_every_invisible_character_escaped() -> None:
    value = {"path": "a\u202eb\udcff\n", "emoji": "🧪", "tag": "\U000e0041"}
    text = json_text(value)
    assert all(c == "\n" or c.isprintable() for c in text)
    assert "🧪" in text  # readable where it is safe
    assert json.loads(text)["path"] == value["path"]
    assert json.loads(text)["tag"] == value["tag"]
    text.encode("utf-8")  # a lone surrogate would not encode


def test_markdown_is_neutralised_and_fences_cannot_be_closed() -> None:
    assert markdown_text("![x](https://e.vil/p.png) @team <b>") == (
        "\\!\\[x\\](https\\://e.vil/p.png) \\@team \\<b\\>"
    )
    # GitHub links bare URLs itself (extended autolinks): an escaped colon or dot stops it.
    assert markdown_text("see https://e.vil/x, www.e.vil and WWW.E.VIL") == (
        "see https\\://e.vil/x, www\\.e.vil and WWW\\.E.VIL"
    )
    assert markdown_text("app.py a:b C://x") == "app.py a:b C\\://x"
    assert markdown_text("awww.x") == "awww.x"  # not GitHub's `www.` autolink
    assert code_fence(["plain"]) == "```"
    assert code_fence(["a ```` b"]) == "`````"
    assert code_span("a`b") == "``a`b``"
    assert code_span("`x") == "`` `x ``"


# --- YAML bounds --------------------------------------------------------------------------------


def _bomb(levels: int = 9, width: int = 9) -> str:
    lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_fast_in_bounded_memory() -> None:
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(YamlLimitError, match="alias bomb") as caught:
        parse_document(_bomb())
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert caught.value.line > 1  # the anchor whose expansion crosses the bound
    # Generous bounds (a loaded CI machine): the unbounded parse took minutes and 7.5 GB.
    assert elapsed < 5 and peak < 50 << 20, (elapsed, peak)


def test_nesting_is_bounded_in_flow_block_and_through_aliases() -> None:
    with pytest.raises(YamlLimitError, match="deep"):
        parse_document("a: " + "[" * 10_000 + "]" * 10_000)
    with pytest.raises(YamlLimitError, match="deep"):
        parse_document("".join("  " * i + "k:\n" for i in range(MAX_DEPTH + 2)))
    deep = "[" * 20 + "1" + "]" * 20
    with pytest.raises(YamlLimitError, match="Aliases nest"):
        parse_document(f"a: &a {deep}\nb: [[[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]]]\n")
    with pytest.raises(YamlLimitError, match="refer to themselves"):
        parse_document("a: &a [*a]\n")
    assert parse_document("a: " + "[" * 10 + "]" * 10).data == {"a": [[[[[[[[[[]]]]]]]]]]}


def test_brackets_in_strings_and_comments_do_not_count_as_nesting() -> None:
    text = "a: '" + "[" * 100 + "'\nb: \"" + "{" * 100 + '"\n# ' + "[" * 100 + "\nc: x[y\n"
    assert parse_document(text).data == {"a": "[" * 100, "b": "{" * 100, "c": "x[y"}


@pytest.mark.parametrize(
    "tagged",
    ["!!python/object:os.system x", "!!binary aGk=", "!custom 1", "!!set {a}", "!!omap [a: 1]"],
)
def test_tags_other_than_plain_types_are_refused(tagged: str) -> None:
    with pytest.raises(YamlLimitError, match="tag"):
        parse_document(f"a: {tagged}\n")


def test_merge_keys_and_timestamps_still_load() -> None:
    doc = parse_document("x: &x {a: 1}\ny: {<<: *x, b: 2}\nz: 2024-01-01\n")
    assert doc.data["y"] == {"a": 1, "b": 2} and str(doc.data["z"]) == "2024-01-01"


def test_front_matter_has_the_same_bounds() -> None:
    with pytest.raises(ConfigError, match="alias bomb"):
        load_front_matter(_bomb())
    with pytest.raises(ConfigError, match="tag"):
        load_front_matter("title: !!python/object:os.system x\n")


def test_huge_integers_and_surrogates_are_one_located_error() -> None:
    with pytest.raises(YamlSyntaxError):
        parse_document("a: " + "9" * 5000 + "\n")
    with pytest.raises(YamlLimitError, match="surrogate"):
        parse_document('a: "\\udcff"\n')


def test_the_manifest_file_is_read_with_a_bound(tmp_path: Path) -> None:
    from spacectl.manifest_loader import load_manifest

    with pytest.raises(ManifestError, match="larger than") as caught:
        load_manifest(Path("/dev/zero"))
    assert caught.value.location is not None and caught.value.location.line == 1


# --- file names and credential files ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("ok/name.txt", ""),
        ("émoji 🧪.txt", ""),
        ("a\nb", "control character"),
        ("a\x7f", "control character"),
        ("bad\udcff", "UTF-8"),
        ("back\\slash", "backslash"),
        ("/abs", "absolute"),
        ("a/../b", "'..'"),
        ("a//b", "empty"),
        ("x" * (MAX_NAME_BYTES + 1), "longer than"),
        ("/".join(["d" * 200] * 21), "longer than 4096"),
    ],
)
def test_path_problem(path: str, problem: str) -> None:
    found = path_problem(path)
    assert (problem in found and bool(found)) if problem else found == ""


def test_credential_files_are_refused_unless_allowed_or_ignored(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("x")
    (tmp_path / ".env.example").write_text("A=\n")
    with pytest.raises(ConfigError, match=r"'\.env\.example' .*credentials"):
        scan_source(tmp_path)
    assert ".env.example" in scan_source(tmp_path, allow=[".env.example"])
    assert ".env.example" not in scan_source(tmp_path, ["*.example"])
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "id_rsa").write_text("k")
    with pytest.raises(ConfigError, match="keys/id_rsa"):
        scan_source(tmp_path, allow=[".env.example"])


def test_a_file_holding_a_secret_value_is_found_across_chunk_boundaries(tmp_path: Path) -> None:
    secret = "s3cr3t-value-across"
    big = tmp_path / "big.bin"
    chunk = 1 << 20
    big.write_bytes(b"a" * (chunk - 5) + secret.encode() + b"b" * 100)
    files = {"big.bin": LocalFile("big.bin", 0, "", "", source_path=big)}
    with pytest.raises(ConfigError, match=r"'big\.bin' holds the value of \$X") as caught:
        check_no_secret_values(files, {"$X": secret})
    assert secret not in str(caught.value)
    check_no_secret_values(files, {"$X": secret}, allow=["*.bin"])
    check_no_secret_values(files, {"$X": "short"})  # too short to look for: no false alarm


# --- credentials as secrets ---------------------------------------------------------------------


def _spec_text(secret: str) -> str:
    return f"version: 1\nowner: acme\nspaces:\n  demo:\n    secrets:\n      KEY: {secret}\n"


@pytest.mark.parametrize(
    ("secret", "environ", "refused"),
    [
        ("{from_env: HF_TOKEN}", {}, "Hub token"),
        ("{from_env: HUGGING_FACE_HUB_TOKEN}", {}, "Hub token"),
        ("{from_env: SPACECTL_SECRET_KEY}", {}, "secret key"),
        ("{from_env: COPY}", {"COPY": "hf_the_token"}, "the Hub token spacectl is using"),
        ("{from_env: HF_TOKEN, allow_token: true}", {}, ""),
        ("{from_env: OTHER}", {"OTHER": "another value"}, ""),
    ],
)
def test_spacectls_own_credentials_are_never_a_secret_source(
    tmp_path: Path, secret: str, environ: dict[str, str], refused: str
) -> None:
    manifest = parse_manifest(_spec_text(secret), "spaces.yaml", base_dir=tmp_path)
    if not refused:
        check_credentials(list(manifest.spaces), environ, "hf_the_token")
        return
    with pytest.raises(ConfigError, match=refused) as caught:
        check_credentials(list(manifest.spaces), environ, "hf_the_token")
    assert "allow_token: true" in (caught.value.hint or "")
    assert "hf_the_token" not in caught.value.message + (caught.value.hint or "")


def test_import_never_maps_a_secret_to_spacectls_token_variable() -> None:
    assert imported_variable("my-demo", "HF_TOKEN") == "SPACE_MY_DEMO_HF_TOKEN"
    assert imported_variable("demo", "SPACECTL_SECRET_KEY") == "SPACE_DEMO_SPACECTL_SECRET_KEY"
    assert imported_variable("demo", "API_KEY") == "API_KEY"
    live = LiveSpace(
        id="acme/my-demo",
        sdk="gradio",
        visibility="public",
        sha="a" * 40,
        requested_hardware="cpu-basic",
        sleep_time=172800,
        variables={},
        secrets={"HF_TOKEN": LiveSecret(None), "API_KEY": LiveSecret(None)},
    )
    secrets = entry_from_live(live).entry["secrets"]
    assert secrets == {
        "HF_TOKEN": {"from_env": "SPACE_MY_DEMO_HF_TOKEN"},
        "API_KEY": {"from_env": "API_KEY"},
    }


# --- HF_DEBUG redaction -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "body", "hidden"),
    [
        ("spaces/acme/demo/secrets", {"key": "K", "value": "canary-debug-91b2 it's"}, True),
        (
            "repos/create",
            {"name": "demo", "secrets": [{"key": "K", "value": "canary-debug-91b2"}]},
            True,
        ),
        # The client cuts a body at 1,000 characters: here inside the value.
        ("repos/create", {"name": "x" * 955, "secrets": [{"value": "canary-debug-91b2"}]}, True),
        ("spaces/acme/demo/variables", {"key": "K", "value": "a secret word"}, False),
    ],
    ids=["secret-route", "create-with-secrets", "cut-body", "variable"],
)
def test_the_debug_log_of_a_secret_write_carries_no_value(
    route: str, body: dict[str, object], hidden: bool
) -> None:
    import httpx2
    from huggingface_hub.utils._http import _curlify

    from spacectl.debuglog import redact_secret_bodies

    request = httpx2.Request("POST", f"https://hub.test/api/{route}", json=body)
    line = (_curlify(request),)
    record = logging.LogRecord("x", logging.DEBUG, "f", 1, "Send: %s", line, None)
    assert redact_secret_bodies(record)
    message = record.getMessage()
    assert message.endswith(f"https://hub.test/api/{route}")
    if hidden:
        assert "canary-de" not in message and "redacted by spacectl" in message
    else:  # a variable is no secret: its debug line is the client's own
        assert message == f"Send: {line[0]}"


# --- hardware -----------------------------------------------------------------------------------


def test_hardware_names_come_from_the_installed_client_with_did_you_mean() -> None:
    from spacectl.cli.options import known_hardware
    from spacectl.hub import SPACE_HARDWARE

    assert known_hardware() == SPACE_HARDWARE  # read from its source without importing it
    assert hardware_problem("t4-small", SPACE_HARDWARE) == ""
    assert "did you mean 't4-small'?" in hardware_problem("t4-smal", SPACE_HARDWARE)
    assert "expected one of: cpu-basic" in hardware_problem("h100-mega-9000", SPACE_HARDWARE)


def test_plan_checks_hardware_against_the_hubs_own_list(tmp_path: Path) -> None:
    from fakehub import FakeHub

    from spacectl.cli.plan import _check_hub_hardware

    text = "version: 1\nowner: acme\nspaces:\n  gpu: {sdk: docker, hardware: a100-large}\n"
    specs = list(parse_manifest(text, "spaces.yaml", base_dir=tmp_path).spaces)
    hub = FakeHub()  # offers cpu-basic, cpu-upgrade, t4-small
    with pytest.raises(ManifestError, match=r"acme/gpu: Unknown hardware 'a100-large' on this Hub"):
        _check_hub_hardware(specs, hub)  # type: ignore[arg-type]
    offered = "version: 1\nowner: acme\nspaces:\n  gpu: {sdk: docker, hardware: t4-small}\n"
    _check_hub_hardware(list(parse_manifest(offered, "s.yaml", base_dir=tmp_path).spaces), hub)  # type: ignore[arg-type]
