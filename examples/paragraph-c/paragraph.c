// The paragraph chunker in C: one chunk per paragraph, where a paragraph is a run of
// non-blank lines. It implements exactly the rule of examples/paragraph-rust.
//
// Ownership follows wit-bindgen's C bindings: the arguments of an export belong to the
// export, which frees them with the generated `*_free` helpers; everything it returns must
// come from malloc, because the generated post-return functions free it once the host has
// copied the result out. That is why even constant strings are copied with
// `chunker_plugin_string_dup` rather than pointed at with `chunker_plugin_string_set`.

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chunker_plugin.h"

// Space, tab, carriage return and line feed: the only bytes the rule treats as blank.
static bool is_space(uint8_t b) { return b == ' ' || b == '\t' || b == '\r' || b == '\n'; }

typedef struct {
  size_t start;
  size_t end;
} span_t;

// Writes the byte spans of the paragraphs, trimmed of ASCII white space, to `spans`, which
// has room for one span per line (the most there can be), and returns how many there are.
// Every byte the rule looks at is ASCII, which never occurs inside a multi-byte UTF-8
// character, so the spans always fall on character boundaries.
static size_t paragraphs(const uint8_t *text, size_t len, span_t *spans) {
  size_t count = 0;
  bool open = false;
  size_t line_start = 0;
  while (line_start < len) {
    const uint8_t *newline = memchr(text + line_start, '\n', len - line_start);
    size_t line_end = newline ? (size_t)(newline - text) + 1 : len;
    size_t first = line_start;
    while (first < line_end && is_space(text[first])) first++;
    if (first == line_end) {
      if (open) count++;
      open = false;
    } else {
      size_t last = line_end;
      while (is_space(text[last - 1])) last--;
      if (!open) spans[count].start = first;
      spans[count].end = last;
      open = true;
    }
    line_start = line_end;
  }
  return open ? count + 1 : count;
}

static size_t count_lines(const uint8_t *text, size_t len) {
  size_t lines = 1;
  for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
  return lines;
}

// Unicode White_Space, which Rust's `str::trim` removes before the SDK parses a value.
static bool is_unicode_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
         c == 0x205f || c == 0x3000;
}

// Decodes the character that starts at `s[0]`; strings crossing the component boundary are
// always valid UTF-8, so no checks are needed.
static uint32_t decode(const uint8_t *s, size_t *width) {
  if (s[0] < 0x80) {
    *width = 1;
    return s[0];
  }
  if (s[0] < 0xe0) {
    *width = 2;
    return ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
  }
  if (s[0] < 0xf0) {
    *width = 3;
    return ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
  }
  *width = 4;
  return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
         ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
}

// Parses a `min-bytes` value like Rust's `usize::from_str` on wasm32 after `trim`. Returns
// NULL on success, or the reason Rust gives when it fails.
static const char *parse_usize(const uint8_t *s, size_t len, size_t *out) {
  size_t from = 0, to = len, width;
  while (from < to && is_unicode_space(decode(s + from, &width))) from += width;
  while (to > from) {
    size_t start = to - 1;
    while ((s[start] & 0xc0) == 0x80) start--;
    if (!is_unicode_space(decode(s + start, &width))) break;
    to = start;
  }
  if (from == to) return "cannot parse integer from empty string";
  if (s[from] == '+' && to - from > 1) from++;
  uint64_t value = 0;
  for (size_t i = from; i < to; i++) {
    if (s[i] < '0' || s[i] > '9') return "invalid digit found in string";
    value = value * 10 + (uint64_t)(s[i] - '0');
    if (value > UINT32_MAX) return "number too large to fit in target type";
  }
  *out = (size_t)value;
  return NULL;
}

// Appends `n` bytes to a growing message buffer of known size.
static size_t put(uint8_t *buf, size_t at, const void *bytes, size_t n) {
  memcpy(buf + at, bytes, n);
  return at + n;
}

