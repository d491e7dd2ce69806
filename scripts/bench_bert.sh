#!/usr/bin/env bash
# tformer vs ONNX Runtime and PyTorch on a BERT-base-shaped
# BertForSequenceClassification with random weights (fp32, seq 128, batch 1
# and 8, 1 and 2 threads), and the table it measures written into BENCHMARKS.md
# between the bench_bert markers.
#
#   scripts/bench_bert.sh
#   RUNS=1 WARMUP=0 BATCHES=1 THREADS=1 NO_WRITE=1 scripts/bench_bert.sh   # a quick check
#
# Environment (all optional):
#   BUILD_DIR   build directory (default: build); tformer_cli is built there if needed
#   TFORMER     a tformer binary to use as it is (default: $BUILD_DIR/tformer, built if needed)
#   MODEL_DIR   the random model (default: $BUILD_DIR/bench-models/bert-base-random,
#               written by tools/make_random_bert.py when absent)
#   BATCHES     default "1 8";  THREADS  default "1 2";  SEQ  default 128
#   RUNS        timed forwards per measurement (default 10);  WARMUP  default 2
#               (tformer and PyTorch; ONNX Runtime's ort_bert.js always times 7 after 1)
#   PYTHON      default /usr/bin/python3 (Debian's, with PyTorch)
#   PT_CORETYPES  OPENBLAS_CORETYPE values PyTorch runs under, "unset" = its
#               default (default "unset SkylakeX"); each with both thread configs,
#               the fastest of all is "PyTorch best"
#   ORT         1 (default): ONNX Runtime too, where node and onnxruntime-node are
#               installed (scripts/setup.sh --bench); 0 skips it
#   ORT_NODE_MODULES  where onnxruntime-node is (default tools/ort/node_modules)
#   ORT_MODEL   the ONNX model (default $BUILD_DIR/bench-models/bert-base-anchor.onnx,
#               written by ../shared/anchors/export_onnx.py when absent)
#   ANCHORS_DIR default ../shared/anchors
#   OUT_MD      default BENCHMARKS.md;  set NO_WRITE=1 to only print the table
#
# tformer and PyTorch run the same weights (the same model.safetensors) on the
# same token ids; their logits are compared as a sanity check. ONNX Runtime
# runs the anchors' own BERT-base export (same shapes, its own random weights
# and ids: the speed of a dense fp32 forward does not depend on them). The
# engines run interleaved, shape by shape, so that load on this (shared)
# machine hits them alike.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_NAME=bench_bert
source scripts/bench_common.sh  # BUILD_DIR, PYTHON, THREADS, RUNS, WARMUP, OUT_MD, ANCHORS_DIR
BATCHES=${BATCHES:-"1 8"}
SEQ=${SEQ:-128}
PT_CORETYPES=${PT_CORETYPES:-"unset SkylakeX"}
ORT=${ORT:-1}
ORT_NODE_MODULES=${ORT_NODE_MODULES:-tools/ort/node_modules}
MODEL_DIR=${MODEL_DIR:-$BUILD_DIR/bench-models/bert-base-random}
ORT_MODEL=${ORT_MODEL:-$BUILD_DIR/bench-models/bert-base-anchor.onnx}
log() { bench_log "$@"; }

# 1. tformer
bench_build_tformer "$BUILD_DIR"

# 2. the random BERT-base model
if [[ ! -f "$MODEL_DIR/config.json" || ! -f "$MODEL_DIR/model.safetensors" ]]; then
  log "writing a random BERT-base model to $MODEL_DIR"
  "$PYTHON" tools/make_random_bert.py "$MODEL_DIR"
fi

# 3. ONNX Runtime, where it is installed: node, onnxruntime-node, the exported model
ORT_VERSION=""
if [[ $ORT == 1 ]]; then
  NODE_PATH="$(realpath -m "$ORT_NODE_MODULES")${NODE_PATH:+:$NODE_PATH}"
  export NODE_PATH
  if ! command -v node >/dev/null; then
    log "no node: ONNX Runtime left out (scripts/setup.sh --bench installs it)"
  elif ! ORT_VERSION=$(node -p "require('onnxruntime-node/package.json').version" 2>/dev/null); then
    ORT_VERSION=""
    log "no onnxruntime-node in $ORT_NODE_MODULES: ONNX Runtime left out (scripts/setup.sh --bench installs it)"
  elif [[ ! -f "$ANCHORS_DIR/ort_bert.js" || ! -f "$ANCHORS_DIR/export_onnx.py" ]]; then
    ORT_VERSION=""
    log "no $ANCHORS_DIR/ort_bert.js or export_onnx.py: ONNX Runtime left out"
  elif [[ ! -s "$ORT_MODEL" ]]; then
    log "exporting the anchors' BERT-base to $ORT_MODEL"
    mkdir -p "$(dirname "$ORT_MODEL")"
    if ! "$PYTHON" "$ANCHORS_DIR/export_onnx.py" "$ORT_MODEL.tmp" >&2 || ! mv "$ORT_MODEL.tmp" "$ORT_MODEL"; then
      rm -f "$ORT_MODEL.tmp"
      ORT_VERSION=""
      log "the ONNX export failed: ONNX Runtime left out"
    fi
  fi
