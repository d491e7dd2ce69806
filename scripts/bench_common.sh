# Helpers shared by the benchmark scripts (bench_bert.sh, bench_bert_train.sh).
# Source it from the repository root after setting BENCH_NAME (for messages):
#
#   BENCH_NAME=bench_bert; source scripts/bench_common.sh

bench_log() { echo "${BENCH_NAME:-bench}: $*" >&2; }

# bench_build_tformer BUILD_DIR: builds tformer_cli there (Release) unless it is
# up to date; sets TFORMER to the binary.
bench_build_tformer() {
  local dir=$1
  if [[ ! -x "$dir/tformer" ]] || ! ninja -C "$dir" -n tformer_cli 2>/dev/null | grep -q "no work to do"; then
    bench_log "building tformer in $dir"
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$dir" --target tformer_cli >&2
  fi
  TFORMER="$dir/tformer"
}

# bench_blas_cores TFORMER MODEL_DIR PYTHON: which OpenBLAS kernels each engine
# gets. OpenBLAS 0.3.21 does not recognise every new CPU and then falls back to
# its SSE3 "Prescott" kernels (about 4x slower than AVX-512 ones);
# OPENBLAS_CORETYPE=SkylakeX in the caller's environment reaches both engines.
# Sets TF_BLAS_CORE, PT_BLAS_CORE and BLAS_CORETYPE_ENV (the variable's value,
# or "unset").
bench_blas_cores() {
  local tformer=$1 model=$2 python=$3
  TF_BLAS_CORE=$(OPENBLAS_VERBOSE=2 "$tformer" bench --model "$model" --seq 8 --runs 1 --warmup 0 --threads 1 2>&1 \
    | sed -n 's/^Core: //p' | head -1)
  PT_BLAS_CORE=$(OPENBLAS_VERBOSE=2 "$python" -c "import torch; torch.ones(64, 64) @ torch.ones(64, 64)" 2>&1 \
    | sed -n 's/^Core: //p' | head -1)
  BLAS_CORETYPE_ENV=${OPENBLAS_CORETYPE-unset}
  bench_log "OpenBLAS kernels: tformer ${TF_BLAS_CORE:-?}, PyTorch ${PT_BLAS_CORE:-?} (OPENBLAS_CORETYPE=$BLAS_CORETYPE_ENV)"
}

# bench_machine_info: sets CPU_MODEL, NCPU and COMMIT (short hash, marked when
# src/ or CMakeLists.txt have uncommitted changes).
bench_machine_info() {
  CPU_MODEL="$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1), family $(lscpu | sed -n 's/^CPU family:[[:space:]]*//p' | head -1) model $(lscpu | sed -n 's/^Model:[[:space:]]*//p' | head -1)"
  NCPU=$(nproc)
  COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [[ -n "$(git status --porcelain -- src CMakeLists.txt 2>/dev/null)" ]]; then COMMIT="$COMMIT + uncommitted changes"; fi
}

# bench_write_section FILE MARKER HEADING TABLE_FILE: replaces what lies between
# <!-- MARKER:begin --> and <!-- MARKER:end --> in FILE with TABLE_FILE's text
# (atomically); without the markers, appends them under "## HEADING".
bench_write_section() {
  local file=$1 marker=$2 heading=$3 table=$4
  "${PYTHON:-/usr/bin/python3}" - "$file" "$marker" "$heading" "$table" <<'EOF'
import os, sys
path, marker, heading, table_file = sys.argv[1:5]
table = open(table_file, encoding="utf-8").read().rstrip("\n")
BEGIN, END = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
text = open(path, encoding="utf-8").read() if os.path.exists(path) else "# Benchmarks\n"
block = f"{BEGIN}\n{table}\n{END}"
if BEGIN in text and END in text and text.index(BEGIN) < text.index(END):
    text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
else:
    text = text.rstrip("\n") + f"\n\n## {heading}\n\n" + block + "\n"
tmp = path + ".tmp"
with open(tmp, "w", encoding="utf-8") as f:
    f.write(text)
os.replace(tmp, path)
EOF
  bench_log "wrote the table into $file"
}
