#!/usr/bin/env bash
# Training throughput, tformer vs PyTorch: full optimizer steps (forward,
# backward, gradient clipping, AdamW) of BertForSequenceClassification with
# random weights, batch 32 × seq 64, at 1 and 2 threads, in fp32 and in mixed
# precision (bf16 GEMMs: tformer --dtype bf16, PyTorch under autocast), for the
# bundled model's shape (recipes/sst2-bert-mini) and BERT-base; the table it
# measures goes into BENCHMARKS.md between the bench_bert_train markers.
#
#   scripts/bench_bert_train.sh
#   OPENBLAS_CORETYPE=SkylakeX scripts/bench_bert_train.sh   # AVX-512 OpenBLAS kernels for PyTorch (tformer has its own GEMM)
#
# Environment (all optional):
#   BUILD_DIR   build directory (default: build); tformer_cli is built there if needed
#   TFORMER     a tformer binary to use as it is (default: $BUILD_DIR/tformer, built if needed)
#   SHAPES      default "mini base": mini = recipes/sst2-bert-mini/config.json's
#               layers/hidden/heads/intermediate/positions, base = BERT-base
#               (12/768/12/3072); or LxHxNHxI, e.g. 1x32x2x64 for a quick check
#   THREADS     default "1 2";  BATCH  default 32;  SEQ  default 64
#   DTYPES      default "fp32 bf16" (bf16: mixed precision in both engines)
#   RUNS        timed steps per measurement (default 10);  WARMUP  default 2
#   ROUNDS      times the whole interleaved sequence runs (default 1); each engine
#               and configuration is reported by its fastest round (the host's
#               load comes in phases of minutes, which one round can catch one
#               engine in and miss the other)
#   CHECK       1 (default): one extra step per shape with dropout 0 in both
#               engines, comparing the first loss and gradient norm; 0 skips it
#   PYTHON      default /usr/bin/python3 (Debian's, with PyTorch)
#   OUT_MD      default BENCHMARKS.md;  set NO_WRITE=1 to only print the table
#
# Models are written by tools/make_random_bert.py into
# $BUILD_DIR/bench-models/ when absent (BERT-base's, bert-base-random, is the
# one scripts/bench_bert.sh uses). Both engines load the same model.safetensors
# and train on the same token ids and labels, interleaved shape by shape and
# thread count by thread count, so that load on this (shared) machine hits
# them alike.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_NAME=bench_bert_train
source scripts/bench_common.sh  # BUILD_DIR, PYTHON, THREADS, RUNS, WARMUP, OUT_MD
SHAPES=${SHAPES:-"mini base"}
BATCH=${BATCH:-32}
SEQ=${SEQ:-64}
CHECK=${CHECK:-1}
DTYPES=${DTYPES:-"fp32 bf16"}

# 1. tformer
bench_build_tformer "$BUILD_DIR"

# 2. the random models: SHAPE -> "layers hidden heads intermediate max_positions"
shape_dims() {
  case $1 in
    mini) "$PYTHON" -c 'import json, sys; c = json.load(open(sys.argv[1]))
print(c["num_hidden_layers"], c["hidden_size"], c["num_attention_heads"], c["intermediate_size"],
      c.get("max_position_embeddings", 512))' recipes/sst2-bert-mini/config.json ;;
    base) echo 12 768 12 3072 512 ;;
    *x*x*x*) local IFS=x; set -- $1; echo "$1 $2 $3 $4 512" ;;
    *) bench_log "unknown shape '$1' (mini, base or LxHxNHxI)"; return 1 ;;
  esac
}
declare -A MODEL_OF
for shape in $SHAPES; do
  read -r L H NH I P < <(shape_dims "$shape")
  case $shape in
    base) dir="$BUILD_DIR/bench-models/bert-base-random" ;;  # scripts/bench_bert.sh's
    mini) dir="$BUILD_DIR/bench-models/bert-mini-random-${L}x${H}x${NH}x${I}" ;;
    *) dir="$BUILD_DIR/bench-models/bert-$shape-random" ;;
  esac
  if [[ ! -f "$dir/config.json" || ! -f "$dir/model.safetensors" ]]; then
    bench_log "writing a random $shape model ($L layers, hidden $H, $NH heads, intermediate $I) to $dir"
    "$PYTHON" tools/make_random_bert.py "$dir" --layers "$L" --hidden "$H" --heads "$NH" \
      --intermediate "$I" --max-positions "$P"
  fi
  MODEL_OF[$shape]=$dir
done

