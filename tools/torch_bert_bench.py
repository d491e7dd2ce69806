#!/usr/bin/python3
"""PyTorch side of tformer's BERT benchmark (see scripts/bench_bert.sh).

  /usr/bin/python3 tools/torch_bert_bench.py --model DIR [--batch 1] [--seq 128]
      [--threads T] [--runs 10] [--warmup 2] [--config all|torch1-blasT|torchT-blas1]
      [--coretypes unset,SkylakeX] [--dtype fp32|bf16|int8]

Builds a BertForSequenceClassification with Hugging Face's module structure
and parameter names (separate query/key/value Linear, matmul, softmax,
post-LayerNorm, exact GELU), loads the weights from DIR/model.safetensors (the
file tools/make_random_bert.py writes, read here with struct + json, no
safetensors package) with strict name checking, and times forwards under
torch.inference_mode: W warm-up runs, then N timed ones (time.perf_counter).
--dtype fp32 (default) runs them in fp32; --dtype bf16 wraps them in
torch.autocast("cpu", dtype=torch.bfloat16) (the weights stay fp32; autocast
casts them and the activations to bf16 for the ops on its bf16 list: Linear,
matmul), PyTorch's own mixed-precision inference; --dtype int8 runs them on
torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear},
dtype=torch.qint8) of the loaded model, PyTorch's dynamic int8 (every Linear:
s8 weights quantised once, u8 activations quantised at each call; the rest
stays fp32), on the quantized engine torch.backends.quantized.engine names
("quantized_engine" in the JSON, with "int8_weight_qscheme", how the weights
were quantised). "dtype" in the JSON says which.

Input ids come from the same generator as `tformer bench` ([CLS], random ids,
[SEP]; a 64-bit LCG, seed 0), so the logits of both engines are comparable.

Threads: Debian's torch calls a pthread OpenBLAS with its own thread pool, set
by OPENBLAS_NUM_THREADS when the library loads. With --config all (default)
the script re-runs itself once per configuration, with the environment set:
  torch1-blasT  torch.set_num_threads(1), OPENBLAS_NUM_THREADS=T
  torchT-blas1  torch.set_num_threads(T), OPENBLAS_NUM_THREADS=1
(for T=1 these are the same and run once). With --coretypes (a comma list of
OPENBLAS_CORETYPE values, "unset" for none) each thread configuration runs once
per value; without it the environment's OPENBLAS_CORETYPE stands. One JSON line
per run ("openblas_coretype" and "openblas_core", the kernels OpenBLAS picked,
say which), then one with "config": "best" (the lowest median) naming the
winner's thread configuration in "best_of" and keeping its other fields.
"""
import argparse
import json
import math
import os
import statistics
import struct
import subprocess
import sys
import time

ST_DTYPES = {"F32": "float32", "F16": "float16", "BF16": "bfloat16", "F64": "float64"}


def common_parser(doc, batch, seq):
    """The options of both PyTorch benchmarks (this one and
    tools/torch_bert_train_bench.py), with their --batch and --seq defaults."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="directory with config.json and model.safetensors")
    p.add_argument("--batch", type=int, default=batch)
    p.add_argument("--seq", type=int, default=seq)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--config", choices=["all", "torch1-blasT", "torchT-blas1"], default="all")
    return p


def parse_common(p, argv):
    """Parses argv and checks the common options' ranges."""
    a = p.parse_args(argv)
    if a.batch < 1 or a.seq < 2 or a.threads < 1 or a.runs < 1 or a.warmup < 0:
        p.error("need --batch >= 1, --seq >= 2, --threads >= 1, --runs >= 1, --warmup >= 0")
    return a


def parse_args(argv):
    p = common_parser(__doc__, batch=1, seq=128)
    p.add_argument("--coretypes", default="",
                   help="with --config all: run each configuration under each of these OPENBLAS_CORETYPE "
                        "values (comma list; 'unset' removes the variable)")
    p.add_argument("--dtype", choices=["fp32", "bf16", "int8"], default="fp32",
                   help="fp32 forwards, bf16 ones under torch.autocast('cpu', dtype=torch.bfloat16), or int8 "
                        "ones of torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)")
    return parse_common(p, argv)


