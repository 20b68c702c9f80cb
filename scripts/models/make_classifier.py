#!/usr/bin/env python3
"""Build a small but real ONNX text classifier for the tests of genops' native models.

The model has the inputs and output of an exported BERT classifier, so the Rust side runs it
exactly as it would a real one, yet it is a few hundred kilobytes to a few megabytes and
needs no download:

  input_ids, attention_mask, token_type_ids   int64 [batch, sequence]
  word embedding (vocab x hidden) + token-type embedding (2 x hidden)
  mean over the tokens the attention mask keeps
  dense hidden x hidden, tanh
  dense hidden x labels                      -> logits float [batch, labels]

The weights are random (numpy, --seed) but scaled so that different texts get visibly
different scores, and the token-type table makes a pair score differently from the same
words as one text. Written to --out: model.onnx, tokenizer.json (a copy of --tokenizer) and
an HF-style config.json from which the label names and activation are read.

Example:

  scripts/models/make_classifier.py --out OUT --tokenizer DIR/tokenizer.json \\
      --task sequence --labels politics,economy,war
"""

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer

OPSET = 17
# The IR version that goes with opset 17; older than the newest onnx writes, so that every
# onnxruntime able to run opset 17 also accepts the file.
IR_VERSION = 8

# Standard deviations of the random weights. Averaging n token vectors shrinks them by
# sqrt(n), so the embeddings start large. With these values the 1000 sentences of
# tests/data/sentences.txt spread over most of [0, 1] for every label, and each label of a
# three-label model is the top label for some of them.
WORD_SCALE = 3.0
TYPE_SCALE = {"sequence": 1.0, "pair": 3.0}
DENSE_SCALE = 2.0
OUTPUT_SCALE = 3.0


class Failure(Exception):
    """An error to report in one line, without a traceback."""


def parse_labels(text: str) -> list[str]:
    labels = [label.strip() for label in text.split(",")]
    if any(not label for label in labels):
        raise Failure(f"--labels {text!r} has an empty name; pass names separated by commas")
    if len(set(labels)) != len(labels):
        raise Failure(f"--labels {text!r} names a label twice; label names must be unique")
    return labels


def vocab_size(tokenizer_path: Path) -> int:
    try:
        tokenizer = Tokenizer.from_file(str(tokenizer_path))
    except Exception as e:  # the tokenizers package raises plain Exception for bad files
        raise Failure(f"cannot load tokenizer {tokenizer_path}: {e}; pass a tokenizer.json")
    return tokenizer.get_vocab_size(with_added_tokens=True)


def weights(vocab: int, hidden: int, labels: int, task: str, seed: int) -> dict:
    rng = np.random.default_rng(seed)

    def normal(shape, scale):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    return {
        "word_embeddings": normal((vocab, hidden), WORD_SCALE),
        "token_type_embeddings": normal((2, hidden), TYPE_SCALE[task]),
        "dense_weight": normal((hidden, hidden), DENSE_SCALE / np.sqrt(hidden)),
        "dense_bias": normal((hidden,), 0.1),
        "classifier_weight": normal((hidden, labels), OUTPUT_SCALE / np.sqrt(hidden)),
        "classifier_bias": normal((labels,), 0.1),
    }


def build_model(tensors: dict, labels: int) -> onnx.ModelProto:
    token_inputs = [
        helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])
        for name in ("input_ids", "attention_mask", "token_type_ids")
    ]
    output = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", labels])
    initializers = [numpy_helper.from_array(array, name) for name, array in tensors.items()]
    initializers += [
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis_sequence"),
        numpy_helper.from_array(np.array([2], dtype=np.int64), "axis_hidden"),
        numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one"),
    ]
    node = helper.make_node
    nodes = [
        # [batch, sequence, hidden]: word plus token-type embedding of every token.
        node("Gather", ["word_embeddings", "input_ids"], ["words"]),
        node("Gather", ["token_type_embeddings", "token_type_ids"], ["types"]),
        node("Add", ["words", "types"], ["embedded"]),
        # Mean over the tokens the mask keeps; the count is clamped at 1 so an all-padding
        # row gives zeros instead of dividing by zero.
        node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),
        node("Unsqueeze", ["mask", "axis_hidden"], ["mask_3d"]),
        node("Mul", ["embedded", "mask_3d"], ["masked"]),
        node("ReduceSum", ["masked", "axis_sequence"], ["summed"], keepdims=0),
        node("ReduceSum", ["mask", "axis_sequence"], ["count"], keepdims=1),
        node("Max", ["count", "one"], ["count_at_least_1"]),
        node("Div", ["summed", "count_at_least_1"], ["pooled"]),
        # [batch, hidden] -> [batch, hidden] -> [batch, labels]
        node("MatMul", ["pooled", "dense_weight"], ["dense_raw"]),
        node("Add", ["dense_raw", "dense_bias"], ["dense_biased"]),
        node("Tanh", ["dense_biased"], ["dense"]),
        node("MatMul", ["dense", "classifier_weight"], ["logits_raw"]),
        node("Add", ["logits_raw", "classifier_bias"], ["logits"]),
    ]
    graph = helper.make_graph(nodes, "genops_test_classifier", token_inputs, [output], initializers)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
        producer_name="genops scripts/models/make_classifier.py",
    )
    onnx.checker.check_model(model, full_check=True)
    return model


def hf_config(labels: list[str], multi_label: bool, vocab: int) -> dict:
    return {
        "architectures": ["BertForSequenceClassification"],
        "model_type": "bert",
        "id2label": {str(i): label for i, label in enumerate(labels)},
        "label2id": {label: i for i, label in enumerate(labels)},
        "problem_type": (
            "multi_label_classification" if multi_label else "single_label_classification"
        ),
        "max_position_embeddings": 512,
        "vocab_size": vocab,
    }


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="The model folder it writes is what scripts/models/reference.py classify reads.",
    )
    parser.add_argument("--out", type=Path, required=True, help="model folder to write")
    parser.add_argument("--tokenizer", type=Path, required=True, help="a tokenizer.json")
    parser.add_argument(
        "--task",
        choices=["sequence", "pair"],
        required=True,
        help="pair gives the token types more weight, so the second text shifts the scores more",
    )
    parser.add_argument("--labels", required=True, help="label names separated by commas")
    parser.add_argument(
        "--multi-label", action="store_true", help="labels scored independently (sigmoid)"
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the random weights")
    parser.add_argument("--hidden", type=int, default=16, help="width of the hidden layer")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        labels = parse_labels(args.labels)
        if args.hidden < 1:
            raise Failure(f"--hidden must be at least 1, got {args.hidden}")
        vocab = vocab_size(args.tokenizer)
        tensors = weights(vocab, args.hidden, len(labels), args.task, args.seed)
        model = build_model(tensors, len(labels))
        try:
            args.out.mkdir(parents=True, exist_ok=True)
            onnx.save_model(model, str(args.out / "model.onnx"))
            shutil.copyfile(args.tokenizer, args.out / "tokenizer.json")
            config = hf_config(labels, args.multi_label, vocab)
            config_text = json.dumps(config, indent=2) + "\n"
            (args.out / "config.json").write_text(config_text, encoding="utf-8")
        except OSError as e:
            raise Failure(f"cannot write the model to {args.out}: {e}")
    except Failure as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
