#!/usr/bin/python3
"""What the benchmark scripts' reports share (scripts/bench_bert.sh,
scripts/bench_bert_train.sh, scripts/bench_gemm.sh).

Each script writes its raw results as JSON lines, then turns them into a
markdown section with a python heredoc that imports this module
(`sys.path.insert(0, "tools"); import bench_report`) for the parts every
report has: the "Measured ..." line (date, CPU, tformer's commit and GEMM
backend, load average), the busy-machine warning, PyTorch's thread
configurations, the commands block and the raw-results line. The section goes
into BENCHMARKS.md between the script's markers with

  /usr/bin/python3 tools/bench_report.py write-section FILE MARKER HEADING TABLE_FILE
      [--intro TEXT] [--after MARKER]

which replaces what lies between <!-- MARKER:begin --> and <!-- MARKER:end -->
(atomically); without the markers it adds "## HEADING", the intro text and the
markers, placed before the first "## " heading that follows <!-- AFTER:end -->
(else at the end of the file).

The scripts pass what they measured in bash through the environment:
LOAD_BEFORE, LOAD_AFTER (/proc/loadavg's first three fields), BUILD_DIR,
JSONL, and the settings named in their `defaults`.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys


# ----------------------------------------------------------------- inputs

def load_rows(path):
    """The JSON lines of a results file."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def inputs():
    """(os.environ, the rows of the results file $JSONL): a report's start."""
    return os.environ, load_rows(os.environ["JSONL"])


