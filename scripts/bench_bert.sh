#!/usr/bin/env bash
# tformer vs ONNX Runtime and PyTorch on a BERT-base-shaped
# BertForSequenceClassification with random weights (fp32, bf16 and int8, seq 128,
# batch 1 and 8, 1 and 2 threads), and the tables it measures written into
# BENCHMARKS.md between the bench_bert markers.
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
#   DTYPES      default "fp32 bf16 int8": fp32 runs all three engines; bf16 runs
#               tformer with --dtype bf16 and PyTorch under bf16 autocast
#               (tools/torch_bert_bench.py --dtype bf16); int8 runs tformer with
#               --dtype int8 and PyTorch's dynamic int8 (quantize_dynamic of its
#               Linear layers, tools/torch_bert_bench.py --dtype int8); no ONNX
#               Runtime for either
#   RUNS        timed forwards per measurement (default 10);  WARMUP  default 2
#               (tformer and PyTorch; ONNX Runtime's ort_bert.js always times 7 after 1)
#   ROUNDS      times the whole interleaved sequence runs (default 1); each engine
#               and configuration is then reported by its fastest round (its
#               lowest median), alike for all engines: on this VM the host's load
#               comes in phases of minutes that one round can catch for one engine
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
# and ids: the speed of a dense fp32 forward does not depend on them). In bf16
# and int8 the logits differ by rounding: their difference is reported, not checked. The
# engines run interleaved, shape by shape, so that load on this (shared)
# machine hits them alike.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_NAME=bench_bert
source scripts/bench_common.sh  # BUILD_DIR, PYTHON, THREADS, RUNS, WARMUP, OUT_MD, ANCHORS_DIR
BATCHES=${BATCHES:-"1 8"}
DTYPES=${DTYPES:-"fp32 bf16 int8"}
SEQ=${SEQ:-128}
PT_CORETYPES=${PT_CORETYPES:-"unset SkylakeX"}
ORT=${ORT:-1}
ORT_NODE_MODULES=${ORT_NODE_MODULES:-tools/ort/node_modules}
MODEL_DIR=${MODEL_DIR:-$BUILD_DIR/bench-models/bert-base-random}
ORT_MODEL=${ORT_MODEL:-$BUILD_DIR/bench-models/bert-base-anchor.onnx}
log() { bench_log "$@"; }
for d in $DTYPES; do
  [[ $d == fp32 || $d == bf16 || $d == int8 ]] || { log "DTYPES: '$d' is not fp32, bf16 or int8"; exit 1; }
done

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
ROUNDS=${ROUNDS:-1}
for round in $(seq "$ROUNDS"); do
for b in $BATCHES; do
  for t in $THREADS; do
    for d in $DTYPES; do
      log "round $round of $ROUNDS, batch $b, seq $SEQ, threads $t, $d: tformer"
      "$TFORMER" bench --model "$MODEL_DIR" --batch "$b" --seq "$SEQ" --threads "$t" \
        --runs "$RUNS" --warmup "$WARMUP" --dtype "$d" --json | bench_tag tformer | tee -a "$JSONL" >&2
      if [[ -n $ORT_VERSION && $d == fp32 ]]; then
        log "batch $b, seq $SEQ, threads $t, $d: onnxruntime"
        # ort_bert.js prints "ort fp32 threads=T b=B s=S: median X ms  min Y ms".
        if line=$(node "$ANCHORS_DIR/ort_bert.js" "$ORT_MODEL" "$t" "$b" "$SEQ"); then
          echo "$line" >&2
          echo "$line" | sed -nE 's/^ort fp32 threads=([0-9]+) b=([0-9]+) s=([0-9]+): median ([0-9.]+) ms +min ([0-9.]+) ms.*/{"threads":\1,"batch":\2,"seq":\3,"dtype":"fp32","median_ms":\4,"min_ms":\5,"runs":7,"warmup":1}/p' \
            | bench_tag ort "\"ort_version\":\"$ORT_VERSION\"," >>"$JSONL"
        else
          log "ort_bert.js failed for batch $b, threads $t"
        fi
      fi
      log "batch $b, seq $SEQ, threads $t, $d: pytorch"
      "$PYTHON" tools/torch_bert_bench.py --model "$MODEL_DIR" --batch "$b" --seq "$SEQ" --threads "$t" \
        --runs "$RUNS" --warmup "$WARMUP" --dtype "$d" --coretypes "$PT_CORETYPES_CSV" | tee -a "$JSONL" >&2
    done
  done
