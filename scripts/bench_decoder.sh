#!/usr/bin/env bash
# Text-generation decoders: tformer against PyTorch, llama2.c's run.c and the
# machine's memory bandwidth, measured interleaved in one run.
#
# What it measures (each round runs every item once, in this order, so that
# the host's slow and fast phases fall on all engines alike):
#   - memory bandwidth: ../shared/anchors/triad.cpp, 1 and 2 threads (GB/s);
#   - GPT-2 small (random weights, tools/make_random_gpt2.py → $GPT2_DIR),
#     prompt 128 + 128 new tokens, batch 1: `tformer bench` fp32 and bf16 at
#     1 and 2 threads, and ../shared/anchors/torch_gpt2.py (PyTorch 1.13, the
#     same shape, its own random weights, KV cache) in its three thread
#     configurations: torch 1 thr + OpenBLAS 1, torch 1 + OpenBLAS 2,
#     torch 2 + OpenBLAS 2;
#   - stories260K (llama2.c's 260K-parameter Llama): `tformer bench
#     --prompt-tokens 5 --new-tokens 251 --threads 1` (256 positions, as
#     run.c's -n 256 with the 5-token prompt "Once upon a time" incl. BOS)
#     against run.c's `achieved tok/s` (1 thread, greedy).
# Then it prints a summary table with these ratios, against these goals:
#   - tformer fp32 decode ≥ 3 × PyTorch's best decode (same thread count);
#   - tformer fp32 decode ≥ 85 % of the bandwidth bound
#     (bound = triad GB/s at that thread count ÷ weight_mb_per_token MB, tok/s);
#   - tformer bf16 decode ≥ 1.7 × tformer fp32 decode;
#   - tformer prefill ≥ 1.5 × PyTorch's prefill (128 tokens);
#   - stories260K: tformer ≥ 2 × run.c.
#
# Usage (from the repository root, with build/tformer built):
#   bash scripts/bench_decoder.sh
# Settings from the environment (defaults):
#   TFORMER=build/tformer     the CLI to time (not built by this script)
#   ROUNDS=2                  rounds of the whole interleaved sequence
#   GPT2_RUNS=3               tformer's timed generations per process (GPT-2)
#   STORIES_RUNS=10           the same for stories260K
#   RUNC_REPEATS=3            run.c processes per round
#   THREADS="1 2"  DTYPES="fp32 bf16"
#   GPT2_DIR=/tmp/gpt2-small  made with tools/make_random_gpt2.py if absent
#   ANCHOR_BUILD=/tmp/tformer-anchors   where triad and run.c are built
#   ANCHORS_DIR=../shared/anchors  SHARED_MODELS=../shared/models
#   RESULTS_DIR=/tmp/tformer-bench-decoder   raw JSON lines and the table
#   PYTHON=/usr/bin/python3
#   PT_CORETYPE=             OPENBLAS_CORETYPE for PyTorch (unset: OpenBLAS's own
#                             choice; e.g. SkylakeX forces its AVX-512 kernels)
# PyTorch needs OpenBLAS as the system BLAS (libopenblas0-pthread): with
# Debian's reference libblas3 alone torch's GEMMs run at ~1 GFLOP/s.
set -euo pipefail

TFORMER=${TFORMER:-build/tformer}
ROUNDS=${ROUNDS:-2}
GPT2_RUNS=${GPT2_RUNS:-3}
STORIES_RUNS=${STORIES_RUNS:-10}
RUNC_REPEATS=${RUNC_REPEATS:-3}
THREADS=${THREADS:-"1 2"}
DTYPES=${DTYPES:-"fp32 bf16"}
GPT2_DIR=${GPT2_DIR:-/tmp/gpt2-small}
ANCHOR_BUILD=${ANCHOR_BUILD:-/tmp/tformer-anchors}
ANCHORS_DIR=${ANCHORS_DIR:-../shared/anchors}
SHARED_MODELS=${SHARED_MODELS:-../shared/models}
RESULTS_DIR=${RESULTS_DIR:-/tmp/tformer-bench-decoder}
PYTHON=${PYTHON:-/usr/bin/python3}
STORIES_MODEL=${STORIES_MODEL:-models/stories260K}

log() { echo "bench_decoder: $*" >&2; }

[[ -x "$TFORMER" ]] || { log "$TFORMER is not built (build it first, e.g. scripts/build.sh)"; exit 1; }
[[ -d "$ANCHORS_DIR" ]] || { log "anchors not found in $ANCHORS_DIR"; exit 1; }

# --- anchors, built outside the repository --------------------------------
mkdir -p "$ANCHOR_BUILD" "$RESULTS_DIR"
if [[ ! -x "$ANCHOR_BUILD/triad" ]]; then
  log "building triad in $ANCHOR_BUILD"
  g++ -O3 -march=native -pthread "$ANCHORS_DIR/triad.cpp" -o "$ANCHOR_BUILD/triad"
