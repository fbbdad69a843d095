#!/usr/bin/env bash
# The main job: install what is missing, build, and train MMoE on UCI Census-Income (KDD), Group 1
# (income > 50K and never married, as in the paper), printing the per-task test AUCs.
set -euo pipefail
cd "$(dirname "$0")"
MMOE_TARGET=mmoe_cli tools/setup.sh
mkdir -p out
build/mmoe train --preset census-income-1 --out out/census-mmoe.mmoe --metrics-out out/census-metrics.json "$@"
