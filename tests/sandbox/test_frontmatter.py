"""The sandbox's own README front-matter reader, which must read like the Hub's."""

from __future__ import annotations

import pytest

from spacectl.sandbox.frontmatter import front_matter, split


@pytest.mark.parametrize(
    ("readme", "expected"),
    [
        (b"---\ntitle: x\nsdk: gradio\n---\n# body\n", {"title": "x", "sdk": "gradio"}),
        (b"---\r\npinned: false\r\n---\r\nbody", {"pinned": False}),
        (b"\n---\n---\n", {}),
        # YAML 1.2 booleans, as the Hub reads them: `yes`/`on` stay strings.
        (
            b"---\na: yes\nb: on\nc: true\nd: null\n---\n",
            {"a": "yes", "b": "on", "c": True, "d": None},
        ),
        (b"no front matter", None),
        (b"---\ntitle: x\n", None),  # never closed
        (b"---\n- a list\n---\n", None),
        (b"---\na: [\n---\n", None),
        (b"---\na: 1\na: 2\n---\n", None),  # a duplicated key is invalid for the Hub
        (None, None),
    ],
)
def test_front_matter(readme: bytes | None, expected: object) -> None:
    assert front_matter(readme) == expected


def test_split_keeps_the_body() -> None:
    assert split("---\r\na: 1\r\n---\r\n# Title\r\n") == ("a: 1\n", "# Title\n")
    assert split("# Title\n") == (None, "# Title\n")
