#!/usr/bin/python3
"""PyTorch side of tformer's training benchmark (see scripts/bench_bert_train.sh).

  /usr/bin/python3 tools/torch_bert_train_bench.py --model DIR [--batch 32] [--seq 64]
      [--threads T] [--runs 10] [--warmup 2] [--dropout P]
      [--config all|torch1-blasT|torchT-blas1] [--dtype fp32|bf16]

Times full training steps of BertForSequenceClassification, the step
`tformer bench --train` takes and transformers' Trainer takes (grad-accum 1):

  optimizer.zero_grad(set_to_none=True)
  loss = cross_entropy(forward(params, ids, types, mask, dropout), labels)   # under autocast with --dtype bf16
  loss.backward()
  torch.nn.utils.clip_grad_norm_(params, 1.0)
  optimizer.step()       # torch.optim.AdamW, lr 1e-4, weight decay 0.01 except
                         # on biases and LayerNorm weights (the Trainer's groups)

--dtype fp32 (default) trains in fp32; --dtype bf16 runs the forward and the
loss under torch.autocast("cpu", dtype=torch.bfloat16), the Trainer's bf16=True
(mixed precision: the parameters, their gradients and AdamW stay fp32).

The forward is tools/make_bert_training_fixture.py's (BertForSequenceClassification
as transformers computes it, post-LN, exact GELU, written with torch.nn.functional
over a dict of parameters, since the transformers package is not available
here), with hidden dropout at transformers' places (embeddings, attention and
feed-forward outputs, pooled output; p = the config's hidden_dropout_prob)
and on the attention probabilities (attention_probs_dropout_prob), as in
tformer; --dropout sets both.
The parameters come from DIR/model.safetensors (the file tformer loads); the
batch is tformer bench's ([CLS], LCG ids, [SEP], mask all ones, token types 0)
with labels from tformer's second LCG stream, so with --dropout 0 the first
step's loss is comparable between engines ("first_loss").

Threads: as tools/torch_bert_bench.py, two configurations in fresh processes,
torch1-blasT (torch.set_num_threads(1), OPENBLAS_NUM_THREADS=T) and
torchT-blas1 (torch.set_num_threads(T), OPENBLAS_NUM_THREADS=1), the same one
for T=1. One JSON line per configuration, then one with "config": "best"
(the lower median) naming the winner in "best_of".
"""
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

LR, WEIGHT_DECAY, MAX_GRAD_NORM = 1e-4, 0.01, 1.0


def parse_args(argv):
    from torch_bert_bench import common_parser, parse_common
    p = common_parser(__doc__, batch=32, seq=64)
    p.add_argument("--dropout", type=float, default=None,
                   help="hidden and attention dropout (default: the config's two probabilities)")
    p.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32",
                   help="fp32 steps, or mixed-precision ones with the forward and loss under "
                        "torch.autocast('cpu', dtype=torch.bfloat16)")
    a = parse_common(p, argv)
    if a.dropout is not None and not 0 <= a.dropout < 1:
        p.error("--dropout must be in [0, 1)")
    return a


def make_labels(batch, num_labels, seed):
    """tformer bench --train's labels: the ids' LCG from state = seed ^ 0x5bd1e995."""
    mask64 = (1 << 64) - 1
    state = (seed ^ 0x5BD1E995) & mask64
    out = []
    for _ in range(batch):
        state = (state * 6364136223846793005 + 1442695040888963407) & mask64
        out.append((state >> 33) % num_labels)
    return out


