#!/usr/bin/env bash
# tformer vs PyTorch on a BERT-base-shaped BertForSequenceClassification with
# random weights (fp32, seq 128, batch 1 and 8, 1 and 2 threads), and the
# table it measures written into BENCHMARKS.md between the bench_bert markers.
#
#   scripts/bench_bert.sh
#
# Environment (all optional):
#   BUILD_DIR   build directory (default: build); tformer_cli is built there if needed
#   MODEL_DIR   the random model (default: $BUILD_DIR/bench-models/bert-base-random,
#               written by tools/make_random_bert.py when absent)
#   BATCHES     default "1 8";  THREADS  default "1 2";  SEQ  default 128
#   RUNS        timed forwards per measurement (default 10);  WARMUP  default 2
#   PYTHON      default /usr/bin/python3 (Debian's, with PyTorch)
#   OUT_MD      default BENCHMARKS.md;  set NO_WRITE=1 to only print the table
#
# Both engines run the same weights (the same model.safetensors) on the same
# token ids, interleaved shape by shape, so that load on this (shared) machine
# hits them alike; the logits of both are compared as a sanity check.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

BUILD_DIR=${BUILD_DIR:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
BATCHES=${BATCHES:-"1 8"}
THREADS=${THREADS:-"1 2"}
SEQ=${SEQ:-128}
RUNS=${RUNS:-10}
WARMUP=${WARMUP:-2}
OUT_MD=${OUT_MD:-BENCHMARKS.md}
MODEL_DIR=${MODEL_DIR:-$BUILD_DIR/bench-models/bert-base-random}

BENCH_NAME=bench_bert
source scripts/bench_common.sh
log() { bench_log "$@"; }

# 1. tformer
bench_build_tformer "$BUILD_DIR"

# 2. the random BERT-base model
if [[ ! -f "$MODEL_DIR/config.json" || ! -f "$MODEL_DIR/model.safetensors" ]]; then
  log "writing a random BERT-base model to $MODEL_DIR"
  "$PYTHON" tools/make_random_bert.py "$MODEL_DIR"
fi

# 3. the measurements, interleaved
RESULTS_DIR="$BUILD_DIR/bench-results"
mkdir -p "$RESULTS_DIR"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
JSONL="$RESULTS_DIR/bench_bert-$STAMP.jsonl"
: >"$JSONL"
# Which OpenBLAS kernels each engine gets (OPENBLAS_CORETYPE=SkylakeX, set in
# the environment of this script, reaches both); the table records them.
bench_blas_cores "$TFORMER" "$MODEL_DIR" "$PYTHON"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
CMDS=()
for b in $BATCHES; do
  for t in $THREADS; do
    tf_cmd=("$TFORMER" bench --model "$MODEL_DIR" --batch "$b" --seq "$SEQ" --threads "$t"
            --runs "$RUNS" --warmup "$WARMUP" --json)
    pt_cmd=("$PYTHON" tools/torch_bert_bench.py --model "$MODEL_DIR" --batch "$b" --seq "$SEQ"
            --threads "$t" --runs "$RUNS" --warmup "$WARMUP")
    log "batch $b, seq $SEQ, threads $t: tformer"
    "${tf_cmd[@]}" | sed 's/^{/{"engine":"tformer",/' | tee -a "$JSONL" >&2
    log "batch $b, seq $SEQ, threads $t: pytorch"
    "${pt_cmd[@]}" | tee -a "$JSONL" >&2
  done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
TF_EXAMPLE="$TFORMER bench --model $MODEL_DIR --batch B --seq $SEQ --threads T --runs $RUNS --warmup $WARMUP --json"
PT_EXAMPLE="$PYTHON tools/torch_bert_bench.py --model $MODEL_DIR --batch B --seq $SEQ --threads T --runs $RUNS --warmup $WARMUP"

# 4. the table
bench_machine_info
TABLE_MD="$RESULTS_DIR/bench_bert-$STAMP.md"
export JSONL TF_BLAS_CORE PT_BLAS_CORE BLAS_CORETYPE_ENV CPU_MODEL NCPU COMMIT LOAD_BEFORE LOAD_AFTER TF_EXAMPLE PT_EXAMPLE \
  BATCHES THREADS SEQ RUNS WARMUP MODEL_DIR BUILD_DIR
"$PYTHON" - >"$TABLE_MD" <<'EOF'
import datetime, json, os

rows = [json.loads(l) for l in open(os.environ["JSONL"]) if l.strip()]
tf = {(r["batch"], r["seq"], r["threads"]): r for r in rows if r["engine"] == "tformer"}
pt = {}
for r in rows:
    if r["engine"] == "pytorch":
        pt.setdefault((r["batch"], r["seq"], r["threads"]), {})[r["config"]] = r

names = {"torch1-blasT": "torch 1 thr + OpenBLAS {t}", "torchT-blas1": "torch {t} thr + OpenBLAS 1"}
def cfg_name(r):
    return names[r.get("best_of", r["config"])].format(t=r["threads"])

env = os.environ
torch_version = next((r["torch_version"] for r in rows if r["engine"] == "pytorch"), "?")
isa = next((r.get("isa", "?") for r in rows if r["engine"] == "tformer"), "?")
lines = []
lines.append(f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on "
             f"{env['CPU_MODEL']} ({env['NCPU']} CPUs), tformer {env['COMMIT']} ({isa} kernels), "
             f"PyTorch {torch_version}. Load average before / after: {env['LOAD_BEFORE']} / {env['LOAD_AFTER']}.")
lines.append("")
lines.append(f"OpenBLAS kernels in use: tformer {env.get('TF_BLAS_CORE') or '?'}, PyTorch {env.get('PT_BLAS_CORE') or '?'} "
             f"(OPENBLAS_CORETYPE={env['BLAS_CORETYPE_ENV']}).")
try:
    busy = float(env["LOAD_BEFORE"].split()[0]) > float(env["NCPU"]) or float(env["LOAD_AFTER"].split()[0]) > float(env["NCPU"])
except ValueError:
    busy = False
if busy:
    lines.append("")
    lines.append(f"**The machine was busy** (load average above its {env['NCPU']} CPUs, other processes running): "
                 "absolute times are inflated and noisy; compare the engines by the ratio of this same run.")
lines.append("")
lines.append("| batch | seq | threads | tformer median ms (min) | tformer GFLOP/s | PyTorch best median ms (min), config "
             "| PyTorch other config median ms | ratio tformer/PyTorch | max abs Δ logits[0] |")
lines.append("|---:|---:|---:|---:|---:|---|---:|---:|---:|")
for key in sorted(tf):
    t = tf[key]
    p = pt.get(key, {})
    best = p.get("best")
    other = [r for c, r in p.items() if c != "best" and best and c != best["best_of"]]
    gflops = t["gflop_per_seq"] * t["batch"] / (t["median_ms"] / 1e3)
    if best:
        ratio = f"{t['median_ms'] / best['median_ms']:.2f}"
        best_s = f"{best['median_ms']:.1f} ({best['min_ms']:.1f}), {cfg_name(best)}"
        other_s = f"{other[0]['median_ms']:.1f} ({cfg_name(other[0])})" if other else "(same config)"
        delta = max(abs(a - b) for a, b in zip(t["logits"], best["logits"]))
        delta_s = f"{delta:.1e}"
    else:
        ratio = best_s = other_s = delta_s = "n/a"
    lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {t['median_ms']:.1f} ({t['min_ms']:.1f}) | {gflops:.1f} "
                 f"| {best_s} | {other_s} | {ratio} | {delta_s} |")