fi
if [[ ! -x "$ANCHOR_BUILD/run" ]]; then
  log "building llama2.c run.c in $ANCHOR_BUILD"
  gcc -O3 -march=native -o "$ANCHOR_BUILD/run" "$ANCHORS_DIR/llama2c/run.c" -lm
fi
RUNC_MODEL="$ANCHOR_BUILD/stories260K_v0.bin"
RUNC_TOK="$SHARED_MODELS/stories260K/tok512.bin"
if [[ ! -f "$RUNC_MODEL" ]]; then
  log "converting stories260K to llama2.c's version 0 for run.c"
  "$PYTHON" "$ANCHORS_DIR/llama2c/v1tov0.py" "$SHARED_MODELS/stories260K/stories260K_v1.bin" "$RUNC_MODEL" >&2
fi
if [[ ! -f "$GPT2_DIR/model.safetensors" ]]; then
  log "writing a random GPT-2 small to $GPT2_DIR"
  "$PYTHON" tools/make_random_gpt2.py "$GPT2_DIR"
fi

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
JSONL="$RESULTS_DIR/bench_decoder-$STAMP.jsonl"
TABLE_MD="$RESULTS_DIR/bench_decoder-$STAMP.md"
ERRLOG="$RESULTS_DIR/bench_decoder-$STAMP.log"
: >"$JSONL"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "raw results: $JSONL (stderr of the runs: $ERRLOG)"

# emit ROUND KIND [KEY VALUE]... : one JSON line from shell strings/numbers.
emit() {
  "$PYTHON" - "$@" >>"$JSONL" <<'EOF'
import json, sys
a = sys.argv[1:]
d = {"round": int(a[0]), "kind": a[1]}
for k, v in zip(a[2::2], a[3::2]):
    try: d[k] = float(v) if any(c in v for c in ".e") else int(v)
    except ValueError: d[k] = v
print(json.dumps(d))
EOF
}

tformer_json() {  # ROUND KIND ARGS... : tformer bench --json, tagged.
  local round=$1 kind=$2; shift 2
  local out
  out=$("$TFORMER" bench "$@" --json 2>>"$ERRLOG") || { log "tformer bench $* failed (see $ERRLOG)"; return 1; }
  echo "$out" | tail -n 1 | sed "s/^{/{\"round\":$round,\"kind\":\"$kind\",/" >>"$JSONL"
}

