#!/usr/bin/env python3
"""Python reference for the native ONNX models of genops (host/genops-models).

The Rust tests and the benchmark run the same model directory through this script and
compare. A model directory holds `model.onnx` and `tokenizer.json`, and optionally an
HF-style `config.json`.

Subcommands:

  embed     sentence embeddings with onnxruntime: tokenize, truncate, pad per batch, run,
            mean-pool over the attention mask, L2-normalise. The rules are spelled out in
            the comments below because the Rust side must apply exactly the same ones.
  embed-st  the same embeddings from sentence-transformers, as an independent check of the
            pipeline; exits with status 3 if sentence-transformers is not installed.
  classify  sequence and sequence-pair classification with onnxruntime, with softmax or
            sigmoid over the logits.

Both embed subcommands print one JSON object:

  {"engine", "engine_version", "count", "tokens", "truncated", "seconds",
   "sentences_per_second", "vectors"}

where `tokens` is each text's token count after truncation (special tokens included),
`seconds` the best wall time over --repeat runs of the whole pipeline after one untimed
warm-up run, and `vectors` is left out with --no-vectors.

Example:

  scripts/models/reference.py embed --model-dir DIR --input tests/data/sentences.txt \\
      --repeat 3 --no-vectors
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

# The benchmark reads exit status 3 as "this engine is not installed".
EXIT_NOT_INSTALLED = 3

# Token ids a padded position gets, and the attention mask it gets. BERT-style vocabularies
# put [PAD] at 0; the mask 0 keeps padding out of attention and pooling, so the id itself
# does not change the result.
PAD_ID = 0

# The tensors the tokenizer can feed; a model declares some or all of them.
KNOWN_INPUTS = ("input_ids", "attention_mask", "token_type_ids")

ONNX_INT_TYPES = {"tensor(int64)": np.int64, "tensor(int32)": np.int32}


class Failure(Exception):
    """An error to report in one line, without a traceback."""


# ---------------------------------------------------------------- inputs and model files


def read_texts(path: Path) -> list[str]:
    """The texts of --input: a JSON list of strings if the name ends in .json, else lines.

    Lines are split on "\\n" with one trailing "\\r" removed, and a final newline does not
    start another text: the rule of Rust's `str::lines`. Empty lines are empty texts. JSON
    is there for texts that contain newlines, and for empty strings at the end.
    """
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise Failure(f"cannot read input {path}: {e}; pass a UTF-8 text or JSON file")
    if path.suffix == ".json":
        try:
            texts = json.loads(raw)
        except json.JSONDecodeError as e:
            raise Failure(f"input {path} is not valid JSON ({e}); pass a JSON list of strings")
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise Failure(f"input {path} must be a JSON list of strings")
        return texts
    lines = raw.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def model_file(model_dir: Path, name: str) -> Path:
    path = model_dir / name
    if not path.is_file():
        raise Failure(
            f"model dir {model_dir} has no {name}; it needs model.onnx and tokenizer.json"
        )
    return path


def load_tokenizer(model_dir: Path):
    # Imported here so that --help works without the package, and so that the rayon thread
    # pool it starts on first use already sees RAYON_NUM_THREADS (see limit_threads).
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_file(model_dir, "tokenizer.json")))
    # Exported tokenizer.json files often carry fixed padding and truncation (all-MiniLM:
    # pad to 128, truncate at 128). The reference does both itself, so both are switched off.
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def limit_threads(threads: int) -> None:
    """Keep the tokenizer's parallel batch encoding to the thread budget of the run.

    `encode_batch` runs on a rayon pool that by default uses every core, which would let
    tokenization borrow threads the benchmark does not give the other engines. Must run
    before the tokenizers package first encodes anything.
    """
    if threads < 1:
        raise Failure(f"--threads must be at least 1, got {threads}")
    os.environ["RAYON_NUM_THREADS"] = str(threads)


def open_session(model_dir: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    path = model_file(model_dir, "model.onnx")
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types for bad models
        raise Failure(f"onnxruntime cannot load {path}: {e}")
    unknown = [i.name for i in session.get_inputs() if i.name not in KNOWN_INPUTS]
    if unknown:
        raise Failure(
            f"{path} declares inputs {unknown} this script cannot feed; "
            f"it feeds only {list(KNOWN_INPUTS)}"
        )
    return session


def read_config(model_dir: Path) -> dict:
    path = model_dir / "config.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise Failure(f"cannot read {path}: {e}; fix or remove it")


# ---------------------------------------------------------------- tokens to tensors


def truncate(encoding, max_length: int) -> tuple[list[int], list[int], list[int], bool]:
    """Ids, type ids and attention mask of one embedding input, cut to max_length.

    The rule, which the Rust side must match exactly: the text is encoded with special
    tokens ([CLS] text [SEP]) and no truncation. If that gives more than max_length tokens,
    keep the first max_length - 1 and append the original last token, so the sequence
    still ends in [SEP]; the type ids and attention mask are cut the same way. For a single
    text this equals the tokenizer's own longest-first truncation at max_length with
    special tokens counted, which is what sentence-transformers does.
    """
    ids, types, mask = encoding.ids, encoding.type_ids, encoding.attention_mask
    if len(ids) <= max_length:
        return ids, types, mask, False
    keep = max_length - 1
    return (
        ids[:keep] + ids[-1:],
        types[:keep] + types[-1:],
        mask[:keep] + mask[-1:],
        True,
    )


def pad(rows: list[tuple[list[int], list[int], list[int]]]) -> dict[str, np.ndarray]:
    """Ids, type ids and mask of one batch, each row padded at the end to the longest row.

    Padding gets id PAD_ID, type id 0 and mask 0.
    """
    width = max(len(ids) for ids, _, _ in rows)
    arrays = {name: np.zeros((len(rows), width), dtype=np.int64) for name in KNOWN_INPUTS}
    arrays["input_ids"].fill(PAD_ID)
    for r, (ids, types, mask) in enumerate(rows):
        arrays["input_ids"][r, : len(ids)] = ids
        arrays["token_type_ids"][r, : len(types)] = types
        arrays["attention_mask"][r, : len(mask)] = mask
    return arrays


def run_first_output(session, arrays: dict[str, np.ndarray]) -> np.ndarray:
    """The model's first declared output for one padded batch.

    Only the inputs the model declares are fed, in the integer type it declares.
    """
    feed = {}
    for declared in session.get_inputs():
        dtype = ONNX_INT_TYPES.get(declared.type)
        if dtype is None:
            raise Failure(
                f"model input {declared.name} has type {declared.type}; "
                "only int64 and int32 token inputs are supported"
            )
        feed[declared.name] = arrays[declared.name].astype(dtype, copy=False)
    return session.run([session.get_outputs()[0].name], feed)[0]


# ---------------------------------------------------------------- embed


def mean_pool_normalize(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Sentence vectors from token vectors [batch, sequence, dim] and the attention mask.

    The mean of the token vectors weighted by the mask (divisor clamped at 1e-9 as in
    sentence-transformers), then divided by its L2 norm (clamped at 1e-12 as in
    torch.nn.functional.normalize). Computed in float64, returned as float32.
    """
    if hidden.ndim != 3:
        raise Failure(
            f"the model's first output has shape {list(hidden.shape)}; an embedding model "
            "must output token vectors [batch, sequence, dim]"
        )
    weights = mask.astype(np.float64)[:, :, None]
    summed = (hidden.astype(np.float64) * weights).sum(axis=1)
    means = summed / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(means, axis=1, keepdims=True)
    return (means / np.maximum(norms, 1e-12)).astype(np.float32)


