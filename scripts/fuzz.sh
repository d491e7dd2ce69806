#!/usr/bin/env bash
# libFuzzer targets (fuzz/*.cpp) under AddressSanitizer + UBSan, built with
# clang into ./build-fuzz. For each target: replays fuzz/regressions/TARGET/
# (inputs that once crashed) and the seed corpus fuzz/corpus/TARGET/, then
# fuzzes it for SECONDS from a working copy of the corpus.
#
#   scripts/fuzz.sh [--jobs N] [--replay-only] [TARGET|all] [SECONDS]   (all, 60 s by default)
#   scripts/fuzz.sh --list                                              the targets
#
# --jobs N (or TFORMER_FUZZ_JOBS=N) handles N targets at a time (default 1).
# Everything it writes is under build-fuzz/: logs/TARGET.log (the fuzzing
# run), logs/TARGET.replay.log, corpus/TARGET/ (the working corpus, grown by
# each run), artifacts/TARGET/ (crashing inputs found). Exits non-zero when an
# input replayed fails or fuzzing finds anything.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=$ROOT/build-fuzz

usage() { sed -n '2,15s/^# \{0,1\}//p' "$0"; }
die() { echo "fuzz.sh: $*" >&2; exit 2; }
all_targets() { for source in fuzz/*.cpp; do basename "$source" .cpp; done; }

parallel=${TFORMER_FUZZ_JOBS:-1}
replay_only=0
positional=()
while (($#)); do
  case "$1" in
    --list) all_targets; exit 0 ;;
    --jobs) (($# >= 2)) || die "--jobs needs a number"; parallel=$2; shift 2 ;;
    --jobs=*) parallel=${1#--jobs=}; shift ;;
    --replay-only) replay_only=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) positional+=("$1"); shift ;;
  esac
done
((${#positional[@]} <= 2)) || die "too many arguments (see --help)"
which=${positional[0]:-all}
seconds=${positional[1]:-60}
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || die "SECONDS must be a positive integer, not '$seconds'"
[[ $parallel =~ ^[0-9]+$ && $parallel -gt 0 ]] || die "--jobs must be a positive integer, not '$parallel'"
if [ "$which" = all ]; then
  mapfile -t targets < <(all_targets)
else
  [ -f "fuzz/$which.cpp" ] || die "no target '$which' (scripts/fuzz.sh --list names them)"
  targets=("$which")
fi

bash scripts/setup.sh --fuzz >&2
echo "== building ${#targets[@]} fuzz target(s) in build-fuzz/" >&2
CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DTFORMER_BUILD_FUZZERS=ON -DTFORMER_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" --target "${targets[@]}"

export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
LIMITS=(-rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10)
mkdir -p "$BUILD/logs" "$BUILD/results"

# What went wrong, from a sanitizer's or libFuzzer's report: its first line,
# and the innermost frame in tformer's sources (or the target's).
reason() {
  local log=$1 line="" frame
  for pattern in 'runtime error:' 'terminate called' 'ERROR: libFuzzer:' 'ERROR: AddressSanitizer' \
    'ERROR: LeakSanitizer' '^SUMMARY:' 'fuzz target setup failed'; do
    line=$(grep -m1 -a -E "$pattern" "$log" || true)
    [ -n "$line" ] && break
  done
  [ -n "$line" ] || line="exit status $2, no report (see the log)"
  line=$(echo "$line" | sed -E "s|$ROOT/||g; s/^==[0-9]+== ?//; s/^ +//; s/ on (unknown )?address .*//")
  frame=$(grep -a -E '^ +#[0-9]+ ' "$log" | grep -a -o -E '(src/tformer|fuzz)/[^ :]+\.(cpp|h):[0-9]+' |
    head -n1 || true)
  [ -n "$frame" ] && [[ $line != *"$frame"* ]] && line+=" [at $frame]"
  echo "$line" | cut -c1-240
}

