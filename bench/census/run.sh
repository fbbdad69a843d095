#!/bin/sh
# The paper's Census-Income experiment (Ma et al. 2018, Sec. 6.3): single-task, Shared-Bottom, OMoE and MMoE on
# both task groups, hyper-parameters chosen on the main task's validation AUC, then >= 10 seeds each; writes the
# tables to docs/census.md. Resumes from bench/census/results/runs.jsonl (finished runs are not repeated).
#   bench/census/run.sh                 # everything (builds build/mmoe first if it is missing)
#   bench/census/run.sh --phase report  # only rewrite docs/census.md from the stored runs
#   MMOE=/tmp/build/mmoe bench/census/run.sh --groups 1 --models mmoe --seeds 10
# Options: bench/census/census_bench.py --help. Needs python3 (standard library only).
set -eu
cd "$(dirname "$0")/../.."
case " $* " in *" --phase report "*|*" --phase=report "*) exec python3 bench/census/census_bench.py "$@" ;; esac
if [ -z "${MMOE:-}" ]; then
  MMOE="$PWD/build/mmoe"
  if [ ! -x "$MMOE" ]; then
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
    cmake --build build --target mmoe_cli
  fi
fi
exec python3 bench/census/census_bench.py --mmoe "$MMOE" "$@"