def embed_onnx(tokenizer, session, texts: list[str], max_length: int, batch: int):
    """Vectors, token counts and truncation flags of texts, in input order.

    Texts are sorted by token count (shortest first, ties in input order) before they are
    cut into batches of `batch`, so each batch pads little; the vectors are put back in
    input order at the end.
    """
    encodings = tokenizer.encode_batch(texts, add_special_tokens=True)
    rows, truncated = [], []
    for encoding in encodings:
        ids, types, mask, cut = truncate(encoding, max_length)
        rows.append((ids, types, mask))
        truncated.append(cut)
    order = sorted(range(len(rows)), key=lambda i: len(rows[i][0]))
    vectors = [None] * len(rows)
    for start in range(0, len(order), batch):
        chunk = order[start : start + batch]
        arrays = pad([rows[i] for i in chunk])
        hidden = run_first_output(session, arrays)
        pooled = mean_pool_normalize(hidden, arrays["attention_mask"])
        for r, i in enumerate(chunk):
            vectors[i] = pooled[r]
    return vectors, [len(ids) for ids, _, _ in rows], truncated


def best_time(run, repeat: int):
    """One untimed warm-up run, then the best wall time of `repeat` runs and the last result."""
    if repeat < 1:
        raise Failure(f"--repeat must be at least 1, got {repeat}")
    result = run()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def as_float32_list(vector) -> list[float]:
    # float32 values written with the shortest digits that read back as the same float32.
    return [float(str(v)) for v in np.asarray(vector, dtype=np.float32)]


