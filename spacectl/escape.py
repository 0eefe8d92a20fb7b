"""Escaping of every value spacectl prints that came from outside: a file name, a Hub answer, a
manifest string. Pure and stdlib only, so the error boundary can use it without loading more.

- `printable(text)`: control and invisible characters (CR, LF, ESC, NUL, bidi overrides such
  as U+202E, zero-width and line separators, lone surrogates from undecodable file names) shown
  as Python-style escapes (`\\r`, `\\x1b`, `\\u202e`, `\\udcff`), so data can neither forge a
  line nor hide or reorder text in a terminal, a CI log or a review. Ordinary text, emoji and
  accents included, comes back unchanged.
- `json_text(value)`: `json.dumps` without ASCII-escaping (readable names and emoji), but with
  the same characters as `\\uXXXX` escapes: valid JSON, and writable to any UTF-8 stream even
  when a name holds a lone surrogate.
- `markdown_text(text)`: `printable`, with Markdown's punctuation backslash-escaped, for text
  outside code (a warning in a pull-request comment cannot add a link, an image or a heading,
  and a bare URL is not auto-linked).
- `code_fence(lines)`: a backtick fence longer than any backtick run in `lines`, so data inside
  a fenced block cannot close it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

# A character a reader cannot see as itself: Python's non-printable set (C0/C1 controls, format
# characters such as bidi overrides and zero-width joiners, separators other than the space,
# surrogates, private use, unassigned), found fast for the common all-printable case.
_ASCII_PRINTABLE = re.compile(r"[ -~]*")
# What could start a Markdown construct in running text: emphasis, code, links and images,
# HTML and entities, tables, strike-through, headings, and GitHub's @mentions.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>!#|~@&])")
# GitHub's extended autolinks turn bare `scheme://...` and `www.` text into links: escaping the
# colon or the dot (as any ASCII punctuation may be) keeps the text and drops the link.
_AUTOLINK = re.compile(r"(?<=[A-Za-z0-9])(:)(?=//)|(?<![A-Za-z0-9])(?i:(www))(\.)")


def _escape(char: str) -> str:
    return repr(char)[1:-1]  # a non-printable character is never a quote


def printable(text: str) -> str:
    """`text` with every non-printable character shown as an escape (see the module)."""
    if _ASCII_PRINTABLE.fullmatch(text):
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def _json_escape(char: str) -> str:
    return json.dumps(char)[1:-1]  # \uXXXX, or a surrogate pair beyond the BMP


def json_text(value: Any, *, indent: int | None = 2) -> str:
    """`value` as JSON (see the module); the line breaks of `indent` are the only raw controls."""
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    if _ASCII_PRINTABLE.fullmatch(text.replace("\n", "")):
        return text
    return "".join(c if c == "\n" or c.isprintable() else _json_escape(c) for c in text)


def markdown_text(text: str) -> str:
    """`text` safe to place in Markdown outside code: printable, punctuation escaped, and no
    bare URL that GitHub would turn into a link."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", printable(text))
    return _AUTOLINK.sub(_unlink, escaped)


def _unlink(match: re.Match[str]) -> str:
    if match.group(1):
        return "\\:"
    return f"{match.group(2)}\\."


def code_span(text: str) -> str:
    """`text` as inline code that its own backticks cannot end (CommonMark's rule: a longer
    backtick string, padded with a space when the text starts or ends with a backtick)."""
    text = printable(text)
    fence = "`" * (_longest_backtick_run([text]) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_fence(lines: Iterable[str]) -> str:
    """The fence for a code block holding `lines`: at least three backticks, and longer than any
    run of backticks in them."""
    return "`" * max(3, _longest_backtick_run(lines) + 1)


def _longest_backtick_run(lines: Iterable[str]) -> int:
    return max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
