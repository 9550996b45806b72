#!/usr/bin/env bash
# Installs the Debian 12 packages nnjit needs to build, test and benchmark.
# Idempotent: installs only what is missing. Run as root (or with sudo available).
set -euo pipefail

packages=(
  build-essential cmake pkg-config binutils
  libcpuinfo-dev libxbyak-dev libgtest-dev libbenchmark-dev
  libpthreadpool-dev
)
if [[ "${NNJIT_SETUP_BENCH:-0}" == 1 ]]; then
  packages+=(libdnnl-dev libopenblas-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all packages present"
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
