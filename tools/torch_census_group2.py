#!/usr/bin/env python3
"""The PyTorch peer (../shared/peers/torch_mmoe.py) on Census-Income Group 2.

Group 2 of Ma et al. (KDD 2018), Sec. 6.3: education >= college (main task) + marital status == Never married.
The peer script only has Group 1 (`census` mode). This wrapper imports the peer module unchanged and replaces only
its data preparation (`census_prepare`) with a Group-2 one; models, initialisation, training loop (Adam, sum of
BCE-with-logits, batch order), split (UCI test file 1:1 into validation/test with numpy's default_rng(seed)) and
AUC evaluation are the peer's own. Differences from the peer's Group 1 preparation:
  - labels: education in COLLEGE (below; the reading of examples/census-income-2.toml and docs/data.md) and
    marital_stat == 'Never married';
  - features: instance_weight, education and marital_stat dropped; income_50k becomes an ordinary categorical
    feature (as in examples/census-income-2.toml).
The peer's printed lines still say "income" / "marital": read them as education / marital.

Two options of this wrapper (removed before the peer parses the rest):
  --group 1|2     the task group (default 2; 1 = the peer's own Group-1 labels and features, for comparison on
                  mmoe's split)
  --mmoe-split    split the UCI test file exactly as mmoe does (examples/census-income-*.toml: split_test = 0.5,
                  split_seed = 1: mmoe::Rng Fisher-Yates, the first floor(n/2) rows of the permutation, sorted, are
                  validation), so the peer and mmoe are scored on the same validation and test rows. Without it
                  the peer's own split (numpy default_rng(--seed)) is used.

Run (the peer's fastest setting on this machine):
  OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 tools/torch_census_group2.py census --threads 1 \
      --data-dir data/census-income-kdd --models mmoe --out peer-g2.jsonl
Any argument of the peer script is accepted; the mode must be `census`.
"""
import os
import sys

import numpy as np

PEER_DIR = os.environ.get('MMOE_PEER_DIR', os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                          '..', '..', 'shared', 'peers'))
sys.path.insert(0, os.path.abspath(PEER_DIR))
import torch_mmoe as peer  # noqa: E402

COLLEGE = {
    'Some college but no degree',
    'Associates degree-occup /vocational',
    'Associates degree-academic program',
    'Bachelors degree(BA AB BS)',
    'Masters degree(MA MS MEng MEd MSW MBA)',
    'Prof school degree (MD DDS DVM LLB JD)',
    'Doctorate degree(PhD EdD)',
}
DROP = ['instance_weight', 'education', 'marital_stat']


MASK64 = (1 << 64) - 1


def _splitmix64(x):
    x = (x + 0x9e3779b97f4a7c15) & MASK64
    z = x
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & MASK64
    return x, z ^ (z >> 31)


def _rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK64


class MmoeRng:
    """mmoe::Rng (src/core/rng.cpp): xoshiro256** seeded by splitmix64; below() = Lemire with rejection."""

    def __init__(self, seed):
        x = seed & MASK64
        self.s = []
        for _ in range(4):
            x, z = _splitmix64(x)
            self.s.append(z)

    def next_u64(self):
        s = self.s
        result = (_rotl((s[1] * 5) & MASK64, 7) * 9) & MASK64
        t = (s[1] << 17) & MASK64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 45)
        return result

    def below(self, n):
        if n <= 1:
            return 0
        threshold = ((1 << 64) - n) % n
        while True:
            m = self.next_u64() * n
            if (m & MASK64) >= threshold:
                return m >> 64


def mmoe_split_rows(n, fraction, seed):
    """mmoe::split_rows (src/data/schema.cpp): (first, second), both sorted."""
    perm = list(range(n))
    rng = MmoeRng(seed)
    for i in range(n, 1, -1):
        j = rng.below(i)
        perm[i - 1], perm[j] = perm[j], perm[i - 1]
    k = min(n, int(n * fraction))
    return sorted(perm[:k]), sorted(perm[k:])


