#!/usr/bin/env bash
# Prints the directory of the shared real-data samples (../shared/data beside the checkout, or, for a clone made
# elsewhere such as CI's fresh clone, beside the repository it was cloned from); prints nothing if neither exists.
# The sample-data tests read it from MMOE_SHARED_DATA and skip without it.
cd "$(dirname "$0")/.."
for root in . "$(git config --get remote.origin.url 2>/dev/null || true)"; do
  if [ -n "$root" ] && [ -d "$root/../shared/data" ]; then
    (cd "$root/../shared/data" && pwd)
    exit 0
  fi
done