done
done
LOAD_AFTER=$(bench_loadavg)
TF_EXAMPLE="$TFORMER bench --model $MODEL_DIR --batch B --seq $SEQ --threads T --runs $RUNS --warmup $WARMUP --dtype D --json"
PT_EXAMPLE="$PYTHON tools/torch_bert_bench.py --model $MODEL_DIR --batch B --seq $SEQ --threads T --runs $RUNS --warmup $WARMUP --dtype D --coretypes $PT_CORETYPES_CSV"
ORT_EXAMPLE="NODE_PATH=$ORT_NODE_MODULES node $ANCHORS_DIR/ort_bert.js $ORT_MODEL T B $SEQ"
ORT_EXPORT="$PYTHON $ANCHORS_DIR/export_onnx.py $ORT_MODEL"

# 5. the table
export JSONL LOAD_BEFORE LOAD_AFTER TF_EXAMPLE PT_EXAMPLE ORT_EXAMPLE ORT_EXPORT ORT_VERSION \
  BATCHES THREADS DTYPES SEQ RUNS WARMUP ROUNDS PT_CORETYPES MODEL_DIR BUILD_DIR
"$PYTHON" - >"$TABLE_MD" <<'EOF'
import os, sys
sys.path.insert(0, "tools")
import bench_report as br

env, rows = br.inputs()
rows = br.fastest_of_rounds(rows)
key = lambda r: (r["batch"], r["seq"], r["threads"])
of = lambda engine, dtype: [r for r in rows if r["engine"] == engine and r.get("dtype", "fp32") == dtype]
ORT_TARGET, PT_TARGET = 0.9, 0.65
# The low-precision dtypes, each with a table: (its targets: tformer's time ≤ PT × PyTorch's in that dtype
# and ≤ FP32 × tformer fp32's; what tformer runs; what PyTorch runs; PyTorch's run in the column heads).
# A field of PyTorch's rows in that dtype (the values it takes, "?" without any).
pt_field = lambda dtype, f: ", ".join(sorted({str(r.get(f, "?")) for r in of("pytorch", dtype)})) or "?"
LOW = {
    "bf16": ({"PT": 0.8, "FP32": 0.55}, "bf16 weights and products, fp32 sums",
             "with its forward under `torch.autocast(\"cpu\", dtype=torch.bfloat16)`", "bf16-autocast"),
    "int8": ({"PT": 0.6, "FP32": 0.35}, "dynamic quantisation of the encoder's Linear layers: s8 weights per "
             "output channel, u8 activations per row",
             "with `torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)` "
             f"(its dynamic int8, {pt_field('int8', 'int8_weight_qscheme')} weights, on the quantized engine "
             f"{pt_field('int8', 'quantized_engine')})", "dynamic-int8"),
}
tf, ort, pt = ({key(r): r for r in of("tformer", "fp32")}, {key(r): r for r in of("ort", "fp32")},
               br.pytorch_by_key(of("pytorch", "fp32"), key))
tf_low = {d: {key(r): r for r in of("tformer", d)} for d in LOW}
pt_low = {d: br.pytorch_by_key(of("pytorch", d), key) for d in LOW}
tf_any = [*tf.values(), *(r for d in LOW for r in tf_low[d].values())]


