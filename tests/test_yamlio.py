"""yamlio: documents that know where each key was written, and the comment-keeping merge of
Spaces into a manifest (`spacectl import`). Front matter is tested through `card.render_readme`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spacectl.errors import ManifestError
from spacectl.manifest_loader import parse_manifest
from spacectl.yamlio import (
    DuplicateKeyError,
    YamlSyntaxError,
    merge_spaces_into_manifest,
    parse_document,
)
from spacectl.yamlio import documents as yamlio_documents

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

DOCUMENT = """\
x-base: &base
  sdk: docker
  variables: {WORKERS: 007, RATE: 1.10}
spaces:
  a:
    <<: *base
    tags:
      - one
      - two
"""


def test_document_is_plain_data_with_merge_keys_applied() -> None:
    data = parse_document(DOCUMENT).data
    assert data["spaces"]["a"] == {
        "sdk": "docker",
        "variables": {"WORKERS": 7, "RATE": 1.1},
        "tags": ["one", "two"],
    }
    assert type(data["spaces"]["a"]) is dict and type(data["spaces"]["a"]["tags"]) is list
    assert parse_document("# nothing\n").data is None


def test_positions_follow_keys_items_and_merge_keys() -> None:
    document = parse_document(DOCUMENT)
    assert document.position(()) == (1, 1)
    assert document.position(("spaces", "a", "tags", 1)) == (9, 9)
    assert document.position(("spaces", "a", "sdk")) == (2, 3)  # written by the anchor
    # A path that does not exist stops at its deepest existing part.
    assert document.position(("spaces", "a", "nope", "deeper")) == (5, 3)
    assert document.has(("spaces", "a", "sdk")) and not document.has(("spaces", "b"))


def test_number_text_is_the_number_as_written() -> None:
    document = parse_document(DOCUMENT)
    path = ("spaces", "a", "variables")
    assert document.number_text((*path, "WORKERS"), 7) == "007"
    assert document.number_text((*path, "RATE"), 1.1) == "1.10"
    assert document.number_text((*path, "RATE"), 2.0) is None
    assert document.number_text(("spaces", "a", "tags", 0), 1) is None


def test_syntax_errors_and_duplicate_keys_carry_positions() -> None:
    with pytest.raises(YamlSyntaxError) as syntax:
        parse_document("a: [1, 2\n")
    assert (syntax.value.line, syntax.value.column) == (2, 1)
    assert syntax.value.message.startswith("expected ',' or ']'")
    with pytest.raises(DuplicateKeyError) as duplicate:
        parse_document("spaces:\n  a: {sdk: x}\n  b: 1\n  a: 2\n")
    error = duplicate.value
    assert (error.key, error.path, error.line, error.column, error.first_line) == (
        "a",
        ("spaces", "a"),
        4,
        3,
        2,
    )


def test_merge_keeps_the_example_manifest_byte_for_byte() -> None:
    text = (EXAMPLES / "spaces.yaml").read_text(encoding="utf-8")
    manifest = parse_manifest(text, "spaces.yaml", base_dir=EXAMPLES)
    spec = manifest.space("ifcore-org/vision-lab")
    entry = {
        "sdk": spec.sdk,
        "hardware": spec.hardware,
        "sleep_time": spec.sleep_time,
        "variables": {"MODEL_ID": spec.variables["MODEL_ID"]},  # its own, not the defaults
        "card": spec.card.model_dump(exclude_none=True) if spec.card else {},
    }
    same = merge_spaces_into_manifest(text, [(spec.id, entry)], managed=tuple(entry))
    assert same.text == text and same.unchanged == (spec.id,)

    changed = merge_spaces_into_manifest(
        text,
        [(spec.id, {**entry, "sleep_time": 7200})],
        managed=tuple(entry),
    )
    assert changed.updated == (spec.id,)
    # Exactly one line differs; its comment stays.
    assert changed.text == text.replace(
        "    sleep_time: 3600 # seconds\n", "    sleep_time: 7200 # seconds\n"
    )


def test_merge_refuses_a_document_without_owner() -> None:
    with pytest.raises(ManifestError):
        merge_spaces_into_manifest("spaces: {}\n", [("a/b", {})], managed=())


def _scale_manifest(count: int) -> str:
    """Spaces as people write them: a template merged in, variables, a secret, a card."""
    head = "owner: o\nx-tpl: &tpl {sdk: gradio, hardware: cpu-basic}\nspaces:\n"
    entry = (
        "  s{i}:\n    <<: *tpl\n    variables: {{N: {i}, RATE: 1.50, ON: true, NAME: s{i}}}\n"
        "    secrets:\n      K: {{from_env: K}}\n    card: {{emoji: '🚀', tags: [a, b]}}\n"
    )
    return head + "".join(entry.format(i=i) for i in range(count))


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in items:
        yield from _paths(child, (*path, key))


@pytest.mark.parametrize("name", ["example", "scale", "hostile-shapes"])
def test_libyaml_and_ruamels_own_parser_give_one_document(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path (libyaml's events) builds what ruamel's Python parser builds: the same
    data, and every path at the same place with the same number text."""
    text = {
        "example": (EXAMPLES / "spaces.yaml").read_text(),
        "scale": _scale_manifest(50),
        "hostile-shapes": "a: &a {x: 1, y: [1, 2.50, {z: ~}]}\nb: {<<: [*a, {w: 007}], x: 2}\n"
        "? [k, l]\n: !!str 12\nc: <<\nd: [*a, *a]\ne: 'quoted'\nf: |\n  block\n  text\n",
    }[name]
    fast = parse_document(text)
    monkeypatch.setattr(yamlio_documents, "CParser", None)
    slow = parse_document(text)
    assert fast.data == slow.data
    for path in _paths(slow.data):
        assert fast.position(path) == slow.position(path), path
        if path and isinstance(path[-1], str):
            assert fast.number_text(path, 1.5) == slow.number_text(path, 1.5), path


def test_the_c_parser_is_installed() -> None:
    """ruamel.yaml.clib is a dependency (pyproject): without it a 5,000-Space manifest takes
    half a minute to validate instead of about a second (bench/manifest_scale.py)."""
    assert yamlio_documents.CParser is not None


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ("a: 1\nb: *nowhere\n", "found undefined alias 'nowhere'", 2, 4),
        ("a: 1\n---\nb: 2\n", "but found another document", 2, 1),
        ("a: [1, 2\n", "expected ',' or ']'", 2, 1),
        ("a:\n  b: {<<: 1}\n", "expected a mapping or list of mappings for merging", 2, 11),
        ("a: 1\nb: " + "9" * 5000 + "\n", "Exceeds the limit", 2, 4),
    ],
)
def test_what_libyaml_declines_keeps_ruamels_message_and_position(
    text: str, message: str, line: int, column: int
) -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        parse_document(text)
    assert message in caught.value.message
    assert (caught.value.line, caught.value.column) == (line, column)