# Runs each input once, alone (so that each failure is seen): the regression
# inputs, then the seed corpus. Appends what failed to the target's results.
replay() {
  local target=$1 results=$2 bin=$BUILD/fuzz/$1 log=$BUILD/logs/$1.replay.log
  local out=$BUILD/tmp/$target.replay.out failed=0 rc input kind count summary=""
  : >"$log"
  for kind in regressions corpus; do
    count=0
    local failed_before=$failed
    for input in "fuzz/$kind/$target"/*; do
      [ -f "$input" ] || continue
      count=$((count + 1))
      rc=0
      TMPDIR=$BUILD/tmp/$target timeout 300 "$bin" "${LIMITS[@]}" "$input" >"$out" 2>&1 || rc=$?
      { echo "===== $input: exit status $rc"; cat "$out"; } >>"$log"
      if ((rc != 0)); then
        failed=$((failed + 1))
        echo "    FAIL $input: $(reason "$out" "$rc")" >>"$results.details"
      fi
    done
    summary+="${summary:+, }$kind $((count - failed + failed_before))/$count ok"
  done
  echo "$summary" >"$results.replay"
  ((failed == 0))
}

# Fuzzes from build-fuzz/corpus/TARGET/ (seeded from fuzz/corpus/TARGET/).
fuzz() {
  local target=$1 results=$2 bin=$BUILD/fuzz/$1 log=$BUILD/logs/$1.log rc=0
  local corpus=$BUILD/corpus/$target artifacts=$BUILD/artifacts/$target dict=()
  mkdir -p "$corpus" "$artifacts"
  [ -d "fuzz/corpus/$target" ] && cp -n "fuzz/corpus/$target"/* "$corpus"/ 2>/dev/null
  [ -f "fuzz/dict/$target.dict" ] && dict=("-dict=fuzz/dict/$target.dict")
  local started=$SECONDS
  TMPDIR=$BUILD/tmp/$target "$bin" "${LIMITS[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    "${dict[@]}" -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1 || rc=$?
  local elapsed=$((SECONDS - started))
  local last execs speed new
  final_stat() { grep -a -m1 "^stat::$1:" "$log" | awk '{print $2}'; }
  execs=$(final_stat number_of_executed_units)
  speed=$(final_stat average_exec_per_sec)
  new=$(final_stat new_units_added)
  last=$(grep -a -E '^#[0-9]+.*cov: ' "$log" | tail -n1 || true)
  field() { echo "$last" | grep -o -E "$1: [0-9]+(/[0-9]+[a-zA-Z]*)?" | awk '{print $2}'; }
  local corp
  corp=$(field corp)
  printf 'fuzz %ss of %ss: execs %s (%s/s) cov %s ft %s corpus %s inputs, %s (%s new)' \
    "$elapsed" "$seconds" "${execs:-?}" \
    "${speed:-?}" "$(field cov)" "$(field ft)" "${corp%%/*}" "${corp#*/}" "${new:-?}" >"$results.fuzz"
  if ((rc != 0)); then
    local artifact
    artifact=$(grep -a -o -E 'Test unit written to [^ ]+' "$log" | tail -n1 |
      sed "s|Test unit written to ||; s|$ROOT/||")
    echo "    FOUND $(reason "$log" "$rc")${artifact:+ -> $artifact}" >>"$results.details"
    return 1
  fi
}

run_target() {
  local target=$1 results=$BUILD/results/$1 status=0
  rm -rf "$BUILD/tmp/$target" "$results".*
  mkdir -p "$BUILD/tmp/$target"
  echo "== $target: replaying$( ((replay_only)) || echo ", then fuzzing for ${seconds}s")" >&2
  replay "$target" "$results" || status=1
  if ((!replay_only)); then fuzz "$target" "$results" || status=1; fi
  echo "$status" >"$results.status"
}

running=0
for target in "${targets[@]}"; do
  if ((running >= parallel)); then
    wait -n || true
    running=$((running - 1))
  fi
  run_target "$target" &
  running=$((running + 1))
done
wait

echo
echo "== summary (logs in build-fuzz/logs/)"
failed=0
for target in "${targets[@]}"; do
  results=$BUILD/results/$target
  status=$(cat "$results.status" 2>/dev/null || echo 1)
  line="$(cat "$results.replay" 2>/dev/null)"
  ((replay_only)) || line+="; $(cat "$results.fuzz" 2>/dev/null)"
  printf '%-22s %-5s %s\n' "$target" "$([ "$status" = 0 ] && echo ok || echo FAIL)" "$line"
  [ -f "$results.details" ] && cat "$results.details"
  [ "$status" = 0 ] || failed=$((failed + 1))
done
if ((failed)); then
  echo "$failed of ${#targets[@]} target(s) failed"
  exit 1
fi
echo "all ${#targets[@]} target(s) passed"