# 3. the measurements, interleaved
bench_results_file bench_bert_train
LOAD_BEFORE=$(bench_loadavg)
START_S=$(date +%s)
# tag ENGINE SHAPE: puts "engine" and "shape" first in each JSON line (replacing PyTorch's own "engine").
tag() { sed 's/^{"engine": "pytorch", /{/' | bench_tag "$1" "\"shape\":\"$2\","; }
ROUNDS=${ROUNDS:-1}
for round in $(seq "$ROUNDS"); do
for shape in $SHAPES; do
  model=${MODEL_OF[$shape]}
  if [[ $CHECK == 1 && $round == 1 ]]; then
    t=${THREADS%% *}
    bench_log "$shape: one step with dropout 0 in both engines (check)"
    "$TFORMER" bench --train --model "$model" --batch "$BATCH" --seq "$SEQ" --threads "$t" --runs 1 --warmup 0 \
      --dropout 0 --json | tag tformer-check "$shape" | tee -a "$JSONL" >&2
    OPENBLAS_NUM_THREADS=$t "$PYTHON" tools/torch_bert_train_bench.py --model "$model" --batch "$BATCH" --seq "$SEQ" \
      --threads "$t" --runs 1 --warmup 0 --dropout 0 --config torch1-blasT | tag pytorch-check "$shape" | tee -a "$JSONL" >&2
  fi
  for t in $THREADS; do
    for dtype in $DTYPES; do
      bench_log "round $round of $ROUNDS, $shape, batch $BATCH, seq $SEQ, threads $t, $dtype: tformer"
      "$TFORMER" bench --train --model "$model" --batch "$BATCH" --seq "$SEQ" --threads "$t" --dtype "$dtype" \
        --runs "$RUNS" --warmup "$WARMUP" --json | tag tformer "$shape" | tee -a "$JSONL" >&2
      bench_log "round $round of $ROUNDS, $shape, batch $BATCH, seq $SEQ, threads $t, $dtype: pytorch"
      "$PYTHON" tools/torch_bert_train_bench.py --model "$model" --batch "$BATCH" --seq "$SEQ" --threads "$t" \
        --dtype "$dtype" --runs "$RUNS" --warmup "$WARMUP" | tag pytorch "$shape" | tee -a "$JSONL" >&2
    done
  done
done
done
LOAD_AFTER=$(bench_loadavg)
ELAPSED_S=$(( $(date +%s) - START_S ))
TF_EXAMPLE="$TFORMER bench --train --model MODEL --batch $BATCH --seq $SEQ --threads T --dtype D --runs $RUNS --warmup $WARMUP --json"
PT_EXAMPLE="$PYTHON tools/torch_bert_train_bench.py --model MODEL --batch $BATCH --seq $SEQ --threads T --dtype D --runs $RUNS --warmup $WARMUP"
MODEL_CMDS=""
for shape in $SHAPES; do
  read -r L H NH I P < <(shape_dims "$shape")
  MODEL_CMDS+="$PYTHON tools/make_random_bert.py ${MODEL_OF[$shape]} --layers $L --hidden $H --heads $NH --intermediate $I --max-positions $P"$'\n'
done

# 4. the table
export JSONL LOAD_BEFORE LOAD_AFTER ELAPSED_S TF_EXAMPLE PT_EXAMPLE MODEL_CMDS SHAPES THREADS DTYPES BATCH SEQ RUNS WARMUP ROUNDS BUILD_DIR
"$PYTHON" - >"$TABLE_MD" <<'EOF'
import json, os, sys
sys.path.insert(0, "tools")
import bench_report as br

env, rows = br.inputs()
rows = br.fastest_of_rounds(rows)
key = lambda r: (r["shape"], r["threads"], r.get("dtype", "fp32"))
tf = {key(r): r for r in rows if r["engine"] == "tformer"}
pt = br.pytorch_by_key(rows, key)
checks = {}
for r in rows:
    if r["engine"].endswith("-check"):
        checks.setdefault(r["shape"], {})[r["engine"]] = r

def shape_desc(shape):
    c = json.load(open(os.path.join(next(r["model"] for r in tf.values() if r["shape"] == shape), "config.json")))
    label = {"mini": "bundled model's shape", "base": "BERT-base"}.get(shape, shape)
    params = next(r["params"] for r in tf.values() if r["shape"] == shape)
    return (f"{label}: {c['num_hidden_layers']}/{c['hidden_size']}/{c['num_attention_heads']}/"
            f"{c['intermediate_size']}, {params / 1e6:.1f} M")