def embedding_report(engine, version, vectors, tokens, truncated, seconds, with_vectors):
    count = len(tokens)
    report = {
        "engine": engine,
        "engine_version": version,
        "count": count,
        "tokens": tokens,
        "truncated": truncated,
        "seconds": seconds,
        "sentences_per_second": count / seconds if seconds > 0 else 0.0,
    }
    if with_vectors:
        report["vectors"] = [as_float32_list(v) for v in vectors]
    return report


def write_json(value, output: Path | None) -> None:
    text = json.dumps(value, ensure_ascii=False)
    if output is None:
        sys.stdout.write(text + "\n")
    else:
        try:
            output.write_text(text + "\n", encoding="utf-8")
        except OSError as e:
            raise Failure(f"cannot write {output}: {e}")


def check_batch(batch: int) -> None:
    if batch < 1:
        raise Failure(f"--batch must be at least 1, got {batch}")


def cmd_embed(args) -> int:
    if args.max_length < 2:
        raise Failure(f"--max-length must be at least 2 ([CLS] and [SEP]), got {args.max_length}")
    check_batch(args.batch)
    limit_threads(args.threads)
    import onnxruntime as ort

    texts = read_texts(args.input)
    tokenizer = load_tokenizer(args.model_dir)
    session = open_session(args.model_dir, args.threads)
    seconds, (vectors, tokens, truncated) = best_time(
        lambda: embed_onnx(tokenizer, session, texts, args.max_length, args.batch), args.repeat
    )
    report = embedding_report(
        "onnxruntime", ort.__version__, vectors, tokens, truncated, seconds, not args.no_vectors
    )
    write_json(report, args.output)
    return 0