def machine_info():
    """CPU model (from /proc/cpuinfo, with family and model numbers), the CPUs
    this process may use, and the short commit (marked when src/ or
    CMakeLists.txt have uncommitted changes)."""
    fields = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    break  # the first processor is enough
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    cpu = fields.get("model name", "unknown CPU")
    if "cpu family" in fields and "model" in fields:
        cpu += f", family {fields['cpu family']} model {fields['model']}"
    try:
        ncpu = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        ncpu = os.cpu_count() or 1

    def git(*args):
        try:
            return subprocess.run(["git", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--", "src", "CMakeLists.txt"):
        commit += " + uncommitted changes"
    return {"cpu": cpu, "ncpu": ncpu, "commit": commit}


# ----------------------------------------------------------------- PyTorch's configurations

THREAD_CONFIGS = {"torch1-blasT": "torch 1 thr + OpenBLAS {t}", "torchT-blas1": "torch {t} thr + OpenBLAS 1"}


def coretype_name(r):
    """OPENBLAS_CORETYPE as the run had it, and the kernels OpenBLAS picked."""
    ct = r.get("openblas_coretype")
    s = f"OPENBLAS_CORETYPE={ct}" if ct else "OPENBLAS_CORETYPE unset"
    return s + (f" → {r['openblas_core']} kernels" if r.get("openblas_core") else "")


def cfg_name(r, coretype=False):
    """A PyTorch result's configuration in words: its thread split and, with
    coretype=True, its OPENBLAS_CORETYPE."""
    s = THREAD_CONFIGS[r.get("best_of", r["config"])].format(t=r["threads"])
    return s + (", " + coretype_name(r) if coretype else "")


def fastest_of_rounds(rows):
    """One row per measurement: where a script ran its interleaved sequence in
    several rounds, each engine and configuration keeps its round with the
    lowest median (the same rule for every engine). Rows keep their order."""
    ident = lambda r: (r.get("engine"), r.get("mode"), r.get("shape"), r.get("batch"), r.get("seq"), r.get("threads"),
                       r.get("dtype", "fp32"), r.get("config"), r.get("openblas_coretype"))
    fastest = {}
    for r in rows:
        k = ident(r)
        if k not in fastest or r.get("median_ms", float("inf")) < fastest[k].get("median_ms", float("inf")):
            fastest[k] = r
    kept = {id(r) for r in fastest.values()}
    return [r for r in rows if id(r) in kept]


def pytorch_by_key(rows, key):
    """{key(r): {"best": the "best" row, "configs": the other rows}} over the
    PyTorch rows (tools/torch_bert_bench.py's output)."""
    out = {}
    for r in rows:
        if r.get("engine") == "pytorch":
            entry = out.setdefault(key(r), {"best": None, "configs": []})
            if r["config"] == "best":
                entry["best"] = r
            else:
                entry["configs"].append(r)
    return out


def best_and_others(entry):
    """(best row or None, the configurations other than the best)."""
    best = entry.get("best") if entry else None
    if not best:
        return None, []
    same = lambda r: (r["config"] == best["best_of"]
                      and r.get("openblas_coretype") == best.get("openblas_coretype"))
    return best, [r for r in entry["configs"] if not same(r)]


def pytorch_cells(entry, coretype=False):
    """(best row, its "median (min), config" cell, the other configurations'
    cell) for one key of pytorch_by_key; (None, "n/a", "n/a") without results."""
    best, others = best_and_others(entry)
    if not best:
        return None, "n/a", "n/a"
    return best, f"{ms(best)}, {cfg_name(best, coretype)}", others_cell(others, coretype)


def ms(r):
    """"median (min)" of a result, in ms."""
    return f"{r['median_ms']:.1f} ({r['min_ms']:.1f})"


def others_cell(others, coretype=False):
    """The other configurations' medians, for a table cell."""
    if not others:
        return "(same config)"
    return "; ".join(f"{r['median_ms']:.1f} ({cfg_name(r, coretype)})" for r in others)


def target_mark(value, limit, at_most=True):
    """✓ when value meets the target (<= limit, or >= with at_most=False), else ✗."""
    ok = value <= limit if at_most else value >= limit
    return "✓" if ok else "✗"


def ratio_cell(row, ref, target):
    """"R ✓" / "R ✗": row's median over ref's against the target (at most);
    "n/a" without ref."""
    if not ref:
        return "n/a"
    r = row["median_ms"] / ref["median_ms"]
    return f"{r:.2f} {target_mark(r, target)}"


def logits_delta(row, ref):
    """The largest |Δ| between two results' logits (of the first sequence),
    for a table cell; "n/a" without ref."""
    if not ref:
        return "n/a"
    return f"{max(abs(a - b) for a, b in zip(row['logits'], ref['logits'])):.1e}"


def gflops(row):
    """GFLOP/s of a `tformer bench --json` result (its gflop_per_seq × batch / median)."""
    return row["gflop_per_seq"] * row["batch"] / (row["median_ms"] / 1e3)


# ----------------------------------------------------------------- the report's lines

def tformer_backend(tf_row):
    """tformer's GEMM backend as `tformer bench --json` reports it."""
    if tf_row and tf_row.get("gemm"):
        return f"GEMM: {tf_row['gemm']}"
    return f"{(tf_row or {}).get('isa', '?')} kernels"


def measured_line(tf_row, engines="", elapsed_s=None, info=None):
    """"Measured DATE UTC on CPU (N CPUs), tformer COMMIT (GEMM: ...)ENGINES[, in X min].
    Load average before / after: ... / ...."; engines is appended as it is
    (e.g. ", PyTorch 1.13.0a0")."""
    env = os.environ
    info = info or machine_info()
    s = (f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on "
         f"{info['cpu']} ({info['ncpu']} CPUs), tformer {info['commit']} ({tformer_backend(tf_row)}){engines}")
    if elapsed_s is not None:
        s += f", in {float(elapsed_s) / 60:.1f} min"
    return s + f". Load average before / after: {env['LOAD_BEFORE']} / {env['LOAD_AFTER']}."


def busy_lines(compare="compare the engines by the ratio of this same run", info=None):
    """A warning paragraph (with a blank line before it) when the 1-minute load
    average before or after the run was above the CPU count; else nothing."""
    env = os.environ
    ncpu = (info or machine_info())["ncpu"]
    try:
        busy = any(float(env[k].split()[0]) > ncpu for k in ("LOAD_BEFORE", "LOAD_AFTER"))
    except (KeyError, IndexError, ValueError):
        busy = False
    if not busy:
        return []
    return ["", f"**The machine was busy** (load average above its {ncpu} CPUs, other processes running): "
                f"absolute numbers are inflated and noisy; {compare}."]


def script_command(script, defaults, show_env=()):
    """The script's command line as this run was invoked: the variables in
    show_env that are set, the settings in `defaults` ({NAME: default}) that
    differ from their default, BUILD_DIR, the script."""
    env = os.environ
    quote = lambda v: json.dumps(v) if (" " in v or not v) else v
    parts = [f"{k}={quote(env[k])}" for k in show_env if k in env]
    parts += [f"{k}={quote(env[k])}" for k, d in defaults.items() if env.get(k, d) != d]
    parts.append(f"BUILD_DIR={env['BUILD_DIR']}")
    return " ".join(parts) + f" {script}"


def commands_lines(intro, script, defaults, commands, show_env=()):
    """The "Commands ..." paragraph, a sh block (the script's command, then
    `commands`) and the raw-results line."""
    return [intro, "", "```sh", script_command(script, defaults, show_env) + "   # does all of the below",
            *commands, "```", "", raw_results_line()]


def raw_results_line():
    return f"Raw results: `{os.path.relpath(os.environ['JSONL'])}` (JSON lines, not committed)."


# ----------------------------------------------------------------- BENCHMARKS.md

def write_section(path, marker, heading, table, intro="", after=None):
    """Replaces the text between the markers in `path` with `table`; without
    the markers, adds "## heading", `intro` and the markers before the first
    "## " heading after <!-- after:end --> (else at the end)."""
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    text = open(path, encoding="utf-8").read() if os.path.exists(path) else "# Benchmarks\n"
    block = f"{begin}\n{table.rstrip()}\n{end}"
    if begin in text and end in text and text.index(begin) < text.index(end):
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        section = f"## {heading}\n\n" + (intro.rstrip() + "\n\n" if intro.strip() else "") + block + "\n"
        anchor = f"<!-- {after}:end -->" if after else None
        at = -1
        if anchor and anchor in text:
            at = text.find("\n## ", text.index(anchor))
        if at >= 0:
            text = text[:at + 1] + section + "\n" + text[at + 1:]
        else:
            text = text.rstrip("\n") + "\n\n" + section
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write-section", help="put TABLE_FILE's text between MARKER's markers in FILE")
    w.add_argument("file")
    w.add_argument("marker")
    w.add_argument("heading")
    w.add_argument("table_file")
    w.add_argument("--intro", default="", help="text between the heading and the markers, for a new section")
    w.add_argument("--after", help="a new section goes after the section with this marker")
    a = p.parse_args(argv)
    with open(a.table_file, encoding="utf-8") as f:
        table = f.read()
    write_section(a.file, a.marker, a.heading, table, a.intro, a.after)


if __name__ == "__main__":
    main(sys.argv[1:])
