#!/usr/bin/python3
"""Checks that a checkpoint directory loads as transformers'
BertForSequenceClassification.from_pretrained would load it, and that its
logits in PyTorch match `tformer classify`.

  /usr/bin/python3 tools/check_hf_load.py CHECKPOINT_DIR [--tformer PATH] [--texts FILE.json] [--tol 1e-4]

Without the `transformers` package (not installable offline here), this does
what from_pretrained does, strictly:
  config.json  model_type "bert", architectures naming
               BertForSequenceClassification, every field BertConfig reads of
               the right type, hidden_size divisible by num_attention_heads,
               id2label keys "0".."n-1" (transformers turns them into ints) and
               label2id their inverse;
  model.safetensors
               metadata {"format": "pt"} (from_pretrained refuses others), a
               header whose data offsets tile the data section, and exactly
               the parameters the model declares, F32, with their shapes:
               none missing, none unexpected (transformers' position_ids
               buffer aside);
  tokenizer    vocab.txt or tokenizer.json beside them.
Then it runs the forward pass that tools/make_bert_training_fixture.py writes
out as transformers computes it, on the ids `tformer tokenize --json` gives
for each text, and compares the logits with `tformer classify --json`.
Exits 1, naming the problem, on any failure or a logit off by more than --tol.
"""
import argparse
import json
import os
import struct
import subprocess
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_bert_training_fixture import forward, read_safetensors  # noqa: E402

DEFAULT_TEXTS = ["This movie is great!", "A dull, lifeless plot.", "I have mixed feelings about it",
                 "the acting was really superb .", "Nothing happens, then it ends."]
INT_FIELDS = ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
              "max_position_embeddings", "type_vocab_size", "pad_token_id"]
FLOAT_FIELDS = ["hidden_dropout_prob", "attention_probs_dropout_prob", "initializer_range", "layer_norm_eps"]
IGNORABLE = {"bert.embeddings.position_ids"}


