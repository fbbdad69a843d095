#!/usr/bin/env bash
# Installs what mmoe needs from Debian 12's packages (only what is missing) and builds it into build/.
# Usage: tools/setup.sh [extra cmake args...]   (MMOE_BUILD_DIR overrides build/; MMOE_TARGET builds one target)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake ninja-build pkg-config libeigen3-dev libdnnl-dev libcli11-dev libtomlplusplus-dev
          nlohmann-json3-dev zlib1g-dev libgtest-dev libbenchmark-dev
          ocl-icd-opencl-dev gnuplot-nox)  # OpenCL: oneDNN's CMake config needs it; gnuplot: `mmoe experiment` figures
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

build_dir="${MMOE_BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$build_dir" -j"$(nproc)" ${MMOE_TARGET:+--target "$MMOE_TARGET"}