def table(intro, columns, align, tf_rows, pt_rows, cells):
    """A blank line, `intro`, and a table with a row per tformer result: batch, seq, threads,
    tformer's median (min) and GFLOP/s, then the cells that cells(key, tformer row, PyTorch best,
    PyTorch's two cells [best, others]) returns, under `columns` aligned by `align`."""
    out = ["", intro, "", "| batch | seq | threads | " + " | ".join(columns) + " |",
           "|---:|---:|---:|---:|---:|" + align]
    for k in sorted(tf_rows):
        t = tf_rows[k]
        best, *pt_cells = br.pytorch_cells(pt_rows.get(k), coretype=True)
        out.append(f"| {k[0]} | {k[1]} | {k[2]} | {br.ms(t)} | {br.gflops(t):.1f} | "
                   + " | ".join(cells(k, t, best, pt_cells)) + " |")
    return out


torch_version = next((r["torch_version"] for r in rows if r["engine"] == "pytorch"), "?")
ort_s = (f", ONNX Runtime {env['ORT_VERSION']} (onnxruntime-node)" if env["ORT_VERSION"]
         else ", ONNX Runtime n/a (not installed: scripts/setup.sh --bench)")
info = br.machine_info()
lines = [br.measured_line(next(iter(tf_any), None), f"{ort_s}, PyTorch {torch_version}", info=info)]
cores = {}
for r in rows:
    if r["engine"] == "pytorch" and r["config"] != "best":
        cores.setdefault(r.get("openblas_coretype"), r.get("openblas_core") or "?")
if cores:
    lines += ["", "PyTorch's OpenBLAS kernels: " + ", ".join(
        f"{core} with " + (f"OPENBLAS_CORETYPE={ct}" if ct else "OPENBLAS_CORETYPE unset (its default)")
        for ct, core in cores.items()) + "."]
lines += br.busy_lines(info=info)
if tf:
    lines += table(f"Targets: tformer's time ≤ {ORT_TARGET} × ONNX Runtime's and ≤ {PT_TARGET} × PyTorch best's "
                   "(✓ / ✗ after each ratio).",
                   ["tformer median ms (min)", "tformer GFLOP/s", "ONNX Runtime median ms (min)",
                    "PyTorch best median ms (min), config", "PyTorch other configs median ms", "tformer/ORT",
                    "tformer/PyTorch best", "max abs Δ logits[0] vs PyTorch"],
                   "---:|---|---|---:|---:|---:|", tf, pt,
                   lambda k, t, best, pt_cells: [br.ms(ort[k]) if k in ort else "n/a", *pt_cells,
                                                 br.ratio_cell(t, ort.get(k), ORT_TARGET),
                                                 br.ratio_cell(t, best, PT_TARGET), br.logits_delta(t, best)])
for d, (target, tf_what, pt_what, pt_name) in LOW.items():
    if not tf_low[d]:
        continue
    lines += table(f"{d}: tformer with `--dtype {d}` ({tf_what}), PyTorch {pt_what}, ONNX Runtime not run. "
                   f"Targets: tformer {d}'s time ≤ {target['PT']} × PyTorch {d} best's and ≤ {target['FP32']} × "
                   f"tformer fp32's at the same batch and threads (✓ / ✗ after each ratio). The logits of {d} "
                   f"forwards differ by rounding: their Δ is shown, against PyTorch {d} and (in brackets) tformer "
                   "fp32, not checked.",
                   [f"tformer {d} median ms (min)", "tformer GFLOP/s", f"PyTorch {pt_name} best median ms (min), config",
                    f"PyTorch {d} other configs median ms", f"tformer/PyTorch {d} best", f"tformer {d}/fp32",
                    f"max abs Δ logits[0] vs PyTorch {d} (vs tformer fp32)"],
                   "---|---|---:|---:|---:|", tf_low[d], pt_low[d],
                   lambda k, t, best, pt_cells: [*pt_cells, br.ratio_cell(t, best, target["PT"]),
                                                 br.ratio_cell(t, tf.get(k), target["FP32"]),
                                                 f"{br.logits_delta(t, best)} ({br.logits_delta(t, tf.get(k))})"])
