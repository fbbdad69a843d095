#!/usr/bin/env bash
# bench/run.sh: mmoe against the PyTorch peer, same run, same shapes; prints the tables of docs/benchmarks.md.
#
#   bench/run.sh                 # build (Release, -march=native) into build-bench/, run everything (~8 min)
#   BUILD=/tmp/b bench/run.sh    # another build directory
#   PEER=/path/torch_mmoe.py     # default ../shared/peers/torch_mmoe.py next to the repository
#   PEER_CORETYPE=Zen            # the peer's OpenBLAS kernels (default: SkylakeX with AVX-512, else Haswell)
#   MIN_TIME=0.15 REPEATS=3      # timing windows per measurement (seconds, count), for mmoe and the peer
#   PAIRS=11                     # rounds of the paired 1-thread / 2-thread / private-pair windows (part 3)
#
# Parts (all results go to $OUT as JSON lines, then bench/report.py prints the tables):
#   1. training throughput (forward + backward + Adam), Shared-Bottom / OMoE / MMoE, batch 1..4096, on the
#      paper config (d=100, 8x16, towers 8, 2 tasks), a census-sized dense config (d=500) and a wide one
#      (d=512, 8x256, towers 64): mmoe (bench/mmoe_throughput, 2 threads) and the peer's `throughput` mode,
#      naive and batched, as installed and with OPENBLAS_CORETYPE=$PEER_CORETYPE --threads 1 (its fastest setting)
#   2. inference: batch-1 latency p50/p99 (1 thread) and batch-4096 throughput (2 threads)
#   3. scaling: experts 4..64 and tasks 2..8 at batch 1024; 1 vs 2 threads at every batch (paper config),
#      and at batch 256-4096 in paired rounds against two private 1-thread trainers (mmoe_throughput threads);
#      and the GEMM ceiling of an MMoE step on this machine (bench/gemm_ceiling), for each config
#   4. end to end: census Group 1 epoch (MMoE 8x16, batch 256, median of 3) and `mmoe predict` on the census test file;
#      `mmoe train` on a 200,000-row synthetic CSV (5 epochs, batch 256) against the peer's synthetic mode
#      training the same model on the same number of rows (whole-process wall time), and a 50,000-row run
#      for the rows scaling.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
OUT=${OUT:-$BUILD/bench-results}
PEER=${PEER:-$ROOT/../shared/peers/torch_mmoe.py}
PY=/usr/bin/python3
MIN_TIME=${MIN_TIME:-0.15}
REPEATS=${REPEATS:-3}

# The peer's fastest OpenBLAS kernels: SkylakeX where the CPU has AVX-512 (Debian's OpenBLAS 0.3.21 does not
# recognise the Xeons and Zen 4 EPYCs this runs on and falls back to Prescott), Haswell (its AVX2 kernels)
# otherwise: forcing SkylakeX on a CPU without AVX-512 (the Zen 3 EPYC of 2026-12-01) dies of SIGILL.
if [ -z "${PEER_CORETYPE:-}" ]; then
  if grep -qw avx512f /proc/cpuinfo; then PEER_CORETYPE=SkylakeX; else PEER_CORETYPE=Haswell; fi
fi

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# The peer runs on Debian's PyTorch with OpenBLAS. Install them when missing, like tools/setup.sh. Without
# libopenblas0-pthread, python3-torch's BLAS dependency is met by the reference BLAS (libblas3), which made the
# peer 5x slower at batch 4096 in a measured run: an unfair comparison.
peer_packages=(python3-torch python3-numpy libopenblas0-pthread)
missing=()
for p in "${peer_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} (the PyTorch peer)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -z "${SKIP_BUILD:-}" ]; then  # SKIP_BUILD=1: reuse the binaries already in $BUILD
  log "build in $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMMOE_BUILD_TESTS=OFF >/dev/null
  cmake --build "$BUILD" -j2 --target mmoe_cli mmoe_throughput gemm_ceiling >/dev/null
fi
MMOE="$BUILD/mmoe"
TP="$BUILD/bench/mmoe_throughput"
rm -rf "$OUT" && mkdir -p "$OUT"
# mmoe does not use OpenMP (its own worker pool, src/core/worker_pool.*), so this concerns only the peer's PyTorch:
# libgomp's default barrier spins for milliseconds, which on a busy 2-core machine keeps the partner thread off
# the CPU (measured 18-24 ms a step instead of 0.25 ms, batch 256, load ~6); passive waiting avoids that cliff.
# The recorded results in docs/benchmarks.md used it (override: OMP_WAIT_POLICY=active bench/run.sh).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