def run_one(a, config):
    """Times the steps in this process; the environment is already set."""
    import torch
    import torch.nn.functional as F
    from make_bert_training_fixture import forward
    from torch_bert_bench import load_safetensors, make_ids, openblas_info, special_ids

    torch_threads = 1 if config == "torch1-blasT" else a.threads
    torch.set_num_threads(torch_threads)
    with open(os.path.join(a.model, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    if cfg.get("hidden_act", "gelu") != "gelu":
        raise SystemExit(f"torch_bert_train_bench: hidden_act {cfg.get('hidden_act')!r} not supported (only 'gelu')")
    cfg.setdefault("layer_norm_eps", 1e-12)
    dropout = cfg.get("hidden_dropout_prob", 0.1) if a.dropout is None else a.dropout
    attention_dropout = cfg.get("attention_probs_dropout_prob", 0.1) if a.dropout is None else a.dropout
    n_labels = len(cfg["id2label"]) if cfg.get("id2label") else cfg.get("num_labels", 2)

    t0 = time.perf_counter()
    sd = load_safetensors(os.path.join(a.model, "model.safetensors"))
    sd.pop("bert.embeddings.position_ids", None)
    # Own, contiguous leaf tensors (not views of the file buffer), as a module's parameters.
    params = {n: t.clone().requires_grad_(True) for n, t in sd.items()}
    del sd
    no_decay = lambda n: n.endswith(".bias") or "LayerNorm.weight" in n
    optimizer = torch.optim.AdamW(
        [{"params": [t for n, t in params.items() if not no_decay(n)], "weight_decay": WEIGHT_DECAY},
         {"params": [t for n, t in params.items() if no_decay(n)], "weight_decay": 0.0}],
        lr=LR)
    plist = list(params.values())
    load_ms = (time.perf_counter() - t0) * 1e3

    if a.seq > cfg.get("max_position_embeddings", 512):
        raise SystemExit(f"torch_bert_train_bench: --seq {a.seq} exceeds max_position_embeddings")
    cls, sep = special_ids(a.model, cfg["vocab_size"])
    ids = torch.tensor(make_ids(a.batch, a.seq, cfg["vocab_size"], cls, sep, a.seed), dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.ones_like(ids)
    labels = torch.tensor(make_labels(a.batch, n_labels, a.seed), dtype=torch.long)
    torch.manual_seed(a.seed)  # dropout masks

    losses, norms = [], []

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.dtype == "bf16"):
            loss = F.cross_entropy(forward(params, cfg, ids, types, mask, dropout, attention_dropout), labels)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(plist, MAX_GRAD_NORM)
        optimizer.step()
        losses.append(float(loss))
        norms.append(float(norm))

    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.runs):
        t = time.perf_counter()
        step()
        times.append((time.perf_counter() - t) * 1e3)
    med = statistics.median(times)
    finite = all(map(lambda v: v == v and abs(v) != float("inf"), losses + norms))
    return {
        "engine": "pytorch", "mode": "train", "torch_version": torch.__version__, "config": config,
        "torch_threads": torch_threads, "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        **openblas_info(),
        "median_ms": round(med, 3), "min_ms": round(min(times), 3),
        "seq_per_s": round(a.batch / med * 1e3, 3),
        "batch": a.batch, "seq": a.seq, "threads": a.threads, "dtype": a.dtype, "runs": a.runs,
        "warmup": a.warmup, "load_ms": round(load_ms, 1), "model": a.model,
        "params": sum(t.numel() for t in plist), "dropout": dropout, "attention_dropout": attention_dropout,
        "lr": LR, "weight_decay": WEIGHT_DECAY,
        "max_grad_norm": MAX_GRAD_NORM, "adamw_foreach": bool(optimizer.defaults.get("foreach")),  # None = False in 1.13
        "first_loss": round(losses[0], 6), "first_grad_norm": round(norms[0], 6),
        "last_loss": round(losses[-1], 6), "finite": finite,
    }


def main(argv):
    a = parse_args(argv)
    if a.config != "all":
        print(json.dumps(run_one(a, a.config)), flush=True)
        return
    from torch_bert_bench import run_thread_configs
    dropout = [] if a.dropout is None else ["--dropout", repr(a.dropout)]
    run_thread_configs(__file__, a, ["--dtype", a.dtype] + dropout)


if __name__ == "__main__":
    main(sys.argv[1:])