# ----------------------------------------------------------------- inputs

def special_ids(model_dir, vocab_size):
    """[CLS] and [SEP] from vocab.txt; 101/102 (bert-base-uncased) if absent."""
    cls, sep = 101, 102
    try:
        with open(os.path.join(model_dir, "vocab.txt"), encoding="utf-8") as f:
            for i, line in enumerate(f):
                tok = line.rstrip("\r\n")
                if tok == "[CLS]":
                    cls = i
                elif tok == "[SEP]":
                    sep = i
    except OSError:
        pass
    return min(cls, vocab_size - 1), min(sep, vocab_size - 1)


def make_ids(batch, seq, vocab_size, cls, sep, seed):
    """Same sequence as tformer bench: state = state * A + C (mod 2^64),
    id = lo + (state >> 33) % (vocab - lo), lo = 1000 if vocab > 2000 else 0."""
    mask64 = (1 << 64) - 1
    state = seed & mask64
    lo = 1000 if vocab_size > 2000 else 0
    rows = []
    for _ in range(batch):
        row = [cls]
        for _ in range(seq - 2):
            state = (state * 6364136223846793005 + 1442695040888963407) & mask64
            row.append(lo + (state >> 33) % (vocab_size - lo))
        row.append(sep)
        rows.append(row)
    return rows


# ----------------------------------------------------------------- weights

def load_safetensors(path):
    import torch
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    buf = bytearray(data)  # writable, so torch.frombuffer does not warn
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        dtype = getattr(torch, ST_DTYPES[info["dtype"]])
        t = torch.frombuffer(buf, dtype=dtype, count=(e - b) // torch.tensor([], dtype=dtype).element_size(),
                             offset=base + b) if e > b else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).float()
    return out


# ----------------------------------------------------------------- model

