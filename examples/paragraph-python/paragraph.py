"""The paragraph chunker in Python: one chunk per paragraph, where a paragraph is a run of
non-blank lines. It implements exactly the rule of examples/paragraph-rust.

Offsets in the WIT contract are UTF-8 byte offsets, not the code point indices Python uses
for `str`, so the text is encoded to bytes first and every position below is a byte position.
"""

from typing import List, Optional, Tuple

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import config, logging
from wit_world.imports.types import (
    Chunk,
    ConfigOption,
    Document,
    PluginError_InvalidConfig,
    PluginInfo,
)

# Space, tab, carriage return and line feed: the only bytes the rule treats as blank.
_SPACE = b" \t\r\n"

# Rust's `usize` on wasm32, whose parser the Rust example uses for `min-bytes`.
_USIZE_MAX = 2**32 - 1

# Unicode White_Space, which Rust's `str::trim` removes. Python's `str.strip()` would also
# remove the separators U+001C to U+001F, which Rust keeps.
_RUST_WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

def paragraphs(text: bytes) -> List[Tuple[int, int]]:
    """Byte spans (start, end) of the paragraphs, trimmed of ASCII white space.

    Every byte the rule looks at is ASCII, which never occurs inside a multi-byte UTF-8
    character, so the spans always fall on character boundaries.
    """
    spans: List[Tuple[int, int]] = []
    para: Optional[Tuple[int, int]] = None
    line_start = 0
    while line_start < len(text):
        newline = text.find(b"\n", line_start)
        line_end = len(text) if newline == -1 else newline + 1
        line = text[line_start:line_end]
        body = line.lstrip(_SPACE)
        if not body:
            if para is not None:
                spans.append(para)
            para = None
        else:
            first = line_start + len(line) - len(body)
            last = line_start + len(line.rstrip(_SPACE))
            para = (first, last) if para is None else (para[0], last)
        line_start = line_end
    if para is not None:
        spans.append(para)
    return spans


def _parse_usize(raw: str) -> Tuple[Optional[int], str]:
    """Parses like Rust's `usize::from_str` on wasm32 after `trim`: the value, or None and
    the reason Rust gives. Digits are read left to right and the first problem wins, as in
    Rust, so `99999999999x` is too large rather than malformed."""
    text = raw.strip(_RUST_WHITESPACE)
    if text == "":
        return None, "cannot parse integer from empty string"
    digits = text[1:] if text.startswith("+") and len(text) > 1 else text
    value = 0
    for char in digits:
        # Not `str.isdigit`, which also accepts digits such as "²" and "٣".
        if char not in "0123456789":
            return None, "invalid digit found in string"
        value = value * 10 + ord(char) - ord("0")
        if value > _USIZE_MAX:
            return None, "number too large to fit in target type"
    return value, ""


def _min_bytes() -> int:
    """Reads `min-bytes` the way the Rust SDK's `config::parse` does, with the same message."""
    raw = config.get("min-bytes")
    if raw is None:
        return 1
    value, reason = _parse_usize(raw)
    if value is None:
        raise Err(
            PluginError_InvalidConfig(
                f"config `min-bytes` has value `{raw}` which does not parse: {reason}"
            )
        )
    return value

class Chunker(exports.Chunker):
    """The exported chunker; componentize-py finds it by the interface's name."""

    def describe(self) -> PluginInfo:
        return PluginInfo(
            name="paragraph",
            description="one chunk per paragraph (a run of non-blank lines)",
            config=[
                ConfigOption(
                    name="min-bytes",
                    description="paragraphs shorter than this are skipped",
                    default_value="1",
                )
            ],
        )

    def split(self, doc: Document) -> List[Chunk]:
        min_bytes = _min_bytes()
        spans = [
            (start, end)
            for start, end in paragraphs(doc.text.encode("utf-8"))
            if end - start >= min_bytes
        ]
        chunks = [
            Chunk(start=start, end=end, metadata=[("paragraph", str(index))])
            for index, (start, end) in enumerate(spans)
        ]
        logging.log(logging.Level.DEBUG, f"paragraph: {len(chunks)} chunks")
        return chunks
