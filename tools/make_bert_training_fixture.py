#!/usr/bin/env python3
"""Reference gradients and AdamW steps for BERT fine-tuning, from PyTorch.

Runs Debian's PyTorch 1.13 (/usr/bin/python3; the `transformers` package is not
available here, so BertForSequenceClassification's forward is written out below
exactly as transformers computes it, post-LN, exact GELU, additive
finfo.min mask) on ../shared/fixtures/bert-tiny with a fixed batch of five
texts and three sentence pairs, and writes
tests/data/bert_training/bert_tiny_training.safetensors holding:
  input_ids, token_type_ids, attention_mask [8, L] (I32), labels [8] (I32)
  loss [1]                                    mean cross-entropy of the batch
  grad.<name>                                 every parameter's gradient, except
  grad.rows.<word embeddings>                 the word embeddings' rows listed in
  word_rows [R] (I64)                         (the batch's ids and a few unused ids)
  param.<name> / param.rows.<word embeddings> the parameters after 3 AdamW steps
                                              (lr 1e-2 with linear warm-up 2 of 4
                                              steps, weight decay 0.01 except
                                              biases and LayerNorm weights,
                                              gradients clipped to norm 1.0)
  loss_step_<k> [1]                           the loss before step k
Dropout is off (p = 0), so the steps are deterministic.
Usage: /usr/bin/python3 tools/make_bert_training_fixture.py [SHARED_DIR] [OUT_FILE]
"""
import json, math, os, struct, sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "shared")
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "tests", "data", "bert_training",
                                                         "bert_tiny_training.safetensors")
DTYPES = {"F32": torch.float32, "I64": torch.int64, "I32": torch.int32}
WORD = "bert.embeddings.word_embeddings.weight"


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[b:end]), dtype=DTYPES[e["dtype"]])
        out[name] = t.reshape(e["shape"]).clone()
    return out


def write_safetensors(path, tensors):
    names = {torch.float32: "F32", torch.int64: "I64", torch.int32: "I32"}
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        raw = t.numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def forward(p, cfg, ids, types, mask, dropout=0.0, attention_dropout=0.0):
    """Logits [B, labels]. `dropout` > 0 applies hidden dropout where transformers
    does (after the embeddings, each attention output and feed-forward output,
    and on the pooled output), `attention_dropout` > 0 dropout on the attention
    probabilities, as tformer's training step. The fixture below runs with
    dropout 0."""
    B, S = ids.shape
    drop = (lambda x: F.dropout(x, dropout, training=True)) if dropout > 0 else (lambda x: x)
    drop_probs = (lambda x: F.dropout(x, attention_dropout, training=True)) if attention_dropout > 0 \
        else (lambda x: x)
    H, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    d, eps = H // nh, cfg["layer_norm_eps"]
    ln = lambda x, pre: F.layer_norm(x, (H,), p[pre + ".weight"], p[pre + ".bias"], eps)
    lin = lambda x, pre: F.linear(x, p[pre + ".weight"], p[pre + ".bias"])
    x = p[WORD][ids] + p["bert.embeddings.position_embeddings.weight"][torch.arange(S)] \
        + p["bert.embeddings.token_type_embeddings.weight"][types]
    x = drop(ln(x, "bert.embeddings.LayerNorm"))
    bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    heads = lambda t: t.view(B, S, nh, d).transpose(1, 2)
    for l in range(cfg["num_hidden_layers"]):
        pre = f"bert.encoder.layer.{l}."
        q, k, v = (heads(lin(x, pre + "attention.self." + n)) for n in ("query", "key", "value"))
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + bias, dim=-1)
        ctx = (drop_probs(probs) @ v).transpose(1, 2).reshape(B, S, H)
        x1 = ln(drop(lin(ctx, pre + "attention.output.dense")) + x, pre + "attention.output.LayerNorm")
        inter = F.gelu(lin(x1, pre + "intermediate.dense"))
        x = ln(drop(lin(inter, pre + "output.dense")) + x1, pre + "output.LayerNorm")
    pooled = drop(torch.tanh(lin(x[:, 0], "bert.pooler.dense")))
    return lin(pooled, "classifier")


def batch_from_fixture(expected):
    rows = [(ids, tt) for ids, tt, m in zip(expected["input_ids"][:5], expected["token_type_ids"][:5],
                                            expected["attention_mask"][:5])]
    rows = [([i for i, keep in zip(ids, m) if keep], [t for t, keep in zip(tt, m) if keep])
            for (ids, tt), m in zip(rows, expected["attention_mask"][:5])]
    for ids, tt, m in zip(expected["pair_input_ids"], expected["pair_token_type_ids"],
                          expected["pair_attention_mask"]):
        rows.append(([i for i, keep in zip(ids, m) if keep], [t for t, keep in zip(tt, m) if keep]))
    L = max(len(r[0]) for r in rows)
    ids = torch.zeros(len(rows), L, dtype=torch.int64)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for i, (r_ids, r_types) in enumerate(rows):
        ids[i, :len(r_ids)] = torch.tensor(r_ids)
        types[i, :len(r_types)] = torch.tensor(r_types)
        mask[i, :len(r_ids)] = 1
    labels = torch.tensor([0, 1, 1, 0, 1, 0, 1, 1])
    return ids, types, mask, labels


def main():
    model_dir = os.path.join(SHARED, "fixtures", "bert-tiny")
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    expected = json.load(open(os.path.join(model_dir, "expected.json")))
    params = {n: t.requires_grad_(True) for n, t in read_safetensors(os.path.join(model_dir, "model.safetensors")).items()}
    ids, types, mask, labels = batch_from_fixture(expected)
    unused = torch.tensor([5, 777, 30000])
    word_rows = torch.unique(torch.cat([ids.flatten(), unused]))

    out = {"input_ids": ids.int(), "token_type_ids": types.int(), "attention_mask": mask.int(),
           "labels": labels.int(), "word_rows": word_rows}

    def grads_of(loss):
        for t in params.values():
            t.grad = None
        loss.backward()

    loss = F.cross_entropy(forward(params, cfg, ids, types, mask), labels)
    grads_of(loss)
    out["loss"] = loss.detach().reshape(1)
    for n, t in params.items():
        out["grad.rows." + n if n == WORD else "grad." + n] = (t.grad[word_rows] if n == WORD else t.grad).clone()

    # Three AdamW steps as transformers' Trainer takes them.
    no_decay = [t for n, t in params.items() if n.endswith(".bias") or "LayerNorm.weight" in n]
    decay = [t for n, t in params.items() if not (n.endswith(".bias") or "LayerNorm.weight" in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-2, betas=(0.9, 0.999), eps=1e-8)
    warmup, total = 2, 4
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: s / max(1, warmup) if s < warmup else max(0.0, (total - s) / max(1, total - warmup)))
    for step in range(3):
        opt.zero_grad()
        loss = F.cross_entropy(forward(params, cfg, ids, types, mask), labels)
        loss.backward()
        out[f"loss_step_{step}"] = loss.detach().reshape(1)
        torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
        opt.step()
        sched.step()
    for n, t in params.items():
        out["param.rows." + n if n == WORD else "param." + n] = t.detach()[word_rows] if n == WORD else t.detach()
    write_safetensors(OUT, out)
    print(f"wrote {OUT}: loss {out['loss'].item():.6f}, {len(out)} tensors")


if __name__ == "__main__":
    main()