{
  echo "{\"mode\":\"env\",\"omp_wait_policy\":\"$OMP_WAIT_POLICY\",\"commit\":\"$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo '+dirty')\",\"date\":\"$(date -u +%Y-%m-%dT%H:%MZ)\",\"cpu\":\"$(lscpu | sed -n 's/^Model name: *//p' | head -1) (family $(lscpu | sed -n 's/^CPU family: *//p'), model $(lscpu | sed -n 's/^Model: *//p'))\",\"cores\":$(nproc),\"load_before\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"peer_coretype\":\"$PEER_CORETYPE\"}"
} >"$OUT/env.jsonl"

# The host's steal time (/proc/stat: ticks the hypervisor gave this guest's vCPUs to others) over the mmoe and
# peer measurements, reported with the tables: on a shared host it says how much of a run was someone else's.
cpu_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $9 }' /proc/stat; }
read -r ticks0 steal0 < <(cpu_ticks)

# ---- 1 + 2: mmoe ----------------------------------------------------------------------------------------
CONFIGS=("paper --d 100 --experts 8 --units 16 --tower 8" "census --d 500 --experts 8 --units 16 --tower 8"
         "wide --d 512 --experts 8 --units 256 --tower 64")
for cfg in "${CONFIGS[@]}"; do
  set -- $cfg
  name=$1; shift
  for arch in sb omoe mmoe; do
    threads=2
    [ "$name" = paper ] && threads=1,2
    log "mmoe train $name $arch"
    "$TP" train --label "$name" --arch "$arch" "$@" --tasks 2 --batches 1,32,256,1024,4096 --threads "$threads" \
      --min-time "$MIN_TIME" --repeats "$REPEATS" --warmup 5 >>"$OUT/mmoe.jsonl"
    if [ "$name" = paper ]; then
      log "mmoe infer $name $arch"
      "$TP" infer --label "$name" --arch "$arch" "$@" --tasks 2 --threads 1,2 --min-time "$MIN_TIME" \
        --repeats "$REPEATS" --lat-calls 5000 >>"$OUT/mmoe.jsonl"
    fi
  done
done

# ---- 2b: 1 thread against 2 on the paper config, in paired rounds (mmoe_throughput threads: 1T, 2T and two
# private 1-thread trainers, order rotating; this host's 2-thread speed changes from second to second) --------
for arch in sb omoe mmoe; do
  log "mmoe threads paper $arch"
  "$TP" threads --label paper --arch "$arch" --d 100 --experts 8 --units 16 --tower 8 --tasks 2 \
    --batches 256,1024,4096 --repeats "${PAIRS:-11}" --min-time 0.08 >>"$OUT/mmoe.jsonl"
done

# ---- 3: scaling (mmoe only; the peer has no task-count option) -----------------------------------------
for e in 4 8 16 32 64; do
  log "scaling experts $e"
  "$TP" train --label "experts" --arch mmoe --d 100 --experts $e --units 16 --tower 8 --tasks 2 --batches 1024 \
    --threads 1,2 --min-time "$MIN_TIME" --repeats "$REPEATS" --warmup 5 >>"$OUT/mmoe.jsonl"
done
for t in 2 4 8; do
  log "scaling tasks $t"
  "$TP" train --label "tasks" --arch mmoe --d 100 --experts 8 --units 16 --tower 8 --tasks $t --batches 1024 \
    --threads 1,2 --min-time "$MIN_TIME" --repeats "$REPEATS" --warmup 5 >>"$OUT/mmoe.jsonl"
done

# ---- 3b: the GEMM ceiling of an MMoE training step, measured here (the best of mmoe's kernels, oneDNN and Eigen
# for every GEMM shape of the step, data-parallel on 2 threads) ----------------------------------------------
for cfg in "${CONFIGS[@]}"; do
  set -- $cfg
  name=$1; shift
  log "GEMM ceiling $name"
  "$BUILD/bench/gemm_ceiling" --label "$name" "$@" --tasks 2 --batches 1024,4096 --threads 2 >>"$OUT/ceiling.jsonl"
done

