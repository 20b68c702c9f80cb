// The paragraph chunker in JavaScript: one chunk per paragraph, where a paragraph is a run of
// non-blank lines. It implements exactly the rule of examples/paragraph-rust.
//
// Offsets in the WIT contract are UTF-8 byte offsets, while JavaScript strings are UTF-16, so
// the text is encoded to bytes first and every position below is a byte position.

import { log } from 'genops:plugin/logging@0.1.2';
import { get } from 'genops:plugin/config@0.1.2';

const encoder = new TextEncoder();

// Space, tab, carriage return and line feed: the only bytes the rule treats as blank.
function isSpace(byte) {
  return byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0a;
}

// Byte spans [start, end) of the paragraphs, trimmed of ASCII white space. Every byte the
// rule looks at is ASCII, which never occurs inside a multi-byte UTF-8 character, so the
// spans always fall on character boundaries.
export function paragraphs(bytes) {
  const spans = [];
  let para = null;
  let lineStart = 0;
  while (lineStart < bytes.length) {
    const newline = bytes.indexOf(0x0a, lineStart);
    const lineEnd = newline === -1 ? bytes.length : newline + 1;
    let first = lineStart;
    while (first < lineEnd && isSpace(bytes[first])) first++;
    if (first === lineEnd) {
      if (para !== null) spans.push(para);
      para = null;
    } else {
      let last = lineEnd;
      while (isSpace(bytes[last - 1])) last--;
      para = para === null ? [first, last] : [para[0], last];
    }
    lineStart = lineEnd;
  }
  if (para !== null) spans.push(para);
  return spans;
}

// Rust's `usize` on wasm32, whose parser the Rust example uses for `min-bytes`.
const USIZE_MAX = 2 ** 32 - 1;

// Unicode White_Space, which Rust's `str::trim` removes. `String.prototype.trim` differs:
// it keeps U+0085 and removes U+FEFF.
const RUST_WHITESPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

// Parses like Rust's `usize::from_str` on wasm32 after `trim`: returns the value, or the
// reason Rust gives as a string. Digits are read left to right and the first problem wins,
// as in Rust, so `99999999999x` is too large rather than malformed. (`Number()` would also
// accept `0x10`, `1e3` and the empty string.)
function parseUsize(raw) {
  const text = raw.replace(RUST_WHITESPACE, '');
  if (text === '') return 'cannot parse integer from empty string';
  const digits = text.startsWith('+') && text.length > 1 ? text.slice(1) : text;
  let value = 0;
  for (const char of digits) {
    if (char < '0' || char > '9') return 'invalid digit found in string';
    value = value * 10 + (char.charCodeAt(0) - 48);
    if (value > USIZE_MAX) return 'number too large to fit in target type';
  }
  return value;
}

// Reads `min-bytes` the way the Rust SDK's `config::parse` does, with the same message.
// Throwing an object shaped like the WIT variant makes the export return it as the error.
function minBytes() {
  const raw = get('min-bytes');
  if (raw === undefined) return 1;
  const value = parseUsize(raw);
  if (typeof value === 'string') {
    throw { tag: 'invalid-config', val: `config \`min-bytes\` has value \`${raw}\` which does not parse: ${value}` };
  }
  return value;
}

export const chunker = {
  describe() {
    return {
      name: 'paragraph',
      description: 'one chunk per paragraph (a run of non-blank lines)',
      config: [
        {
          name: 'min-bytes',
          description: 'paragraphs shorter than this are skipped',
          defaultValue: '1',
        },
      ],
    };
  },

  split(doc) {
    const min = minBytes();
    const chunks = paragraphs(encoder.encode(doc.text))
      .filter(([start, end]) => end - start >= min)
      .map(([start, end], index) => ({
        start: BigInt(start),
        end: BigInt(end),
        metadata: [['paragraph', String(index)]],
      }));
    log('debug', `paragraph: ${chunks.length} chunks`);
    return chunks;
  },
};