def build_model(cfg):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    act = cfg.get("hidden_act", "gelu")
    if act != "gelu":
        raise SystemExit(f"torch_bert_bench: hidden_act {act!r} not supported here (only exact 'gelu')")
    H = cfg["hidden_size"]
    NH = cfg["num_attention_heads"]
    FF = cfg["intermediate_size"]
    eps = cfg.get("layer_norm_eps", 1e-12)

    class Embeddings(nn.Module):
        def __init__(s):
            super().__init__()
            s.word_embeddings = nn.Embedding(cfg["vocab_size"], H)
            s.position_embeddings = nn.Embedding(cfg.get("max_position_embeddings", 512), H)
            s.token_type_embeddings = nn.Embedding(cfg.get("type_vocab_size", 2), H)
            s.LayerNorm = nn.LayerNorm(H, eps=eps)

        def forward(s, ids, types):
            pos = torch.arange(ids.shape[1]).unsqueeze(0)
            x = s.word_embeddings(ids) + s.token_type_embeddings(types) + s.position_embeddings(pos)
            return s.LayerNorm(x)

    class SelfAttention(nn.Module):  # BertSelfAttention
        def __init__(s):
            super().__init__()
            s.query, s.key, s.value = nn.Linear(H, H), nn.Linear(H, H), nn.Linear(H, H)

        def forward(s, x, bias):
            B, S, _ = x.shape
            hd = H // NH
            split = lambda t: t.view(B, S, NH, hd).permute(0, 2, 1, 3)
            q, k, v = split(s.query(x)), split(s.key(x)), split(s.value(x))
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd) + bias
            probs = F.softmax(scores, dim=-1)
            ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
            return ctx.view(B, S, H)

    class DenseNorm(nn.Module):  # BertSelfOutput / BertOutput
        def __init__(s, n_in):
            super().__init__()
            s.dense = nn.Linear(n_in, H)
            s.LayerNorm = nn.LayerNorm(H, eps=eps)

        def forward(s, h, residual):
            return s.LayerNorm(s.dense(h) + residual)

    class Attention(nn.Module):
        def __init__(s):
            super().__init__()
            s.self = SelfAttention()
            s.output = DenseNorm(H)

        def forward(s, x, bias):
            return s.output(s.self(x, bias), x)

    class Intermediate(nn.Module):
        def __init__(s):
            super().__init__()
            s.dense = nn.Linear(H, FF)

        def forward(s, x):
            return F.gelu(s.dense(x))

    class Layer(nn.Module):
        def __init__(s):
            super().__init__()
            s.attention = Attention()
            s.intermediate = Intermediate()
            s.output = DenseNorm(FF)

        def forward(s, x, bias):
            a = s.attention(x, bias)
            return s.output(s.intermediate(a), a)

    class Encoder(nn.Module):
        def __init__(s):
            super().__init__()
            s.layer = nn.ModuleList(Layer() for _ in range(cfg["num_hidden_layers"]))

        def forward(s, x, bias):
            for l in s.layer:
                x = l(x, bias)
            return x

    class Pooler(nn.Module):
        def __init__(s):
            super().__init__()
            s.dense = nn.Linear(H, H)

        def forward(s, x):
            return torch.tanh(s.dense(x[:, 0]))

    class BertModel(nn.Module):
        def __init__(s):
            super().__init__()
            s.embeddings = Embeddings()
            s.encoder = Encoder()
            s.pooler = Pooler()

        def forward(s, ids, types, mask):
            bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
            return s.pooler(s.encoder(s.embeddings(ids, types), bias))

    class BertForSequenceClassification(nn.Module):
        def __init__(s):
            super().__init__()
            s.bert = BertModel()
            n_labels = len(cfg["id2label"]) if cfg.get("id2label") else cfg.get("num_labels", 2)
            s.classifier = nn.Linear(H, n_labels)

        def forward(s, ids, types, mask):
            return s.classifier(s.bert(ids, types, mask))

    return BertForSequenceClassification()


# ----------------------------------------------------------------- runs

def openblas_info():
    """OPENBLAS_CORETYPE as this process has it and the kernel family the
    loaded OpenBLAS picked (openblas_get_corename; None without OpenBLAS)."""
    import ctypes
    core = None
    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            libs = sorted({l.split()[-1] for l in f if "libopenblas" in l.split()[-1]})
        if libs:
            lib = ctypes.CDLL(libs[0])
            lib.openblas_get_corename.restype = ctypes.c_char_p
            core = lib.openblas_get_corename().decode()
    except (OSError, AttributeError, IndexError):
        pass
    return {"openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"), "openblas_core": core}


def ms_since_process_start():
    """Milliseconds since this process started, as tformer bench measures it:
    /proc/self/stat's start time (clock ticks) against CLOCK_BOOTTIME."""
    with open("/proc/self/stat", encoding="utf-8") as f:
        stat = f.read()
    start_ticks = int(stat[stat.rindex(")") + 2:].split()[19])  # field 22
    start_s = start_ticks / os.sysconf("SC_CLK_TCK")
    return (time.clock_gettime(time.CLOCK_BOOTTIME) - start_s) * 1e3