# ---- 1 + 2: the peer -----------------------------------------------------------------------------------
peer() {  # peer <out-name> <env...> -- <args...>
  local out=$1; shift
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  env "${envs[@]}" "$PY" "$PEER" throughput --out "$OUT/$out.jsonl" --batches 1,32,256,1024,4096 --warmup 5 \
    --min-time "$MIN_TIME" --repeats "$REPEATS" --lat-calls 1000 "$@" >"$OUT/$out.log" 2>&1
}
if [ -f "$PEER" ]; then
  log "peer OPENBLAS_CORETYPE=$PEER_CORETYPE --threads 1: paper, census, wide (naive + batched)"
  peer peer_fast_paper OPENBLAS_CORETYPE="$PEER_CORETYPE" -- --threads 1 --impl both --configs census --census-d 100
  peer peer_fast_census OPENBLAS_CORETYPE="$PEER_CORETYPE" -- --threads 1 --impl both --configs census --census-d 500
  peer peer_fast_wide OPENBLAS_CORETYPE="$PEER_CORETYPE" -- --threads 1 --impl both --configs big
  log "peer as installed (default threads): paper (naive + batched)"
  peer peer_installed_paper -- --impl both --configs census --census-d 100
else
  log "peer not found at $PEER: skipping it"
fi

# ---- 4: end to end -------------------------------------------------------------------------------------
wall() {  # wall <json-label> <command...>: whole-process wall time as a JSON line
  local label=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >"$OUT/$label.log" 2>&1
  t1=$(date +%s.%N)
  echo "{\"mode\":\"wall\",\"label\":\"$label\",\"seconds\":$(awk "BEGIN { printf \"%.3f\", $t1 - $t0 }")}" >>"$OUT/e2e.jsonl"
}
CENSUS="$ROOT/data/census-income-kdd"
if [ -f "$CENSUS/census-income.data.gz" ]; then
  log "census Group 1 epoch"
  (cd "$ROOT" && wall census_train "$MMOE" train --preset census-income-1 --experts 8 --expert-units 16 --tower-units 8 \
     --batch-size 256 --epochs 3 --patience 0 \
     --out "$OUT/census.mmoe" --metrics-out "$OUT/census_metrics.json")
  rows=$(zcat "$CENSUS/census-income.test.gz" | grep -c .)
  echo "{\"mode\":\"rows\",\"label\":\"census_test\",\"rows\":$rows}" >>"$OUT/e2e.jsonl"
  log "census predict ($rows rows)"
  (cd "$ROOT" && wall census_predict "$MMOE" predict --model "$OUT/census.mmoe" \
     --data "$CENSUS/census-income.test.gz" --out "$OUT/census_pred.csv")
fi
for rows in 50000 200000; do
  log "synthetic $rows rows: mmoe train, 5 epochs, batch 256"
  "$MMOE" synth --correlation 0.9 --rows $rows --seed 1 --out "$OUT/synth_$rows.csv" >/dev/null 2>&1
  wall "mmoe_synth_$rows" "$MMOE" train --train "$OUT/synth_$rows.csv" --label y1:regression --label y2:regression \
    --model mmoe --experts 8 --expert-units 16 --tower-units 8 --epochs 5 --batch-size 256 --lr 0.001 --seed 1 \
    --threads 2 --out "$OUT/synth_$rows.mmoe" --metrics-out "$OUT/synth_${rows}_metrics.json"
done
if [ -f "$PEER" ]; then
  steps=$(( (200000 * 5 + 255) / 256 ))
  log "peer synthetic 200000 rows, $steps steps of 256 ($PEER_CORETYPE --threads 1)"
  wall peer_synth_200000 env OPENBLAS_CORETYPE="$PEER_CORETYPE" "$PY" "$PEER" synthetic --threads 1 --p 0.9 --models mmoe \
    --impl batched --n-train 200000 --n-val 1000 --n-test 1000 --steps $steps --batch 256 --repeats 1
fi

read -r ticks1 steal1 < <(cpu_ticks)
steal_pct=$(awk -v t="$((ticks1 - ticks0))" -v s="$((steal1 - steal0))" 'BEGIN { printf "%.1f", (t > 0 ? 100 * s / t : 0) }')
echo "{\"mode\":\"env_after\",\"load_after\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"steal_percent\":$steal_pct}" >>"$OUT/env.jsonl"
"$PY" "$ROOT/bench/report.py" "$OUT"
