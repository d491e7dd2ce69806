# shellcheck shell=bash disable=SC2034
# Helpers shared by the benchmark scripts (bench_bert.sh, bench_bert_train.sh,
# bench_gemm.sh). Source it from the repository root after setting BENCH_NAME
# (for messages):
#
#   BENCH_NAME=bench_bert; source scripts/bench_common.sh
#
# The reports' shared python lives in tools/bench_report.py.

# The settings every script takes from the environment, with their defaults
# (each script's header lists them with its own).
BUILD_DIR=${BUILD_DIR:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
THREADS=${THREADS:-"1 2"}
RUNS=${RUNS:-10}
WARMUP=${WARMUP:-2}
OUT_MD=${OUT_MD:-BENCHMARKS.md}
ANCHORS_DIR=${ANCHORS_DIR:-../shared/anchors}

bench_log() { echo "${BENCH_NAME:-bench}: $*" >&2; }

# bench_build_tformer BUILD_DIR: builds tformer_cli there (Release) unless it is
# up to date; sets TFORMER to the binary. A TFORMER already set in the
# environment is used as it is, with no build.
bench_build_tformer() {
  local dir=$1
  if [[ -n "${TFORMER:-}" ]]; then
    [[ -x "$TFORMER" ]] || { bench_log "TFORMER=$TFORMER is not an executable"; return 1; }
    bench_log "using $TFORMER as it is (TFORMER is set)"
    return 0
  fi
  if [[ ! -x "$dir/tformer" ]] || ! ninja -C "$dir" -n tformer_cli 2>/dev/null | grep -q "no work to do"; then
    bench_log "building tformer in $dir"
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$dir" --target tformer_cli >&2
  fi
  TFORMER="$dir/tformer"
}

# bench_results_file NAME: creates $BUILD_DIR/bench-results/NAME-STAMP.jsonl
# (empty); sets RESULTS_DIR, STAMP, JSONL and TABLE_MD (the .md beside it).
bench_results_file() {
  RESULTS_DIR="$BUILD_DIR/bench-results"
  mkdir -p "$RESULTS_DIR"
  STAMP=$(date -u +%Y%m%dT%H%M%SZ)
  JSONL="$RESULTS_DIR/$1-$STAMP.jsonl"
  TABLE_MD="$RESULTS_DIR/$1-$STAMP.md"
  : >"$JSONL"
}

# bench_tag ENGINE [MORE]: puts "engine":ENGINE (and the JSON fields MORE, which
# ends in a comma) first in each JSON line of its input.
bench_tag() { sed "s/^{/{\"engine\":\"$1\",${2:-}/"; }

# bench_loadavg: the 1-, 5- and 15-minute load averages.
bench_loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# bench_publish MARKER HEADING [--intro TEXT] [--after MARKER]: prints $TABLE_MD and,
# unless NO_WRITE is set, puts it between <!-- MARKER:begin --> and
# <!-- MARKER:end --> in $OUT_MD (atomically); without the markers, adds them
# under "## HEADING" (see tools/bench_report.py).
bench_publish() {
  cat "$TABLE_MD"
  [[ -z "${NO_WRITE:-}" ]] || return 0
  "$PYTHON" tools/bench_report.py write-section "$OUT_MD" "$1" "$2" "$TABLE_MD" "${@:3}"
  bench_log "wrote the table into $OUT_MD"
}
