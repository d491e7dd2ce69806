#!/usr/bin/python3
"""Writes a BertForSequenceClassification checkpoint with random weights in
Hugging Face's layout, for benchmarks: no download, no transformers package.

  /usr/bin/python3 tools/make_random_bert.py OUT_DIR [--layers 12 --hidden 768 ...]

OUT_DIR receives config.json, model.safetensors (written here by hand: 8-byte
little-endian header length, JSON header, raw little-endian tensor data),
vocab.txt (bert-base-uncased's, from ../shared/vocab) and tokenizer_config.json.
Tensor names are exactly transformers' (bert.embeddings.word_embeddings.weight,
bert.encoder.layer.N.attention.self.query.weight, ..., classifier.weight), and
weights follow BertPreTrainedModel._init_weights: Linear and Embedding weights
~ N(0, initializer_range), biases 0, LayerNorm weight 1 and bias 0, so the
activations have realistic scales. The default shape is BERT-base.
Only torch (and the numpy it depends on) is needed.
"""
import argparse
import json
import os
import shutil
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_VOCAB = os.path.normpath(
    os.path.join(HERE, "..", "..", "shared", "vocab", "bert-base-uncased", "vocab.txt"))

ST_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out_dir")
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--hidden", type=int, default=768)
    p.add_argument("--heads", type=int, default=12)
    p.add_argument("--intermediate", type=int, default=3072)
    p.add_argument("--vocab-size", type=int, default=None,
                   help="default: the number of lines of --vocab (30522 for bert-base-uncased)")
    p.add_argument("--max-positions", type=int, default=512)
    p.add_argument("--type-vocab", type=int, default=2)
    p.add_argument("--labels", type=int, default=2)
    p.add_argument("--act", default="gelu")
    p.add_argument("--layer-norm-eps", type=float, default=1e-12)
    p.add_argument("--init-range", type=float, default=0.02)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dtype", choices=["float32", "float16", "bfloat16"], default="float32")
    p.add_argument("--vocab", default=DEFAULT_VOCAB, help="vocab.txt to copy")
    a = p.parse_args(argv)
    if a.hidden % a.heads:
        p.error(f"--hidden {a.hidden} is not a multiple of --heads {a.heads}")
    return a


def make_state_dict(a, vocab_size):
    g = torch.Generator().manual_seed(a.seed)
    h, ff = a.hidden, a.intermediate

    def normal(*shape):
        return torch.randn(*shape, generator=g) * a.init_range

    sd = {}

    def linear(name, n_out, n_in):
        sd[f"{name}.weight"] = normal(n_out, n_in)
        sd[f"{name}.bias"] = torch.zeros(n_out)

    def layer_norm(name, n):
        sd[f"{name}.weight"] = torch.ones(n)
        sd[f"{name}.bias"] = torch.zeros(n)

    emb = "bert.embeddings"
    sd[f"{emb}.word_embeddings.weight"] = normal(vocab_size, h)
    sd[f"{emb}.word_embeddings.weight"][0].zero_()  # padding_idx row, as _init_weights does
    sd[f"{emb}.position_embeddings.weight"] = normal(a.max_positions, h)
    sd[f"{emb}.token_type_embeddings.weight"] = normal(a.type_vocab, h)
    layer_norm(f"{emb}.LayerNorm", h)
    for i in range(a.layers):
        p = f"bert.encoder.layer.{i}"
        for part in ("query", "key", "value"):
            linear(f"{p}.attention.self.{part}", h, h)
        linear(f"{p}.attention.output.dense", h, h)
        layer_norm(f"{p}.attention.output.LayerNorm", h)
        linear(f"{p}.intermediate.dense", ff, h)
        linear(f"{p}.output.dense", h, ff)
        layer_norm(f"{p}.output.LayerNorm", h)
    linear("bert.pooler.dense", h, h)
    linear("classifier", a.labels, h)
    dtype = getattr(torch, a.dtype)
    return {k: v.to(dtype).contiguous() for k, v in sd.items()}


def save_safetensors(tensors, path, metadata=None):
    """The safetensors format: u64 LE header size N, N bytes of JSON
    {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}
    (padded with spaces to a multiple of 8), then the tensors' bytes."""
    header = {"__metadata__": metadata or {"format": "pt"}}
    offset = 0
    names = sorted(tensors)
    for name in names:
        t = tensors[name]
        n = t.numel() * t.element_size()
        header[name] = {"dtype": ST_DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + n]}
        offset += n
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * (-len(hbytes) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for name in names:
            t = tensors[name]
            # Reinterpret as bytes (works for bf16, which numpy lacks); x86/ARM are little-endian.
            f.write(t.view(torch.uint8).numpy().tobytes() if t.dtype != torch.uint8 else t.numpy().tobytes())
    os.replace(tmp, path)


def main(argv):
    a = parse_args(argv)
    if not os.path.isfile(a.vocab):
        sys.exit(f"make_random_bert: vocab file not found: {a.vocab}")
    with open(a.vocab, encoding="utf-8") as f:
        vocab_lines = sum(1 for _ in f)
    vocab_size = a.vocab_size or vocab_lines
    os.makedirs(a.out_dir, exist_ok=True)

    config = {
        "architectures": ["BertForSequenceClassification"],
        "model_type": "bert",
        "vocab_size": vocab_size,
        "hidden_size": a.hidden,
        "num_hidden_layers": a.layers,
        "num_attention_heads": a.heads,
        "intermediate_size": a.intermediate,
        "hidden_act": a.act,
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": a.max_positions,
        "type_vocab_size": a.type_vocab,
        "initializer_range": a.init_range,
        "layer_norm_eps": a.layer_norm_eps,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "torch_dtype": a.dtype,
        "id2label": {str(i): f"LABEL_{i}" for i in range(a.labels)},
        "label2id": {f"LABEL_{i}": i for i in range(a.labels)},
    }
    with open(os.path.join(a.out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    with open(os.path.join(a.out_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "model_max_length": a.max_positions,
                   "tokenizer_class": "BertTokenizer"}, f)
        f.write("\n")
    shutil.copyfile(a.vocab, os.path.join(a.out_dir, "vocab.txt"))

    sd = make_state_dict(a, vocab_size)
    save_safetensors(sd, os.path.join(a.out_dir, "model.safetensors"))
    params = sum(t.numel() for t in sd.values())
    print(f"make_random_bert: wrote {a.out_dir} ({a.layers} layers, hidden {a.hidden}, "
          f"{a.heads} heads, intermediate {a.intermediate}, vocab {vocab_size}; "
          f"{params / 1e6:.1f}M parameters, {a.dtype})", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
