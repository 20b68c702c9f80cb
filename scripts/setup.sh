#!/usr/bin/env bash
# Installs everything genops needs, builds it, builds and installs the plugins and the
# default embedding model, then runs the main job on the embedded defaults: a real document
# chunked by plugins written in Rust, C, Python and JavaScript, sentences embedded, and the
# example corpus ingested into an index, searched by each retriever and evaluated.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
source scripts/env.sh

scripts/install.sh

echo
echo "==> building genops (release; the first build takes about ten minutes)"
cargo build --release -p genops-cli
genops="$CARGO_TARGET_DIR/release/genops"
mkdir -p "$HOME/.local/bin"
ln -sf "$genops" "$HOME/.local/bin/genops"

echo
echo "==> building the plugins from source"
built="$GENOPS_CACHE_DIR/plugins"
GENOPS_BIN="$genops" scripts/build-plugins.sh "$built"

echo
echo "==> installing them into the data directory"
# The built-in chunkers and retrievers and the examples; the test plugins stay out.
for src in plugins/chunker-* plugins/retriever-* examples/paragraph-*; do
  "$genops" plugin install "$built/$(basename "$src")"
done
"$genops" plugin list

echo
echo "==> installing the default embedding model and ONNX Runtime"
"$genops" models install
"$genops" models list

echo
echo "==> chunking docs/architecture.md with each plugin"
doc=docs/architecture.md
printf '%-18s %-11s %7s  %s\n' plugin language chunks "first chunk"
for p in chunker-fixed chunker-recursive chunker-sentence chunker-markdown \
         paragraph-rust paragraph-c paragraph-python paragraph-js; do
  case "$p" in
    paragraph-*) lang=${p#paragraph-} ;;
    *) lang=rust ;;
  esac
  "$genops" chunk --plugin "$p" "$doc" > "$GENOPS_CACHE_DIR/chunks-$p.jsonl"
  python3 - "$p" "$lang" "$GENOPS_CACHE_DIR/chunks-$p.jsonl" <<'PY'
import json, sys
name, lang, path = sys.argv[1:]
rows = [json.loads(line) for line in open(path, encoding="utf-8")]
first = rows[0]["text"].replace("\n", " ")[:60] if rows else ""
print(f"{name:<18} {lang:<11} {len(rows):>7}  {first}")
PY
done
echo
echo "==> embedding: which sentence is closest to a question (genops embed)"
question="How do I keep a plugin from using too much memory?"
"$genops" embed --model all-minilm-l6-v2 "$question" \
  "Each call runs under a memory cap set in the manifest, within the operator's ceiling." \
  "The compile cache is keyed by the component digest and the engine settings." \
  "Chunkers split documents into pieces small enough to embed." \
  > "$GENOPS_CACHE_DIR/embed-demo.jsonl"
python3 - "$GENOPS_CACHE_DIR/embed-demo.jsonl" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
q = rows[0]["vector"]
print(f"{len(q)}-dimension vectors; cosine to the question:")
for r in rows[1:]:
    print(f"  {sum(a * b for a, b in zip(q, r['vector'])):.3f}  text {r['index']}")
PY

echo
echo "==> ingesting examples/rag-corpus (57 documents) into the index \"stdlib\""
"$genops" ingest --index stdlib examples/rag-corpus/docs
"$genops" index list

echo
echo "==> searching it with each retriever"
for r in retriever-bm25 retriever-vector retriever-hybrid retriever-mmr; do
  echo "--- $r"
  "$genops" search --index stdlib --retriever "$r" -k 2 "How do I keep a priority queue sorted?"
done

echo
echo "==> retrieval quality on the judged queries (examples/rag-corpus/queries.jsonl)"
for r in retriever-bm25 retriever-vector retriever-hybrid retriever-mmr; do
  "$genops" eval retrieval --index stdlib --retriever "$r" -k 5 examples/rag-corpus/queries.jsonl | tail -1
done

echo
echo "genops is at $genops (linked from ~/.local/bin/genops)."
echo "Try: genops chunk --plugin chunker-markdown --set size=400 README.md | head -3"