lines.append("")
load_tf = sorted(r["load_ms"] for r in tf.values())
load_pt = sorted(r["load_ms"] for c in pt.values() for k, r in c.items() if k != "best")
if load_tf and load_pt:
    lines.append(f"Load time (from_pretrained / building the torch module and loading the safetensors), "
                 f"median over the runs: tformer {load_tf[len(load_tf)//2]:.0f} ms, PyTorch {load_pt[len(load_pt)//2]:.0f} ms.")
    lines.append("")
lines.append(f"GFLOP/s = {tf[next(iter(tf))]['gflop_per_seq']:.4g} GFLOP per sequence (s={env['SEQ']}) × batch / median. "
             f"Each number is the median of {env['RUNS']} timed forwards after {env['WARMUP']} warm-up ones; "
             "ratio < 1 means tformer is faster.")
lines.append("")
lines.append("Commands (B ∈ {" + ", ".join(env["BATCHES"].split()) + "}, T ∈ {" + ", ".join(env["THREADS"].split())
             + "}, run interleaved, tformer first):")
lines.append("")
lines.append("```sh")
cte = "" if env["BLAS_CORETYPE_ENV"] == "unset" else f"OPENBLAS_CORETYPE={env['BLAS_CORETYPE_ENV']} "
lines.append(f"{cte}BUILD_DIR={env['BUILD_DIR']} scripts/bench_bert.sh   # does all of the below")
lines.append(f"/usr/bin/python3 tools/make_random_bert.py {env['MODEL_DIR']}")
lines.append(env["TF_EXAMPLE"])
lines.append(env["PT_EXAMPLE"] + "   # runs both thread configs, each in a fresh process")
lines.append("```")
lines.append("")
lines.append(f"Raw results: `{os.path.relpath(env['JSONL'])}` (JSON lines, not committed).")
print("\n".join(lines))
EOF
cat "$TABLE_MD"
if [[ -z "${NO_WRITE:-}" ]]; then
  bench_write_section "$OUT_MD" bench_bert "BERT-base vs PyTorch (scripts/bench_bert.sh)" "$TABLE_MD"
fi