def run_one(a, config):
    """Times the model in this process; the environment is already set."""
    import torch
    torch_threads = 1 if config == "torch1-blasT" else a.threads
    torch.set_num_threads(torch_threads)
    with open(os.path.join(a.model, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    t0 = time.perf_counter()
    model = build_model(cfg)
    sd = load_safetensors(os.path.join(a.model, "model.safetensors"))
    sd.pop("bert.embeddings.position_ids", None)
    model.load_state_dict(sd, strict=True)
    model.eval()
    int8 = {}
    if a.dtype == "int8":
        model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        int8 = {"quantized_engine": torch.backends.quantized.engine,
                "int8_weight_qscheme": str(model.classifier.weight().qscheme()).replace("torch.", "")}
    load_ms = (time.perf_counter() - t0) * 1e3  # with --dtype int8, quantising the weights too

    cls, sep = special_ids(a.model, cfg["vocab_size"])
    ids = torch.tensor(make_ids(a.batch, a.seq, cfg["vocab_size"], cls, sep, a.seed), dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.ones_like(ids)
    times = []
    startup_ms = None  # at the first forward's end, warm-up or timed (python's start and `import torch` included)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.dtype == "bf16"):
        for i in range(a.warmup + a.runs):
            t = time.perf_counter()
            logits = model(ids, types, mask)
            if i >= a.warmup:
                times.append((time.perf_counter() - t) * 1e3)
            if startup_ms is None:
                startup_ms = ms_since_process_start()
    logits = logits.float()  # bf16 under autocast
    med = statistics.median(times)
    return {
        "engine": "pytorch", "torch_version": torch.__version__, "config": config,
        "torch_threads": torch_threads, "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        **openblas_info(),
        "median_ms": round(med, 3), "min_ms": round(min(times), 3),
        "seq_per_s": round(a.batch / med * 1e3, 3),
        "batch": a.batch, "seq": a.seq, "threads": a.threads, "dtype": a.dtype, **int8, "runs": a.runs,
        "warmup": a.warmup, "load_ms": round(load_ms, 1),
        "startup_ms": round(startup_ms, 1), "model": a.model,
        "finite": bool(torch.isfinite(logits).all()),
        "logits": [round(float(v), 6) for v in logits[0]],
    }


def run_thread_configs(script, a, extra_args=(), coretypes=()):
    """Runs `script` once per thread configuration (torch 1 thread + OpenBLAS T,
    and torch T + OpenBLAS 1), each in a fresh process since OpenBLAS reads its
    thread count at start-up, and once per OPENBLAS_CORETYPE in `coretypes`
    ("unset": none; empty: the environment's); prints each result and then the
    fastest as "best"."""
    configs = ["torch1-blasT"] if a.threads == 1 else ["torch1-blasT", "torchT-blas1"]
    results = []
    for coretype, config in [(c, k) for c in (coretypes or [None]) for k in configs]:
        env = dict(os.environ)
        env["OPENBLAS_NUM_THREADS"] = str(a.threads if config == "torch1-blasT" else 1)
        env.pop("OMP_NUM_THREADS", None)
        if coretype == "unset":
            env.pop("OPENBLAS_CORETYPE", None)
        elif coretype:
            env["OPENBLAS_CORETYPE"] = coretype
        cmd = [sys.executable, os.path.abspath(script), "--model", a.model, "--batch", str(a.batch),
               "--seq", str(a.seq), "--threads", str(a.threads), "--runs", str(a.runs),
               "--warmup", str(a.warmup), "--seed", str(a.seed), "--config", config, *extra_args]
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True)
        if proc.returncode != 0 and coretype:
            # One OPENBLAS_CORETYPE may not run on this CPU; the others still count.
            print(f"{os.path.basename(script)}: {config} with OPENBLAS_CORETYPE={coretype} failed "
                  f"(exit {proc.returncode}); left out", file=sys.stderr)
            continue
        proc.check_returncode()
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(json.dumps(r), flush=True)
        results.append(r)
    if not results:
        raise SystemExit(f"{os.path.basename(script)}: no configuration ran")
    best = dict(min(results, key=lambda r: r["median_ms"]))
    best["best_of"] = best["config"]
    best["config"] = "best"
    print(json.dumps(best), flush=True)


def main(argv):
    a = parse_args(argv)
    if a.config != "all":
        print(json.dumps(run_one(a, a.config)), flush=True)
        return
    run_thread_configs(__file__, a, extra_args=["--dtype", a.dtype],
                       coretypes=[c for c in a.coretypes.split(",") if c])


if __name__ == "__main__":
    main(sys.argv[1:])