lines.append("")
load_tf = sorted(r["load_ms"] for r in tf_any)
load_pt = sorted(r["load_ms"] for p in [pt, *pt_low.values()] for e in p.values() for r in e["configs"])
if load_tf and load_pt:
    lines.append(f"Load time (from_pretrained / building the torch module and loading the safetensors), "
                 f"median over the runs: tformer {load_tf[len(load_tf)//2]:.0f} ms, PyTorch {load_pt[len(load_pt)//2]:.0f} ms.")
    lines.append("")
# Start-up to the first result: from the process's start (python's and `import torch` included) to the
# first forward's logits, in the fp32 batch-1 runs of the table, per thread count (tformer packs its
# weights on all its threads; PyTorch: its best configuration's run).
startup = [(k[2], t["startup_ms"], pt[k]["best"].get("startup_ms")) for k, t in sorted(tf.items())
           if k[0] == 1 and "startup_ms" in t and k in pt and pt[k]["best"]]
if startup and all(p is not None for _, _, p in startup):
    lines.append(f"Start-up to the first result (process start to the first forward's logits, fp32, batch 1 × seq "
                 f"{env['SEQ']}: exec, loading, the first forward; for PyTorch python's start and `import torch` too), "
                 "in the runs of the table: " + "; ".join(f"{th} thread{'s' if th > 1 else ''}: tformer {t:.0f} ms, "
                                                         f"PyTorch {p:.0f} ms" for th, t, p in startup) + ".")
    lines.append("")
lines.append(f"GFLOP/s = {tf_any[0]['gflop_per_seq']:.4g} GFLOP per sequence (s={env['SEQ']}) × batch / median. "
             f"tformer and PyTorch: the median (min) of {env['RUNS']} timed forwards after {env['WARMUP']} warm-up ones"
             + ("; ONNX Runtime: of 7 after 1 (fixed in ort_bert.js), on the anchors' BERT-base export (same shapes, "
                "its own random weights and token ids)" if ort else "")
             + (f"; each engine and configuration by its fastest of {env['ROUNDS']} rounds of the whole interleaved "
                "sequence" if env["ROUNDS"] != "1" else "")
             + ". PyTorch best = the fastest of its thread configurations × OPENBLAS_CORETYPE values, each in a fresh "
             "process. Ratios are times: < 1 means tformer is faster.")
lines.append("")
commands = [f"/usr/bin/python3 tools/make_random_bert.py {env['MODEL_DIR']}", env["TF_EXAMPLE"]]
if env["ORT_VERSION"]:
    commands += [env["ORT_EXPORT"], env["ORT_EXAMPLE"] + "   # fp32 only"]
commands.append(env["PT_EXAMPLE"] + "   # runs every thread config × coretype, each in a fresh process")
defaults = {"BATCHES": "1 8", "THREADS": "1 2", "DTYPES": "fp32 bf16 int8", "SEQ": "128", "RUNS": "10", "WARMUP": "2",
            "ROUNDS": "1", "PT_CORETYPES": "unset SkylakeX"}
lines += br.commands_lines("Commands (B ∈ {" + ", ".join(env["BATCHES"].split()) + "}, T ∈ {"
                           + ", ".join(env["THREADS"].split()) + "}, D ∈ {" + ", ".join(env["DTYPES"].split())
                           + "}, run interleaved in the order tformer, ONNX Runtime, PyTorch):",
                           "scripts/bench_bert.sh", defaults, commands)
print("\n".join(lines))
EOF
bench_publish bench_bert "BERT-base vs ONNX Runtime and PyTorch (scripts/bench_bert.sh)"
