#!/usr/bin/env bash
# All the tests: install what is missing, build, and run the GoogleTest suite through CTest.
set -euo pipefail
cd "$(dirname "$0")"
tools/setup.sh
# The sample-data tests find ../shared/data through MMOE_SHARED_DATA (also for a clone made elsewhere).
MMOE_SHARED_DATA=${MMOE_SHARED_DATA:-$(tools/find_shared_data.sh)}
export MMOE_SHARED_DATA
ctest --test-dir build --output-on-failure -j"$(nproc)"