GROUP = 2
MMOE_SPLIT = False
ORIGINAL_PREPARE = peer.census_prepare


def census_prepare_group2(data_dir, seed, split_test_only=False, keep_education=False):
    import pandas as pd  # noqa: F401  (the peer's dependency)
    import torch
    if keep_education:
        raise SystemExit('--keep-education makes no sense for Group 2 (education is the label)')
    if split_test_only:
        raise SystemExit('--split-test-only is not supported for Group 2')
    other = peer.census_load(os.path.join(data_dir, 'census-income.test.gz'))
    train = peer.census_load(os.path.join(data_dir, 'census-income.data.gz'))
    if MMOE_SPLIT:
        first, second = mmoe_split_rows(len(other), 0.5, 1)
        val, test = other.iloc[first], other.iloc[second]
        how = "mmoe's split (split_test 0.5, split_seed 1)"
    else:
        rng = np.random.default_rng(seed)          # exactly the peer's split
        perm = rng.permutation(len(other))
        half = len(other) // 2
        val, test = other.iloc[perm[:half]], other.iloc[perm[half:]]
        how = "the peer's split (numpy seed %d)" % seed
    numeric = peer.CENSUS_NUMERIC
    if GROUP == 2:
        drop = DROP
        task_names = 'education >= college, never married'
    else:
        drop = peer.CENSUS_DROP
        task_names = 'income > 50K, never married'
    split = ('GROUP %d (%s); train = census-income.data (%d rows); UCI test file split 1:1 at random into '
             'validation/test with %s' % (GROUP, task_names, len(train), how))
    categorical = [c for c in peer.CENSUS_COLUMNS if c not in numeric and c not in drop]

    def labels(df):
        first_task = (df['education'].isin(COLLEGE) if GROUP == 2 else df['income_50k'] == '50000+.').to_numpy()
        return np.stack([first_task,
                         (df['marital_stat'] == 'Never married').to_numpy()], axis=1).astype(np.float32)

    num_tr = train[numeric].astype(np.float64).to_numpy()
    mu, sd = num_tr.mean(0), num_tr.std(0)
    sd[sd == 0] = 1.0
    vocab = {c: sorted(train[c].unique()) for c in categorical}

    def features(df):
        import pandas as pd
        num = (df[numeric].astype(np.float64).to_numpy() - mu) / sd
        blocks = [num.astype(np.float32)]
        for c in categorical:
            codes = pd.Categorical(df[c], categories=vocab[c]).codes  # -1 = unseen -> all-zero block
            oh = np.zeros((len(df), len(vocab[c])), dtype=np.float32)
            ok = codes >= 0
            oh[np.nonzero(ok)[0], codes[ok]] = 1.0
            blocks.append(oh)
        return np.concatenate(blocks, axis=1)

    out = {}
    for name, df in (('train', train), ('val', val), ('test', test)):
        out[name] = (torch.from_numpy(features(df)), torch.from_numpy(labels(df)))
    for name in ('train', 'val', 'test'):
        y = out[name][1]
        print('group %d %s: rows %d, positives task 1 %d, never married %d' % (
            GROUP, name, len(y), int(y[:, 0].sum()), int(y[:, 1].sum())))
    return out, split, len(numeric), sum(len(v) for v in vocab.values())


if __name__ == '__main__':
    if len(sys.argv) < 2 or sys.argv[1] != 'census':
        raise SystemExit('usage: torch_census_group2.py census [--group 1|2] [--mmoe-split] [peer options]')
    argv = sys.argv[:1]
    it = iter(sys.argv[1:])
    for arg in it:
        if arg == '--mmoe-split':
            MMOE_SPLIT = True
        elif arg == '--group':
            GROUP = int(next(it))
        elif arg.startswith('--group='):
            GROUP = int(arg.split('=', 1)[1])
        else:
            argv.append(arg)
    if GROUP not in (1, 2):
        raise SystemExit('--group must be 1 or 2')
    sys.argv = argv
    peer.census_prepare = census_prepare_group2
    peer.main()
