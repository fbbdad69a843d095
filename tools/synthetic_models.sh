#!/usr/bin/env bash
# Issue 3's measurement: on the paper's synthetic data (mmoe synth, 20,000 rows, --split 0.8,0.1,0.1),
# train MMoE, OMoE and the parameter-matched Shared-Bottom (8 experts x 16, towers 8, Adam 1e-3, batch 256,
# 20 epochs, best validation epoch kept) for several data seeds and correlations; print test R^2 / MSE tables.
# Usage: tools/synthetic_models.sh [mmoe-binary] [correlations] [seeds] [models]
set -euo pipefail
bin=${1:-build/mmoe}
correlations=${2:-"0.5 1.0"}
seeds=${3:-"1 2 3 4 5 6 7 8 9 10"}
models=${4:-"mmoe omoe shared-bottom"}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results="$work/results.tsv"
for p in $correlations; do
  for seed in $seeds; do
    "$bin" synth --correlation "$p" --rows 20000 --seed "$seed" --out "$work/s.csv" -q
    for model in $models; do
      "$bin" train --train "$work/s.csv" --split 0.8,0.1,0.1 --label y1:regression --label y2:regression \
        --model "$model" --experts 8 --expert-units 16 --tower-units 8 --epochs 20 --batch-size 256 --lr 0.001 \
        --seed 1 --threads "${THREADS:-2}" -q --metrics-out "$work/m.json"
      python3 - "$work/m.json" "$p" "$seed" "$model" >>"$results" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
t = m["tasks"]
print("\t".join([sys.argv[2], sys.argv[3], sys.argv[4], str(m["model"]["parameters"])] +
                ["%.6f" % t[k]["test"][x] for k in ("y1", "y2") for x in ("mse", "r2")]))
PY
    done
  done
done
python3 - "$results" <<'PY'
import sys, statistics as st
rows = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
groups = {}
for p, seed, model, params, mse1, r21, mse2, r22 in rows:
    groups.setdefault((p, model), []).append((int(seed), int(params), float(mse1), float(r21), float(mse2), float(r22)))
print("| correlation | model | params | runs | test MSE y1 mean ± sd (min..max) | test MSE y2 mean ± sd | mean test R^2 y1 | mean test R^2 y2 |")
print("|---|---|---|---|---|---|---|---|")
for (p, model), v in sorted(groups.items()):
    m1 = [x[2] for x in v]; m2 = [x[4] for x in v]
    sd = lambda a: st.stdev(a) if len(a) > 1 else 0.0
    print("| %s | %s | %d | %d | %.4f ± %.4f (%.4f..%.4f) | %.4f ± %.4f | %.4f | %.4f |" % (
        p, model, v[0][1], len(v), st.mean(m1), sd(m1), min(m1), max(m1), st.mean(m2), sd(m2),
        st.mean([x[3] for x in v]), st.mean([x[5] for x in v])))
PY