// Reads `min-bytes` the way the Rust SDK's `config::parse` does, with the same message.
// Returns false and fills `err` when the value does not parse.
static bool min_bytes(size_t *out, exports_genops_plugin_chunker_plugin_error_t *err) {
  chunker_plugin_string_t key;
  chunker_plugin_string_t raw;
  chunker_plugin_string_set(&key, "min-bytes");
  if (!genops_plugin_config_get(&key, &raw)) {
    *out = 1;
    return true;
  }
  const char *reason = parse_usize(raw.ptr, raw.len, out);
  if (reason) {
    static const char head[] = "config `min-bytes` has value `";
    static const char middle[] = "` which does not parse: ";
    size_t len = strlen(head) + raw.len + strlen(middle) + strlen(reason);
    uint8_t *message = malloc(len);
    if (!message) abort();
    size_t at = put(message, 0, head, strlen(head));
    at = put(message, at, raw.ptr, raw.len);
    at = put(message, at, middle, strlen(middle));
    put(message, at, reason, strlen(reason));
    err->tag = GENOPS_PLUGIN_TYPES_PLUGIN_ERROR_INVALID_CONFIG;
    err->val.invalid_config.ptr = message;
    err->val.invalid_config.len = len;
  }
  chunker_plugin_string_free(&raw);
  return reason == NULL;
}

// Writes the decimal digits of `value` into `buf`, which holds at least 21 bytes, and
// returns where they start. Hand-written because snprintf would pull wasi-libc's printf into
// the component, about 15 KiB, nearly doubling its size.
static char *format_size(size_t value, char *buf) {
  char *p = buf + 20;
  *p = '\0';
  do {
    *--p = (char)('0' + value % 10);
    value /= 10;
  } while (value);
  return p;
}

void exports_genops_plugin_chunker_describe(exports_genops_plugin_chunker_plugin_info_t *ret) {
  chunker_plugin_string_dup(&ret->name, "paragraph");
  chunker_plugin_string_dup(&ret->description,
                            "one chunk per paragraph (a run of non-blank lines)");
  genops_plugin_types_config_option_t *option = malloc(sizeof *option);
  if (!option) abort();
  chunker_plugin_string_dup(&option->name, "min-bytes");
  chunker_plugin_string_dup(&option->description, "paragraphs shorter than this are skipped");
  option->default_value.is_some = true;
  chunker_plugin_string_dup(&option->default_value.val, "1");
  ret->config.ptr = option;
  ret->config.len = 1;
}

bool exports_genops_plugin_chunker_split(exports_genops_plugin_chunker_document_t *doc,
                                         exports_genops_plugin_chunker_list_chunk_t *ret,
                                         exports_genops_plugin_chunker_plugin_error_t *err) {
  size_t min;
  if (!min_bytes(&min, err)) {
    exports_genops_plugin_chunker_document_free(doc);
    return false;
  }

  span_t *spans = malloc(count_lines(doc->text.ptr, doc->text.len) * sizeof *spans);
  if (!spans) abort();
  size_t found = paragraphs(doc->text.ptr, doc->text.len, spans);
  exports_genops_plugin_chunker_document_free(doc);

  // Keep the spans that are long enough, compacting them in place.
  size_t kept = 0;
  for (size_t i = 0; i < found; i++) {
    if (spans[i].end - spans[i].start >= min) spans[kept++] = spans[i];
  }

  exports_genops_plugin_chunker_chunk_t *chunks = NULL;
  if (kept > 0) {
    chunks = malloc(kept * sizeof *chunks);
    if (!chunks) abort();
  }
  for (size_t i = 0; i < kept; i++) {
    char digits[21];
    chunker_plugin_tuple2_string_string_t *entry = malloc(sizeof *entry);
    if (!entry) abort();
    chunker_plugin_string_dup(&entry->f0, "paragraph");
    chunker_plugin_string_dup(&entry->f1, format_size(i, digits));
    chunks[i].start = spans[i].start;
    chunks[i].end = spans[i].end;
    chunks[i].metadata.ptr = entry;
    chunks[i].metadata.len = 1;
  }
  free(spans);

  // Imports borrow their arguments, so the log message can live on the stack.
  static const char head[] = "paragraph: ";
  static const char tail[] = " chunks";
  char digits[21];
  const char *count = format_size(kept, digits);
  uint8_t message[sizeof head + 20 + sizeof tail];
  size_t at = put(message, 0, head, strlen(head));
  at = put(message, at, count, strlen(count));
  at = put(message, at, tail, strlen(tail));
  chunker_plugin_string_t line = {message, at};
  genops_plugin_logging_log(GENOPS_PLUGIN_LOGGING_LEVEL_DEBUG, &line);

  ret->ptr = chunks;
  ret->len = kept;
  return true;
}