fi

# 4. the measurements, interleaved
bench_results_file bench_bert
LOAD_BEFORE=$(bench_loadavg)
PT_CORETYPES_CSV=${PT_CORETYPES// /,}
for b in $BATCHES; do
  for t in $THREADS; do
    log "batch $b, seq $SEQ, threads $t: tformer"
    "$TFORMER" bench --model "$MODEL_DIR" --batch "$b" --seq "$SEQ" --threads "$t" \
      --runs "$RUNS" --warmup "$WARMUP" --json | bench_tag tformer | tee -a "$JSONL" >&2
    if [[ -n $ORT_VERSION ]]; then
      log "batch $b, seq $SEQ, threads $t: onnxruntime"
      # ort_bert.js prints "ort fp32 threads=T b=B s=S: median X ms  min Y ms".
      if line=$(node "$ANCHORS_DIR/ort_bert.js" "$ORT_MODEL" "$t" "$b" "$SEQ"); then
        echo "$line" >&2
        echo "$line" | sed -nE 's/^ort fp32 threads=([0-9]+) b=([0-9]+) s=([0-9]+): median ([0-9.]+) ms +min ([0-9.]+) ms.*/{"threads":\1,"batch":\2,"seq":\3,"median_ms":\4,"min_ms":\5,"runs":7,"warmup":1}/p' \
          | bench_tag ort "\"ort_version\":\"$ORT_VERSION\"," >>"$JSONL"
      else
        log "ort_bert.js failed for batch $b, threads $t"
      fi
    fi
    log "batch $b, seq $SEQ, threads $t: pytorch"
    "$PYTHON" tools/torch_bert_bench.py --model "$MODEL_DIR" --batch "$b" --seq "$SEQ" --threads "$t" \
      --runs "$RUNS" --warmup "$WARMUP" --coretypes "$PT_CORETYPES_CSV" | tee -a "$JSONL" >&2
  done
done
LOAD_AFTER=$(bench_loadavg)
TF_EXAMPLE="$TFORMER bench --model $MODEL_DIR --batch B --seq $SEQ --threads T --runs $RUNS --warmup $WARMUP --json"
PT_EXAMPLE="$PYTHON tools/torch_bert_bench.py --model $MODEL_DIR --batch B --seq $SEQ --threads T --runs $RUNS --warmup $WARMUP --coretypes $PT_CORETYPES_CSV"
ORT_EXAMPLE="NODE_PATH=$ORT_NODE_MODULES node $ANCHORS_DIR/ort_bert.js $ORT_MODEL T B $SEQ"
ORT_EXPORT="$PYTHON $ANCHORS_DIR/export_onnx.py $ORT_MODEL"

# 5. the table
export JSONL LOAD_BEFORE LOAD_AFTER TF_EXAMPLE PT_EXAMPLE ORT_EXAMPLE ORT_EXPORT ORT_VERSION \
  BATCHES THREADS SEQ RUNS WARMUP PT_CORETYPES MODEL_DIR BUILD_DIR
"$PYTHON" - >"$TABLE_MD" <<'EOF'
import os, sys
sys.path.insert(0, "tools")
import bench_report as br

env, rows = br.inputs()
key = lambda r: (r["batch"], r["seq"], r["threads"])
tf = {key(r): r for r in rows if r["engine"] == "tformer"}
ort = {key(r): r for r in rows if r["engine"] == "ort"}
pt = br.pytorch_by_key(rows, key)
ORT_TARGET, PT_TARGET = 0.9, 0.65

torch_version = next((r["torch_version"] for r in rows if r["engine"] == "pytorch"), "?")
ort_s = (f", ONNX Runtime {env['ORT_VERSION']} (onnxruntime-node)" if env["ORT_VERSION"]
         else ", ONNX Runtime n/a (not installed: scripts/setup.sh --bench)")
info = br.machine_info()
lines = [br.measured_line(next(iter(tf.values()), None), f"{ort_s}, PyTorch {torch_version}", info=info)]
cores = {}
for r in rows:
    if r["engine"] == "pytorch" and r["config"] != "best":
        cores.setdefault(r.get("openblas_coretype"), r.get("openblas_core") or "?")
if cores:
    lines += ["", "PyTorch's OpenBLAS kernels: " + ", ".join(
        f"{core} with " + (f"OPENBLAS_CORETYPE={ct}" if ct else "OPENBLAS_CORETYPE unset (its default)")
        for ct, core in cores.items()) + "."]
lines += br.busy_lines(info=info)
lines += ["", f"Targets: tformer's time ≤ {ORT_TARGET} × ONNX Runtime's and ≤ {PT_TARGET} × PyTorch best's "
              "(✓ / ✗ after each ratio).", ""]
lines.append("| batch | seq | threads | tformer median ms (min) | tformer GFLOP/s | ONNX Runtime median ms (min) "
             "| PyTorch best median ms (min), config | PyTorch other configs median ms "
             "| tformer/ORT | tformer/PyTorch best | max abs Δ logits[0] vs PyTorch |")
lines.append("|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|")
for k in sorted(tf):
    t = tf[k]
    gflops = t["gflop_per_seq"] * t["batch"] / (t["median_ms"] / 1e3)
    o = ort.get(k)
    if o:
        r = t["median_ms"] / o["median_ms"]
        ort_s, ort_ratio = br.ms(o), f"{r:.2f} {br.target_mark(r, ORT_TARGET)}"
    else:
        ort_s = ort_ratio = "n/a"
    best, best_s, other_s = br.pytorch_cells(pt.get(k), coretype=True)
    if best:
        r = t["median_ms"] / best["median_ms"]
        pt_ratio = f"{r:.2f} {br.target_mark(r, PT_TARGET)}"
        delta_s = f"{max(abs(a - b) for a, b in zip(t['logits'], best['logits'])):.1e}"
    else:
        pt_ratio = delta_s = "n/a"
    lines.append(f"| {k[0]} | {k[1]} | {k[2]} | {br.ms(t)} | {gflops:.1f} | {ort_s} | {best_s} | {other_s} "
                 f"| {ort_ratio} | {pt_ratio} | {delta_s} |")
lines.append("")
load_tf = sorted(r["load_ms"] for r in tf.values())
load_pt = sorted(r["load_ms"] for e in pt.values() for r in e["configs"])
if load_tf and load_pt:
    lines.append(f"Load time (from_pretrained / building the torch module and loading the safetensors), "
                 f"median over the runs: tformer {load_tf[len(load_tf)//2]:.0f} ms, PyTorch {load_pt[len(load_pt)//2]:.0f} ms.")
    lines.append("")
lines.append(f"GFLOP/s = {next(iter(tf.values()))['gflop_per_seq']:.4g} GFLOP per sequence (s={env['SEQ']}) × batch / median. "
             f"tformer and PyTorch: the median (min) of {env['RUNS']} timed forwards after {env['WARMUP']} warm-up ones"
             + ("; ONNX Runtime: of 7 after 1 (fixed in ort_bert.js), on the anchors' BERT-base export (same shapes, "
                "its own random weights and token ids)" if ort else "")
             + ". PyTorch best = the fastest of its thread configurations × OPENBLAS_CORETYPE values, each in a fresh "
             "process. Ratios are times: < 1 means tformer is faster.")
lines.append("")
commands = [f"/usr/bin/python3 tools/make_random_bert.py {env['MODEL_DIR']}", env["TF_EXAMPLE"]]
if env["ORT_VERSION"]:
    commands += [env["ORT_EXPORT"], env["ORT_EXAMPLE"]]
commands.append(env["PT_EXAMPLE"] + "   # runs every thread config × coretype, each in a fresh process")
defaults = {"BATCHES": "1 8", "THREADS": "1 2", "SEQ": "128", "RUNS": "10", "WARMUP": "2", "PT_CORETYPES": "unset SkylakeX"}
lines += br.commands_lines("Commands (B ∈ {" + ", ".join(env["BATCHES"].split()) + "}, T ∈ {"
                           + ", ".join(env["THREADS"].split()) + "}, run interleaved in the order tformer, ONNX Runtime, PyTorch):",
                           "scripts/bench_bert.sh", defaults, commands)
print("\n".join(lines))
EOF
bench_publish bench_bert "BERT-base vs ONNX Runtime and PyTorch (scripts/bench_bert.sh)"
