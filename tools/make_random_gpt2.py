#!/usr/bin/env python3
"""Writes a GPT-2-small-shaped Hugging Face directory with random weights.

Usage: /usr/bin/python3 tools/make_random_gpt2.py OUT_DIR [--seed N]

OUT_DIR gets config.json (model_type "gpt2": 12 layers, n_embd 768, 12 heads,
n_positions 1024, vocabulary 50257, gelu_new) and model.safetensors under
transformers' GPT2LMHeadModel names (Conv1D weights in [in, out] layout, the LM
head tied to transformer.wte.weight). Weights are N(0, 0.02) from numpy's
PCG64 with a fixed seed, LayerNorm weights 1 and biases 0, other biases 0.
The speed of a dense fp32/bf16 decoder does not depend on the weights' values,
so this stands in for the 500 MB checkpoint for benchmarks.

The `safetensors` package is not needed: the format is written by hand
(8-byte little-endian header length, a JSON header of
{name: {dtype, shape, data_offsets}} plus "__metadata__", then the raw
little-endian tensor bytes).
"""
import argparse
import json
import os
import sys

import numpy as np

N_EMBD, N_LAYER, N_HEAD, N_POS, VOCAB = 768, 12, 12, 1024, 50257


def tensor_specs():
    """(name, shape, kind) in file order; kind is 'normal', 'ones' or 'zeros'."""
    d = N_EMBD
    specs = [("transformer.wte.weight", (VOCAB, d), "normal"),
             ("transformer.wpe.weight", (N_POS, d), "normal")]
    for i in range(N_LAYER):
        p = f"transformer.h.{i}."
        specs += [
            (p + "ln_1.weight", (d,), "ones"),
            (p + "ln_1.bias", (d,), "zeros"),
            (p + "attn.c_attn.weight", (d, 3 * d), "normal"),
            (p + "attn.c_attn.bias", (3 * d,), "zeros"),
            (p + "attn.c_proj.weight", (d, d), "normal"),
            (p + "attn.c_proj.bias", (d,), "zeros"),
            (p + "ln_2.weight", (d,), "ones"),
            (p + "ln_2.bias", (d,), "zeros"),
            (p + "mlp.c_fc.weight", (d, 4 * d), "normal"),
            (p + "mlp.c_fc.bias", (4 * d,), "zeros"),
            (p + "mlp.c_proj.weight", (4 * d, d), "normal"),
            (p + "mlp.c_proj.bias", (d,), "zeros"),
        ]
    specs += [("transformer.ln_f.weight", (d,), "ones"),
              ("transformer.ln_f.bias", (d,), "zeros")]
    return specs


def write_safetensors(path, specs, rng):
    header = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, shape, _ in specs:
        nbytes = 4 * int(np.prod(shape))
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((8 - len(hjson) % 8) % 8)  # pad so the data starts 8-byte aligned
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(len(hjson).to_bytes(8, "little"))
        f.write(hjson)
        for name, shape, kind in specs:
            if kind == "normal":
                rows = shape[0]
                step = max(1, (1 << 22) // int(np.prod(shape[1:])))  # ~16 MB at a time
                for r in range(0, rows, step):
                    n = min(step, rows - r)
                    a = rng.standard_normal((n,) + tuple(shape[1:]), dtype=np.float32)
                    a *= np.float32(0.02)
                    f.write(a.astype("<f4", copy=False).tobytes())
            elif kind == "ones":
                f.write(np.ones(shape, dtype="<f4").tobytes())
            else:
                f.write(np.zeros(shape, dtype="<f4").tobytes())
    os.replace(tmp, path)
    return offset


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    config = {
        "architectures": ["GPT2LMHeadModel"],
        "model_type": "gpt2",
        "n_embd": N_EMBD,
        "n_layer": N_LAYER,
        "n_head": N_HEAD,
        "n_positions": N_POS,
        "n_ctx": N_POS,
        "n_inner": None,
        "vocab_size": VOCAB,
        "activation_function": "gelu_new",
        "layer_norm_epsilon": 1e-5,
        "resid_pdrop": 0.0,
        "embd_pdrop": 0.0,
        "attn_pdrop": 0.0,
        "initializer_range": 0.02,
        "scale_attn_weights": True,
        "tie_word_embeddings": True,
        "bos_token_id": 50256,
        "eos_token_id": 50256,
        "torch_dtype": "float32",
    }
    with open(os.path.join(args.out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    specs = tensor_specs()
    nbytes = write_safetensors(os.path.join(args.out_dir, "model.safetensors"), specs,
                               np.random.default_rng(args.seed))
    print(f"wrote {args.out_dir}: {len(specs)} tensors, {nbytes // 4:,} parameters, "
          f"{nbytes / 1e6:.1f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
