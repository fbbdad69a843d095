#!/usr/bin/env bash
# All the tests: install what is missing, build, and run the GoogleTest suite through CTest.
set -euo pipefail
cd "$(dirname "$0")"
tools/setup.sh
ctest --test-dir build --output-on-failure -j"$(nproc)"
