#!/usr/bin/env bash
# tformer's own GEMM against this machine's limits: `tformer bench --gemm` on
# BERT-base's Linear shapes (M = 128 tokens) and on decode GEMV shapes (M = 1),
# at 1 and 2 threads, next to the fp32 FMA peak (../shared/anchors/peak.cpp)
# and the memory bandwidth (../shared/anchors/triad.cpp) measured in the same
# run, and, where libdnnl-dev is installed (scripts/setup.sh --bench), oneDNN's
# fp32 matmul on the same shapes (tools/onednn_gemm_bench.cpp); the tables go
# into BENCHMARKS.md between the bench_gemm markers.
#
#   scripts/bench_gemm.sh
#   RUNS=1 WARMUP=0 SHAPES="128x768x768 1x768x768" THREADS=1 NO_WRITE=1 scripts/bench_gemm.sh   # a quick check
#
# Environment (all optional):
#   BUILD_DIR   build directory (default: build); tformer_cli is built there if
#               needed, the anchors in $BUILD_DIR/anchors
#   TFORMER     a tformer binary to use as it is (default: $BUILD_DIR/tformer, built if needed)
#   SHAPES      MxNxK list, C[M,N] = A[M,K]·Wᵀ (default: 128x768x768 128x3072x768
#               128x768x3072 1x768x768 1x3072x768 1x768x3072 1x2304x768 8x768x768
#               8x3072x768 8x768x3072)
#   THREADS     default "1 2" (the anchors measure 1 and 2 threads only)
#   RUNS        timed passes per shape (default 10);  WARMUP  default 2.  A pass
#               is one GEMM on each of the ≥ 256 MB of weight copies that
#               `tformer bench --gemm` cycles through; its time per GEMM is the result
#   ANCHORS_DIR default ../shared/anchors;  CXX  default g++
#   PYTHON      default /usr/bin/python3
#   OUT_MD      default BENCHMARKS.md;  set NO_WRITE=1 to only print the tables
#
# The anchors run before and after the GEMMs; the tables use the higher of the
# two (their own best of 5), so a load spike makes tformer's share of the peak
# look smaller, not larger.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_NAME=bench_gemm
source scripts/bench_common.sh  # BUILD_DIR, PYTHON, THREADS, RUNS, WARMUP, OUT_MD, ANCHORS_DIR
SHAPES=${SHAPES:-"128x768x768 128x3072x768 128x768x3072 1x768x768 1x3072x768 1x768x3072 1x2304x768 8x768x768 8x3072x768 8x768x3072"}
CXX=${CXX:-g++}
# The text above the markers when BENCHMARKS.md has no bench_gemm section yet.
INTRO="How close tformer's own GEMM (\`src/tformer/kernels/gemm*.cpp\`) comes to this machine's
limits, one \`Linear\` at a time (\`tformer bench --gemm MxNxK\`): BERT-base's shapes at 128 tokens
against the fp32 FMA peak (\`../shared/anchors/peak.cpp\`), and decode's matrix-vector products
(M = 1) against the memory bandwidth (\`../shared/anchors/triad.cpp\`), the anchors measured in
the same run. Targets: GEMM ≥ 85 % of the peak, GEMV ≥ 70 % of the triad bandwidth, at 1 and 2 threads.

Regenerate with \`scripts/bench_gemm.sh\` (\`BUILD_DIR=...\` to use another build directory); it
rewrites only the part between the markers."

# 1. tformer and the anchors (compiled as ../shared/anchors/README.md says)
bench_build_tformer "$BUILD_DIR"
ANCHOR_BIN="$BUILD_DIR/anchors"
mkdir -p "$ANCHOR_BIN"
PEAK_CMD="$CXX -O2 -march=native -pthread $ANCHORS_DIR/peak.cpp -o $ANCHOR_BIN/peak"
TRIAD_CMD="$CXX -O3 -march=native -pthread $ANCHORS_DIR/triad.cpp -o $ANCHOR_BIN/triad"
# compile_anchor NAME SOURCE COMMAND...: (re)builds $ANCHOR_BIN/NAME from SOURCE when the source is
# newer; a failure (e.g. a CPU without AVX-512, which peak.cpp needs) leaves that anchor out.
compile_anchor() {
  local name=$1 source=$2; shift 2
  if [[ ! -f "$source" ]]; then
    bench_log "no $source: its columns will say n/a"
    rm -f "$ANCHOR_BIN/$name"
  elif [[ ! -x "$ANCHOR_BIN/$name" || "$source" -nt "$ANCHOR_BIN/$name" ]]; then
    bench_log "compiling $source"
    "$@" >&2 || { bench_log "compiling $source failed: its columns will say n/a"; rm -f "$ANCHOR_BIN/$name"; }
  fi
}
# shellcheck disable=SC2086
compile_anchor peak "$ANCHORS_DIR/peak.cpp" $PEAK_CMD
# shellcheck disable=SC2086
compile_anchor triad "$ANCHORS_DIR/triad.cpp" $TRIAD_CMD
# oneDNN, the library the issue names beside tformer's own kernels: only where its headers are.
ONEDNN_CMD="$CXX -O2 -fopenmp tools/onednn_gemm_bench.cpp -ldnnl -o $ANCHOR_BIN/onednn_gemm_bench"
if [[ -f /usr/include/dnnl.hpp ]]; then
  # shellcheck disable=SC2086
  compile_anchor onednn_gemm_bench tools/onednn_gemm_bench.cpp $ONEDNN_CMD
else
  bench_log "no oneDNN headers (apt-get install libdnnl-dev): its columns will say n/a"
  rm -f "$ANCHOR_BIN/onednn_gemm_bench"
fi

# run_anchor NAME WHEN SED_SCRIPT: runs $ANCHOR_BIN/NAME (if it was built) and appends
# the JSON lines SED_SCRIPT (sed -nE) makes of its output, tagged with NAME and WHEN.
run_anchor() {
  local name=$1 when=$2 script=$3 out
  [[ -x "$ANCHOR_BIN/$name" ]] || return 0
  bench_log "anchors ($when): $name"
  out=$("$ANCHOR_BIN/$name") || bench_log "$name failed"
  echo "$out" >&2
  echo "$out" | sed -nE "$script" | bench_tag "$name" "\"when\":\"$when\"," >>"$JSONL"
}
# run_anchors WHEN: peak ("fp32   threads=1  117.0 GFLOP/s (or GOP/s)", also bf16 and int8)
# and triad ("triad threads=1: 30.0 GB/s"), each at 1 and 2 threads.
run_anchors() {
  run_anchor peak "$1" 's/^(fp32|bf16|int8) +threads=([0-9]+) +([0-9.]+) G.*/{"kind":"\1","threads":\2,"gflops":\3}/p'
  run_anchor triad "$1" 's/^triad threads=([0-9]+): ([0-9.]+) GB\/s.*/{"threads":\1,"gbps":\2}/p'
}

# 2. the measurements: anchors, every shape × thread count, anchors again
bench_results_file bench_gemm
LOAD_BEFORE=$(bench_loadavg)
START_S=$(date +%s)
run_anchors before
for shape in $SHAPES; do
  for t in $THREADS; do
    bench_log "gemm $shape, threads $t"
    "$TFORMER" bench --gemm "$shape" --threads "$t" --runs "$RUNS" --warmup "$WARMUP" --json \
      | bench_tag tformer | tee -a "$JSONL" >&2
    if [[ -x "$ANCHOR_BIN/onednn_gemm_bench" ]]; then
      "$ANCHOR_BIN/onednn_gemm_bench" "$shape" "$t" "$RUNS" "$WARMUP" | bench_tag onednn | tee -a "$JSONL" >&2 \
        || bench_log "onednn_gemm_bench $shape failed"
    fi
  done
done
run_anchors after
LOAD_AFTER=$(bench_loadavg)
ELAPSED_S=$(( $(date +%s) - START_S ))
TF_EXAMPLE="$TFORMER bench --gemm MxNxK --threads T --runs $RUNS --warmup $WARMUP --json"
ONEDNN_EXAMPLE="$ONEDNN_CMD && $ANCHOR_BIN/onednn_gemm_bench MxNxK T $RUNS $WARMUP"

# 3. the tables
export JSONL LOAD_BEFORE LOAD_AFTER ELAPSED_S TF_EXAMPLE ONEDNN_EXAMPLE PEAK_CMD TRIAD_CMD ANCHOR_BIN SHAPES THREADS RUNS WARMUP BUILD_DIR
"$PYTHON" - >"$TABLE_MD" <<'EOF'
import os, sys
sys.path.insert(0, "tools")
import bench_report as br

env, rows = br.inputs()
GEMM_TARGET, GEMV_TARGET = 85.0, 70.0  # % of the fp32 FMA peak; % of the triad bandwidth
SKINNY = 8  # M up to this is bound by memory bandwidth (decode), not by the FMA units
ROLE = {(768, 768): "attention projection (Q, K, V, output)", (3072, 768): "feed-forward up (intermediate)",
        (768, 3072): "feed-forward down (output)", (2304, 768): "fused QKV (GPT-2 c_attn)"}


def anchor(engine, field, threads, kind=None):
    """The higher of the before / after measurements, or None."""
    vals = [r[field] for r in rows if r["engine"] == engine and r["threads"] == threads
            and (kind is None or r.get("kind") == kind)]
    return max(vals) if vals else None


def anchor_text(engine, field, unit, kind=None):
    parts = []
    for t in sorted({r["threads"] for r in rows if r["engine"] == engine}):
        both = " / ".join(f"{r[field]:.1f}" for w in ("before", "after") for r in rows
                          if r["engine"] == engine and r["threads"] == t and r["when"] == w
                          and (kind is None or r.get("kind") == kind))
        parts.append(f"{t} thread{'s' if t > 1 else ''} {both}")
    return "; ".join(parts) + f" {unit}" if parts else "n/a"


def onednn(r):
    """oneDNN's row for tformer's row r (same shape and threads), or None."""
    return next((d for d in rows if d["engine"] == "onednn" and d["threads"] == r["threads"]
                 and (d["m"], d["n"], d["k"]) == (r["m"], r["n"], r["k"])), None)


def pct(value, ref):
    return (100.0 * value / ref) if ref else None


def fmt(v, spec=".1f"):
    return "n/a" if v is None else format(v, spec)


def check(v, target):
    return "n/a" if v is None else f"{v:.1f} % {br.target_mark(v, target, at_most=False)}"


tf = [r for r in rows if r["engine"] == "tformer"]
order = {s: i for i, s in enumerate(env["SHAPES"].split())}
tf.sort(key=lambda r: (order.get(f"{r['m']}x{r['n']}x{r['k']}", len(order)), r["threads"]))
info = br.machine_info()
lines = [br.measured_line(tf[0] if tf else None, elapsed_s=env["ELAPSED_S"], info=info)]
lines += br.busy_lines("compare tformer with the anchors measured in this same run", info=info)
lines += ["", f"Anchors measured in this run (before / after; the tables use the higher): fp32 FMA peak "
              f"{anchor_text('peak', 'gflops', 'GFLOP/s', 'fp32')}; triad bandwidth {anchor_text('triad', 'gbps', 'GB/s')}."]
dnnl = [r for r in rows if r["engine"] == "onednn"]
if dnnl:
    impls = ", ".join(sorted({r["impl"] for r in dnnl}))
    lines += ["", f"oneDNN {dnnl[0]['version']} (Debian's libdnnl, OpenMP), fp32 matmul implementation: {impls}."]

gemm = [r for r in tf if r["m"] > SKINNY]
gemv = [r for r in tf if r["m"] <= SKINNY]
if gemm:
    lines += ["", f"**GEMM** (M = tokens): target ≥ {GEMM_TARGET:.0f} % of the fp32 FMA peak at the same thread count. "
                  "oneDNN: its fp32 matmul on the same shapes, timed the same way in its own process right after "
                  "tformer's (n/a without libdnnl-dev); tformer/oneDNN is a time ratio, < 1 means tformer is faster.", ""]
    lines.append("| M×N×K | Linear | threads | median ms per GEMM (min) | GFLOP/s | fp32 FMA peak GFLOP/s "
                 "| % of peak | oneDNN median ms (min) | oneDNN % of peak | tformer/oneDNN |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in gemm:
        peak = anchor("peak", "gflops", r["threads"], "fp32")
        d = onednn(r)
        d_ms = f"{d['median_ms']:.3f} ({d['min_ms']:.3f})" if d else "n/a"
        lines.append(f"| {r['m']}×{r['n']}×{r['k']} | {ROLE.get((r['n'], r['k']), '')} | {r['threads']} "
                     f"| {r['median_ms']:.3f} ({r['min_ms']:.3f}) | {r['gflops']:.1f} | {fmt(peak)} "
                     f"| {check(pct(r['gflops'], peak), GEMM_TARGET)} "
                     f"| {d_ms} "
                     f"| {fmt(pct(d['gflops'], peak) if d else None)} "
                     f"| {fmt(r['median_ms'] / d['median_ms'] if d else None, '.2f')} |")
if gemv:
    lines += ["", f"**GEMV** (M = 1, decode, and M = 8, a batch of 8 decoding; M ≤ {SKINNY} counts here): "
                  f"target ≥ {GEMV_TARGET:.0f} % of the triad bandwidth at the same thread count, counting the "
                  "weight bytes read once per call.", ""]
    lines.append("| M×N×K | Linear | threads | median ms per GEMV (min) | weight GB/s | triad GB/s | % of triad "
                 "| GFLOP/s | % of FMA peak | oneDNN weight GB/s | tformer/oneDNN |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in gemv:
        peak = anchor("peak", "gflops", r["threads"], "fp32")
        triad = anchor("triad", "gbps", r["threads"])
        d = onednn(r)
        lines.append(f"| {r['m']}×{r['n']}×{r['k']} | {ROLE.get((r['n'], r['k']), '')} | {r['threads']} "
                     f"| {r['median_ms']:.4f} ({r['min_ms']:.4f}) | {r['weight_gbps']:.1f} | {fmt(triad)} "
                     f"| {check(pct(r['weight_gbps'], triad), GEMV_TARGET)} | {r['gflops']:.1f} "
                     f"| {fmt(pct(r['gflops'], peak))} | {fmt(4e-6 * r['n'] * r['k'] / d['median_ms'] if d else None)} "
                     f"| {fmt(r['median_ms'] / d['median_ms'] if d else None, '.2f')} |")
lines.append("")
lines.append("C[M,N] = A[M,K]·Wᵀ with W [N,K] packed once, fp32; GFLOP/s = 2·M·N·K / median, weight GB/s = "
             "4·N·K bytes / median. Each timed pass runs one GEMM on each of ≥ 256 MB of distinct weight copies "
             "(more than any cache, as a model's layers are), and the time per GEMM is the pass's mean; the "
             f"median (min) is over {env['RUNS']} passes after {env['WARMUP']} warm-up ones. peak.cpp: 12 "
             "independent AVX-512 FMA chains per thread, best of 5; triad.cpp: a = b + s·c over 3 × 256 MiB, "
             "3 streams counted, best of 5.")
lines.append("")
defaults = {"SHAPES": "128x768x768 128x3072x768 128x768x3072 1x768x768 1x3072x768 1x768x3072 1x2304x768 8x768x768 8x3072x768 8x768x3072",
            "THREADS": "1 2", "RUNS": "10", "WARMUP": "2"}
commands = [env["PEAK_CMD"] + f" && {env['ANCHOR_BIN']}/peak",
            env["TRIAD_CMD"] + f" && {env['ANCHOR_BIN']}/triad",
            env["TF_EXAMPLE"], env["ONEDNN_EXAMPLE"] + "   # where libdnnl-dev is installed"]
lines += br.commands_lines("Commands (MxNxK and T as in the tables; the anchors before and after the GEMMs):",
                           "scripts/bench_gemm.sh", defaults, commands)
print("\n".join(lines))
EOF
bench_publish bench_gemm "GEMM and GEMV vs this machine's limits (scripts/bench_gemm.sh)" --intro "$INTRO" --after bench_bert