first_pt = next((r for r in rows if r["engine"] == "pytorch"), {})
shapes = env["SHAPES"].split()
info = br.machine_info()
lines = [br.measured_line(next(iter(tf.values()), None), f", PyTorch {first_pt.get('torch_version', '?')}",
                          elapsed_s=env["ELAPSED_S"], info=info)]
lines += ["", f"OpenBLAS kernels in use: PyTorch {first_pt.get('openblas_core') or '?'} "
              f"(OPENBLAS_CORETYPE={first_pt.get('openblas_coretype') or 'unset'})."]
lines += br.busy_lines(info=info)
lines.append("")
lines.append(f"Batch {env['BATCH']} × seq {env['SEQ']}. Shape = layers/hidden/heads/intermediate, parameters. "
             "dtype bf16 is mixed precision in both engines: tformer `--dtype bf16` (the encoder's Linear GEMMs "
             "in bf16 with fp32 sums), PyTorch's forward and loss under `torch.autocast(\"cpu\", "
             "dtype=torch.bfloat16)`; weights, gradients and AdamW stay fp32 in both. Each dtype is compared "
             "with PyTorch in the same dtype.")
lines.append("")
lines.append("| shape | threads | dtype | tformer median ms (min) | tformer seq/s | PyTorch best median ms (min), config "
             "| PyTorch seq/s | PyTorch other config median ms | throughput ratio tformer/PyTorch |")
lines.append("|---|---:|---|---:|---:|---|---:|---:|---:|")
dtype_order = {d: i for i, d in enumerate(env["DTYPES"].split())}
for shape in shapes:
    for k in sorted((k for k in tf if k[0] == shape), key=lambda k: (k[1], dtype_order.get(k[2], 99))):
        r = tf[k]
        best, best_s, other_s = br.pytorch_cells(pt.get(k))
        pt_sps = f"{best['seq_per_s']:.1f}" if best else "n/a"
        ratio = f"{r['seq_per_s'] / best['seq_per_s']:.2f}" if best else "n/a"
        lines.append(f"| {shape_desc(shape)} | {k[1]} | {k[2]} | {br.ms(r)} | {r['seq_per_s']:.1f} "
                     f"| {best_s} | {pt_sps} | {other_s} | {ratio} |")
lines.append("")
first = next(iter(tf.values()))
lines.append(f"One step = zero_grad, forward (hidden dropout {first['dropout']:g}, attention-probability dropout "
             f"{first.get('attention_dropout', 0):g} in both engines), "
             "mean cross-entropy, backward, clip_grad_norm to 1.0, AdamW (lr 1e-4, weight decay 0.01 except biases "
             f"and LayerNorm weights). Each number is the median (min) of {env['RUNS']} timed steps after "
             f"{env['WARMUP']} warm-up step(s)"
             + (f", each engine and configuration by its fastest of {env['ROUNDS']} rounds of the whole interleaved "
                "sequence" if env["ROUNDS"] != "1" else "")
             + "; the ratio is sequences/s of tformer over PyTorch's best, "
             "so **ratio > 1 means tformer trains faster**.")
if checks:
    parts = []
    for shape in shapes:
        c = checks.get(shape, {})
        a, b = c.get("tformer-check"), c.get("pytorch-check")
        if a and b:
            parts.append(f"{shape}: loss {a['first_loss']:.6f} vs {b['first_loss']:.6f}, "
                         f"gradient norm {a['first_grad_norm']:.5g} vs {b['first_grad_norm']:.5g}")
    if parts:
        lines.append("")
        lines.append("Same computation (one untimed step per shape with dropout 0, tformer vs PyTorch): "
                     + "; ".join(parts) + ".")
lines.append("")
defaults = {"SHAPES": "mini base", "THREADS": "1 2", "DTYPES": "fp32 bf16", "BATCH": "32", "SEQ": "64", "RUNS": "10",
            "WARMUP": "2", "ROUNDS": "1"}
commands = [l for l in env["MODEL_CMDS"].splitlines() if l]
commands += [env["TF_EXAMPLE"], env["PT_EXAMPLE"] + "   # runs both thread configs, each in a fresh process"]
lines += br.commands_lines("Commands (MODEL per shape as below, T ∈ {" + ", ".join(env["THREADS"].split())
                           + "}, D ∈ {" + ", ".join(env["DTYPES"].split()) + "}, run interleaved, tformer first):",
                           "scripts/bench_bert_train.sh", defaults, commands, show_env=["OPENBLAS_CORETYPE"])
print("\n".join(lines))
EOF
bench_publish bench_bert_train "BERT training vs PyTorch (scripts/bench_bert_train.sh)"
