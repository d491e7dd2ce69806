#!/usr/bin/env bash
# Installs what tformer needs to build and test, from Debian 12's packages.
# Idempotent: installs only what is missing. Run as root (or with sudo).
set -euo pipefail
packages=(g++ cmake ninja-build pkg-config libopenblas-pthread-dev libutf8proc-dev
          nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev zlib1g-dev)
if [ "${1:-}" = "--bench" ]; then packages+=(python3-torch); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