def cmd_embed_st(args) -> int:
    check_batch(args.batch)
    limit_threads(args.threads)
    # Never reach for the network: the model directory is all there is.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    # Progress bars would interleave with the benchmark's own output on stderr.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        import sentence_transformers
        import torch
    except ImportError as e:
        print(
            f"error: sentence-transformers is not installed ({e}); install sentence-transformers "
            "and torch to run embed-st",
            file=sys.stderr,
        )
        return EXIT_NOT_INSTALLED

    texts = read_texts(args.input)
    torch.set_num_threads(args.threads)
    try:
        model = sentence_transformers.SentenceTransformer(str(args.model_dir), device="cpu")
    except Exception as e:  # loading raises many types: OSError, ValueError, json errors
        raise Failure(f"sentence-transformers cannot load {args.model_dir}: {e}")

    # Token counts as the model sees them: its tokenizer with its max_seq_length. Outside the
    # timed runs, which tokenize again inside encode().
    max_length = model.max_seq_length
    full = [len(ids) for ids in model.tokenizer(texts, verbose=False)["input_ids"]] if texts else []
    tokens = [min(n, max_length) for n in full]
    truncated = [n > max_length for n in full]

    def run():
        return model.encode(
            texts,
            batch_size=args.batch,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    with torch.inference_mode():
        seconds, vectors = best_time(run, args.repeat)
    report = embedding_report(
        "sentence-transformers",
        sentence_transformers.__version__,
        list(vectors),
        tokens,
        truncated,
        seconds,
        not args.no_vectors,
    )
    write_json(report, args.output)
    return 0


# ---------------------------------------------------------------- classify


def read_jsonl(path: Path) -> list[tuple[str, str | None]]:
    """(text, pair) per non-blank line of a JSONL file of {"text": ..., "pair": ...}."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as e:
        raise Failure(f"cannot read input {path}: {e}; pass a UTF-8 JSONL file")
    items = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            raise Failure(f"{path} line {number} is not valid JSON: {e}")
        if not isinstance(item, dict):
            item = {}
        text, pair = item.get("text"), item.get("pair")
        if not isinstance(text, str) or not (pair is None or isinstance(pair, str)):
            raise Failure(
                f'{path} line {number} must be an object {{"text": string, "pair": string}} '
                "with an optional pair"
            )
        items.append((text, pair))
    return items


def label_names(config: dict, count: int) -> list[str]:
    """Names of the model's `count` outputs: config.json id2label, else LABEL_i."""
    id2label = config.get("id2label") or {}
    if id2label and len(id2label) != count:
        raise Failure(
            f"config.json id2label has {len(id2label)} labels but the model outputs {count}; "
            "make them agree"
        )
    return [str(id2label.get(str(i), f"LABEL_{i}")) for i in range(count)]


def default_activation(config: dict) -> str:
    """Sigmoid for multi-label models and for one-logit models (rerankers), else softmax.

    The same rule as genops-models uses when it reads config.json; softmax over a single
    logit would always give 1.
    """
    if config.get("problem_type") == "multi_label_classification":
        return "sigmoid"
    return "sigmoid" if len(config.get("id2label") or {}) == 1 else "softmax"


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    # exp(-log(1 + exp(-x))) does not overflow for large negative logits.
    return np.exp(-np.logaddexp(0.0, -logits))


def cmd_classify(args) -> int:
    if args.max_length < 2:
        raise Failure(f"--max-length must be at least 2, got {args.max_length}")
    check_batch(args.batch)
    limit_threads(args.threads)
    items = read_jsonl(args.input)
    config = read_config(args.model_dir)
    activation = args.activation or default_activation(config)
    tokenizer = load_tokenizer(args.model_dir)
    # Pairs are encoded as [CLS] text [SEP] pair [SEP] with type ids 0 then 1. Longest-first
    # truncation removes tokens one at a time from the end of whichever sequence is longer
    # until the whole input, special tokens included, fits max_length.
    tokenizer.enable_truncation(args.max_length, strategy="longest_first")
    session = open_session(args.model_dir, args.threads)

    inputs = [text if pair is None else (text, pair) for text, pair in items]
    encodings = tokenizer.encode_batch(inputs, add_special_tokens=True) if inputs else []
    rows = [(e.ids, e.type_ids, e.attention_mask) for e in encodings]
    logits = []
    for start in range(0, len(rows), args.batch):
        out = run_first_output(session, pad(rows[start : start + args.batch]))
        if out.ndim != 2:
            raise Failure(
                f"the model's first output has shape {list(out.shape)}; a classifier must "
                "output logits [batch, labels]"
            )
        logits.append(out.astype(np.float64))
    if logits:
        all_logits = np.concatenate(logits)
        count = all_logits.shape[1]
    else:
        # No inputs: the label count comes from the declared output shape if it is fixed.
        count = session.get_outputs()[0].shape[-1]
        count = count if isinstance(count, int) else len(config.get("id2label") or {})
        all_logits = np.zeros((0, count))
    scores = softmax(all_logits) if activation == "softmax" else sigmoid(all_logits)
    write_json({"labels": label_names(config, count), "scores": scores.tolist()}, args.output)
    return 0


# ---------------------------------------------------------------- command line


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def common(p, threads):
        p.add_argument("--model-dir", type=Path, required=True, help="model directory")
        p.add_argument("--input", type=Path, required=True, help="input file")
        p.add_argument("--batch", type=int, default=32, help="texts per model run")
        p.add_argument("--threads", type=int, default=threads, help="compute threads")
        p.add_argument("--output", type=Path, help="write the JSON here instead of stdout")

    def timing(p):
        p.add_argument("--repeat", type=int, default=1, help="timed runs; the best counts")
        p.add_argument("--no-vectors", action="store_true", help="leave the vectors out")

    p = commands.add_parser("embed", help="embeddings with onnxruntime")
    common(p, threads=2)
    timing(p)
    p.add_argument("--max-length", type=int, default=256, help="tokens per text, at most")
    p.set_defaults(run=cmd_embed)

    p = commands.add_parser("embed-st", help="embeddings with sentence-transformers")
    common(p, threads=2)
    timing(p)
    p.set_defaults(run=cmd_embed_st)

    p = commands.add_parser("classify", help="classification with onnxruntime")
    common(p, threads=1)
    p.add_argument("--max-length", type=int, default=512, help="tokens per input, at most")
    p.add_argument(
        "--activation",
        choices=["softmax", "sigmoid"],
        help="default: sigmoid if config.json says multi_label_classification or has one "
        "label, else softmax",
    )
    p.set_defaults(run=cmd_classify)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        return args.run(args)
    except Failure as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