for ((r = 1; r <= ROUNDS; r++)); do
  log "round $r/$ROUNDS: triad"
  while read -r _ th bw _; do
    emit "$r" triad threads "${th//[^0-9]/}" gb_s "$bw"
  done < <("$ANCHOR_BUILD/triad" | grep '^triad')

  for t in $THREADS; do
    for d in $DTYPES; do
      log "round $r/$ROUNDS: tformer GPT-2 small $d, $t thread(s)"
      tformer_json "$r" gpt2_tformer --model "$GPT2_DIR" --prompt-tokens 128 --new-tokens 128 \
        --batch 1 --threads "$t" --dtype "$d" --runs "$GPT2_RUNS" --warmup 1
    done
    # PyTorch's configurations at this thread count (torch threads, OpenBLAS threads).
    if [[ $t == 1 ]]; then cfgs="1:1"; else cfgs="1:$t $t:$t"; fi
    for c in $cfgs; do
      tt=${c%%:*} ob=${c##*:}
      log "round $r/$ROUNDS: PyTorch GPT-2 small, torch $tt + OpenBLAS $ob"
      line=$(env ${PT_CORETYPE:+OPENBLAS_CORETYPE=$PT_CORETYPE} OPENBLAS_NUM_THREADS=$ob "$PYTHON" "$ANCHORS_DIR/torch_gpt2.py" "$tt" 2>>"$ERRLOG" | grep '^torch gpt2') \
        || { log "torch_gpt2.py failed (see $ERRLOG)"; continue; }
      pf_ms=$(sed -E 's/.*prefill 128 tok ([0-9.]+) ms.*/\1/' <<<"$line")
      dec=$(sed -E 's/.*decode ([0-9.]+) tok\/s.*/\1/' <<<"$line")
      emit "$r" gpt2_torch threads "$t" torch_threads "$tt" openblas_threads "$ob" \
        prefill_ms "$pf_ms" decode_tok_s "$dec"
    done
  done

  log "round $r/$ROUNDS: stories260K, tformer and run.c"
  tformer_json "$r" stories_tformer --model "$STORIES_MODEL" --prompt-tokens 5 --new-tokens 251 \
    --batch 1 --threads 1 --runs "$STORIES_RUNS" --warmup 1
  for ((k = 1; k <= RUNC_REPEATS; k++)); do
    tok_s=$("$ANCHOR_BUILD/run" "$RUNC_MODEL" -z "$RUNC_TOK" -t 0 -n 256 -i "Once upon a time" 2>&1 >/dev/null \
      | sed -nE 's/.*achieved tok\/s: ([0-9.]+).*/\1/p')
    emit "$r" stories_runc tok_s "$tok_s"
  done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- summary ----------------------------------------------------------------
"$PYTHON" - "$JSONL" "$LOAD_BEFORE" "$LOAD_AFTER" "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" >"$TABLE_MD" <<'EOF'
import json, statistics as st, sys, subprocess
path, load_before, load_after, commit = sys.argv[1:5]
rows = [json.loads(l) for l in open(path) if l.strip()]
def sel(kind, **kw): return [r for r in rows if r["kind"] == kind and all(r.get(k) == v for k, v in kw.items())]
med = st.median
def rng(xs): return f"{min(xs):.1f}–{max(xs):.1f}" if len(xs) > 1 else f"{xs[0]:.1f}"
def mark(ok): return "✓" if ok else "✗"
cpu = next((l.split(":", 1)[1].strip() for l in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
            if l.startswith("Model name")), "?")
rounds = sorted({r["round"] for r in rows})
ths = sorted({r["threads"] for r in sel("gpt2_tformer")})
out = []
p = out.append
p(f"Commit {commit}, {cpu}, {len(rounds)} round(s); load average before / after: {load_before} / {load_after}.")
p("")
p("Memory bandwidth (triad, best of 5 per round): " + "; ".join(
    f"{t} thread(s) best {max(r['gb_s'] for r in sel('triad', threads=t)):.1f} GB/s (rounds {rng([r['gb_s'] for r in sel('triad', threads=t)])})"
    for t in sorted({r['threads'] for r in sel('triad')})) + ".")
p("")
p("GPT-2 small, prompt 128 + 128 new tokens, batch 1. tformer: best run's tok/s (median of runs in brackets), "
  "best over rounds, per-round bests' range after it. PyTorch: torch_gpt2.py's best of 3, best over rounds.")
p("")
p("| engine | threads | dtype | decode tok/s best (median) [rounds] | prefill tok/s best (median) [rounds] | weight MB/token |")
p("|---|---:|---|---:|---:|---:|")
torch_best = {}
for t in ths:
    for d in sorted({r["dtype"] for r in sel("gpt2_tformer", threads=t)}, key=lambda x: ["fp32", "bf16", "int8"].index(x)):
        rs = sel("gpt2_tformer", threads=t, dtype=d)
        p(f"| tformer | {t} | {d} | {max(r['decode_tok_s'] for r in rs):.1f} ({med([r['decode_tok_s_median'] for r in rs]):.1f}) [{rng([r['decode_tok_s'] for r in rs])}]"
          f" | {max(r['prefill_tok_s'] for r in rs):.0f} ({med([r['prefill_tok_s_median'] for r in rs]):.0f}) [{rng([r['prefill_tok_s'] for r in rs])}]"
          f" | {rs[0]['weight_mb_per_token']:.0f} |")
    cfgs = sorted({(r["torch_threads"], r["openblas_threads"]) for r in sel("gpt2_torch", threads=t)})
    best = None
    for tt, ob in cfgs:
        rs = sel("gpt2_torch", threads=t, torch_threads=tt, openblas_threads=ob)
        dec = max(r["decode_tok_s"] for r in rs); pf = 128e3 / min(r["prefill_ms"] for r in rs)
        p(f"| PyTorch torch {tt} + OpenBLAS {ob} | {t} | fp32 | {dec:.1f} [{rng([r['decode_tok_s'] for r in rs])}]"
          f" | {pf:.0f} [{rng([128e3 / r['prefill_ms'] for r in rs])}] | |")
        if best is None or dec > best[0]: best = (dec, pf, tt, ob)
    # prefill best may come from another config than decode best
    pf_best = max((128e3 / min(r["prefill_ms"] for r in sel("gpt2_torch", threads=t, torch_threads=tt, openblas_threads=ob)), tt, ob) for tt, ob in cfgs)
    torch_best[t] = {"decode": best[0], "decode_cfg": best[2:], "prefill": pf_best[0], "prefill_cfg": pf_best[1:]}
p("")
p("PyTorch best at each thread count: " + "; ".join(
    f"{t} thread(s): decode torch {v['decode_cfg'][0]} + OpenBLAS {v['decode_cfg'][1]}, prefill torch {v['prefill_cfg'][0]} + OpenBLAS {v['prefill_cfg'][1]}"
    for t, v in torch_best.items()) + ".")
p("")
p("| ratio | threads | value [per-round range] | goal | met |")
p("|---|---:|---:|---:|:-:|")
tri = {t: max(r["gb_s"] for r in sel("triad", threads=t)) for t in {r["threads"] for r in sel("triad")}}
def per_round(f):
    vals = []
    for rd in rounds:
        try: vals.append(f(rd))
        except (ValueError, KeyError, ZeroDivisionError, StopIteration): pass
    return vals
def rr(vals): return f" [{min(vals):.2f}–{max(vals):.2f}]" if len(vals) > 1 else ""
for t in ths:
    fp = sel("gpt2_tformer", threads=t, dtype="fp32")
    bf = sel("gpt2_tformer", threads=t, dtype="bf16")
    if fp and t in torch_best:
        v = max(r["decode_tok_s"] for r in fp) / torch_best[t]["decode"]
        pr = per_round(lambda rd: max(r["decode_tok_s"] for r in sel("gpt2_tformer", threads=t, dtype="fp32", round=rd))
                       / max(r["decode_tok_s"] for r in sel("gpt2_torch", threads=t, round=rd)))
        p(f"| tformer fp32 decode / PyTorch best decode | {t} | {v:.2f}{rr(pr)} | ≥ 3 | {mark(v >= 3)} |")
    if bf and t in torch_best:
        v = max(r["decode_tok_s"] for r in bf) / torch_best[t]["decode"]
        p(f"| tformer bf16 decode / PyTorch best decode (fp32) | {t} | {v:.2f} | (info) | |")
    if fp and t in tri:
        bound = tri[t] * 1e3 / fp[0]["weight_mb_per_token"]
        v = max(r["decode_tok_s"] for r in fp) / bound
        pr = per_round(lambda rd: max(r["decode_tok_s"] for r in sel("gpt2_tformer", threads=t, dtype="fp32", round=rd))
                       / (max(r["gb_s"] for r in sel("triad", threads=t, round=rd)) * 1e3 / fp[0]["weight_mb_per_token"]))
        p(f"| tformer fp32 decode / bandwidth bound ({tri[t]:.1f} GB/s ÷ {fp[0]['weight_mb_per_token']:.0f} MB = {bound:.1f} tok/s) | {t} | {v:.2f}{rr(pr)} | ≥ 0.85 | {mark(v >= 0.85)} |")
    if bf and t in tri:
        bound = tri[t] * 1e3 / bf[0]["weight_mb_per_token"]
        v = max(r["decode_tok_s"] for r in bf) / bound
        p(f"| tformer bf16 decode / bandwidth bound ({bound:.1f} tok/s at {bf[0]['weight_mb_per_token']:.0f} MB) | {t} | {v:.2f} | (info) | |")
    if fp and bf:
        v = max(r["decode_tok_s"] for r in bf) / max(r["decode_tok_s"] for r in fp)
        pr = per_round(lambda rd: max(r["decode_tok_s"] for r in sel("gpt2_tformer", threads=t, dtype="bf16", round=rd))
                       / max(r["decode_tok_s"] for r in sel("gpt2_tformer", threads=t, dtype="fp32", round=rd)))
        p(f"| tformer bf16 decode / fp32 decode | {t} | {v:.2f}{rr(pr)} | ≥ 1.7 | {mark(v >= 1.7)} |")
    for d, rs in (("fp32", fp), ("bf16", bf)):
        if rs and t in torch_best:
            v = max(r["prefill_tok_s"] for r in rs) / torch_best[t]["prefill"]
            pr = per_round(lambda rd: max(r["prefill_tok_s"] for r in sel("gpt2_tformer", threads=t, dtype=d, round=rd))
                           / max(128e3 / r["prefill_ms"] for r in sel("gpt2_torch", threads=t, round=rd)))
            goal = "≥ 1.5" if d == "fp32" else "(info)"
            p(f"| tformer {d} prefill / PyTorch best prefill (fp32) | {t} | {v:.2f}{rr(pr)} | {goal} | {mark(v >= 1.5) if d == 'fp32' else ''} |")
st_t, st_c = sel("stories_tformer"), sel("stories_runc")
if st_t and st_c:
    tb = max(r["decode_tok_s"] for r in st_t); cb = max(r["tok_s"] for r in st_c)
    pr = per_round(lambda rd: max(r["decode_tok_s"] for r in sel("stories_tformer", round=rd)) / max(r["tok_s"] for r in sel("stories_runc", round=rd)))
    p(f"| stories260K tformer decode / run.c (tformer {tb:.0f} tok/s, median {med([r['decode_tok_s_median'] for r in st_t]):.0f}; "
      f"run.c {cb:.0f} tok/s, median {med([r['tok_s'] for r in st_c]):.0f}) | 1 | {tb / cb:.2f}{rr(pr)} | ≥ 2 | {mark(tb / cb >= 2)} |")
print("\n".join(out))
EOF
cat "$TABLE_MD"
log "table: $TABLE_MD"