class CheckFailed(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise CheckFailed(msg)


def check_config(path):
    cfg = json.load(open(path))
    check(cfg.get("model_type") == "bert", f"{path}: model_type is {cfg.get('model_type')!r}, not 'bert'")
    check("BertForSequenceClassification" in cfg.get("architectures", []),
          f"{path}: architectures {cfg.get('architectures')} lacks BertForSequenceClassification")
    for f in INT_FIELDS:
        check(isinstance(cfg.get(f), int) and not isinstance(cfg.get(f), bool), f"{path}: {f} is not an integer")
    for f in FLOAT_FIELDS:
        check(isinstance(cfg.get(f), (int, float)), f"{path}: {f} is not a number")
    check(cfg["hidden_size"] % cfg["num_attention_heads"] == 0,
          f"{path}: hidden_size {cfg['hidden_size']} is not a multiple of num_attention_heads")
    check(cfg.get("hidden_act") == "gelu", f"{path}: hidden_act {cfg.get('hidden_act')!r}: this check runs 'gelu'")
    check(cfg.get("position_embedding_type", "absolute") == "absolute", f"{path}: position_embedding_type")
    id2label = cfg.get("id2label")
    check(isinstance(id2label, dict) and id2label, f"{path}: no id2label")
    try:
        ids = sorted(int(k) for k in id2label)
    except ValueError:
        raise CheckFailed(f"{path}: id2label keys {list(id2label)} are not integers")
    check(ids == list(range(len(ids))), f"{path}: id2label keys {ids} are not 0..{len(ids) - 1}")
    label2id = cfg.get("label2id", {})
    check(label2id == {v: int(k) for k, v in id2label.items()}, f"{path}: label2id is not id2label's inverse")
    return cfg


def expected_shapes(cfg):
    H, I, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    shapes = {"bert.embeddings.word_embeddings.weight": [cfg["vocab_size"], H],
              "bert.embeddings.position_embeddings.weight": [cfg["max_position_embeddings"], H],
              "bert.embeddings.token_type_embeddings.weight": [cfg["type_vocab_size"], H],
              "bert.embeddings.LayerNorm.weight": [H], "bert.embeddings.LayerNorm.bias": [H],
              "bert.pooler.dense.weight": [H, H], "bert.pooler.dense.bias": [H],
              "classifier.weight": [len(cfg["id2label"]), H], "classifier.bias": [len(cfg["id2label"])]}
    for l in range(L):
        pre = f"bert.encoder.layer.{l}."
        for name, out_dim, in_dim in [("attention.self.query", H, H), ("attention.self.key", H, H),
                                      ("attention.self.value", H, H), ("attention.output.dense", H, H),
                                      ("intermediate.dense", I, H), ("output.dense", H, I)]:
            shapes[pre + name + ".weight"] = [out_dim, in_dim]
            shapes[pre + name + ".bias"] = [out_dim]
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            shapes[pre + norm + ".weight"] = [H]
            shapes[pre + norm + ".bias"] = [H]
    return shapes


def check_safetensors(path, cfg):
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        check(8 + n <= size, f"{path}: header length {n} runs past the end of the file")
        header = json.loads(f.read(n))
    metadata = header.pop("__metadata__", {})
    check(metadata.get("format") == "pt", f"{path}: metadata {metadata}: from_pretrained needs format 'pt'")
    spans = sorted((e["data_offsets"][0], e["data_offsets"][1], name) for name, e in header.items())
    pos = 0
    for begin, end, name in spans:
        check(begin == pos, f"{path}: tensor {name!r} starts at {begin}, expected {pos} (gap or overlap)")
        pos = end
    check(8 + n + pos == size, f"{path}: the data section is {size - 8 - n} bytes, the tensors cover {pos}")
    want = expected_shapes(cfg)
    missing = sorted(set(want) - set(header))
    unexpected = sorted(set(header) - set(want) - IGNORABLE)
    check(not missing, f"{path}: missing parameters {missing}")
    check(not unexpected, f"{path}: unexpected tensors {unexpected}")
    for name, shape in want.items():
        e = header[name]
        check(e["dtype"] == "F32", f"{path}: {name} is {e['dtype']}, expected F32")
        check(e["shape"] == shape, f"{path}: {name} has shape {e['shape']}, the config implies {shape}")


def tformer_json_lines(tformer, command, model_dir, texts):
    out = subprocess.run([tformer, command, "--model", model_dir, "--json", *texts],
                         check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint_dir")
    p.add_argument("--tformer", default=os.path.join(HERE, "..", "build", "tformer"))
    p.add_argument("--texts", help="JSON file holding a list of texts")
    p.add_argument("--tol", type=float, default=1e-4)
    a = p.parse_args()
    d = a.checkpoint_dir
    try:
        cfg = check_config(os.path.join(d, "config.json"))
        check_safetensors(os.path.join(d, "model.safetensors"), cfg)
        check(any(os.path.exists(os.path.join(d, f)) for f in ("vocab.txt", "tokenizer.json")),
              f"{d}: no vocab.txt or tokenizer.json")
        texts = json.load(open(a.texts)) if a.texts else DEFAULT_TEXTS
        params = read_safetensors(os.path.join(d, "model.safetensors"))
        encodings = tformer_json_lines(a.tformer, "tokenize", d, texts)
        results = tformer_json_lines(a.tformer, "classify", d, texts)
        check(len(encodings) == len(texts) == len(results), "tformer gave a result per text")
        worst = 0.0
        with torch.no_grad():
            for text, enc, res in zip(texts, encodings, results):
                row = lambda key: torch.tensor([enc[key]], dtype=torch.int64)
                logits = forward(params, cfg, row("input_ids"), row("token_type_ids"), row("attention_mask"))[0]
                diff = (logits - torch.tensor(res["logits"])).abs().max().item()
                worst = max(worst, diff)
                check(diff <= a.tol, f"{text!r}: PyTorch logits {logits.tolist()}, tformer {res['logits']} "
                                     f"(max difference {diff:.3g} > {a.tol})")
    except (CheckFailed, subprocess.CalledProcessError, OSError, ValueError, KeyError) as e:
        detail = e.stderr if isinstance(e, subprocess.CalledProcessError) else ""
        print(f"check_hf_load: FAIL: {e} {detail}".strip(), file=sys.stderr)
        return 1
    print(f"check_hf_load: OK: {d} loads as BertForSequenceClassification; "
          f"{len(texts)} texts, max logit difference {worst:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
