#!/usr/bin/env bash
# Installs what tformer needs to build and test, from Debian 12's packages.
# Idempotent: installs only what is missing. Run as root (or with sudo).
#
#   scripts/setup.sh           build and test dependencies
#   scripts/setup.sh --bench   also what the benchmark scripts compare against:
#                              PyTorch (python3-torch), oneDNN (libdnnl-dev), node +
#                              npm, and ONNX Runtime (npm's onnxruntime-node, into
#                              tools/ort/, git-ignored)
#   scripts/setup.sh --fuzz    also clang and libFuzzer, for scripts/fuzz.sh
set -euo pipefail
packages=(g++ cmake ninja-build pkg-config libutf8proc-dev
          nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev zlib1g-dev
          libpng-dev libjpeg62-turbo-dev)
bench=0
if [ "${1:-}" = "--fuzz" ]; then
  packages+=(clang libclang-rt-14-dev)
fi
if [ "${1:-}" = "--bench" ]; then
  bench=1
  packages+=(python3-torch libdnnl-dev)
  # node and npm from Debian, unless some node is on the PATH already.
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
else
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

if [ "$bench" = 1 ]; then
  # ONNX Runtime for scripts/bench_bert.sh (with ../shared/anchors/ort_bert.js).
  # --ignore-scripts: the package's install script would download a GPU build;
  # the CPU library ships inside the package.
  ort_dir="$(cd "$(dirname "$0")/.." && pwd)/tools/ort"
  ort_version=${ORT_NPM_VERSION:-1.30.0}
  if NODE_PATH="$ort_dir/node_modules" node -e "require('onnxruntime-node')" 2>/dev/null; then
    echo "setup: onnxruntime-node present in tools/ort"
  else
    echo "setup: installing onnxruntime-node@$ort_version into tools/ort"
    mkdir -p "$ort_dir"
    npm install --prefix "$ort_dir" --ignore-scripts --no-audit --no-fund "onnxruntime-node@$ort_version"
  fi
fi
