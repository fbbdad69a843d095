#!/usr/bin/env python3
"""Prints the benchmark tables (markdown) from the JSON lines bench/run.sh wrote into one directory.

Ratios are mmoe / the FASTER of the peer's settings (naive or batched; as installed or
OPENBLAS_CORETYPE=<fast kernels> --threads 1) for the same config, model and batch.
"""
import glob
import json
import os
import statistics
import sys

PEER_CONFIG = {100: 'paper', 500: 'census', 512: 'wide'}
MODELS = ['sb', 'omoe', 'mmoe']
NAMES = {'sb': 'Shared-Bottom', 'omoe': 'OMoE', 'mmoe': 'MMoE'}


def load(path):
    out = []
    if os.path.exists(path):
        with open(path) as fh:
            for line in fh:
                line = line.strip()
                if line.startswith('{'):
                    out.append(json.loads(line))
    return out


def fmt(x, digits=0):
    if x is None:
        return '-'
    if digits == 0:
        return f'{x:,.0f}'
    return f'{x:,.{digits}f}'


def table(headers, rows):
    print('| ' + ' | '.join(headers) + ' |')
    print('|' + '|'.join('---' if i == 0 else '---:' for i in range(len(headers))) + '|')
    for r in rows:
        print('| ' + ' | '.join(str(c) for c in r) + ' |')
    print()


def census_epoch_seconds(m):
    """Median training seconds of the census run's epochs (the first one includes cold caches and page faults)."""
    secs = [h['seconds'] for h in m.get('history', []) if 'seconds' in h]
    return statistics.median(secs) if secs else m.get('seconds_per_epoch')


def main():
    d = sys.argv[1]
    env = load(os.path.join(d, 'env.jsonl'))
    mm = load(os.path.join(d, 'mmoe.jsonl'))
    peer = {}  # (setting, config, model, impl, batch) -> samples/s ; ('infer', ...) -> record
    for path in glob.glob(os.path.join(d, 'peer_*.jsonl')):
        setting = 'installed' if 'installed' in os.path.basename(path) else 'fast'
        for r in load(path):
            if r.get('mode') == 'throughput_train':
                cfg = 'wide' if r['config'] == 'big' else PEER_CONFIG.get(r['d'], str(r['d']))
                peer[(setting, cfg, r['model'], r['impl'], r['batch'])] = r['samples_per_s_median']
            elif r.get('mode') == 'throughput_infer':
                cfg = 'wide' if r['config'] == 'big' else PEER_CONFIG.get(r['d'], str(r['d']))
                peer[('infer', setting, cfg, r['model'], r['impl'])] = r

    def mtrain(label, arch, batch, threads, experts=8, tasks=2, key='samples_per_s_median'):
        for r in mm:
            if (r['mode'] == 'train' and r['label'] == label and r['arch'] == arch and r['batch'] == batch
                    and r['threads'] == threads and r['experts'] == experts and r['tasks'] == tasks):
                return batch * 1e6 / r[key] if key == 'cpu_us_per_step_min' else r[key]
        return None

    def best_peer(cfg, model, batch):
        vals = [(v, f'{s} {i}') for (s, c, m, i, b), v in
                ((k, v) for k, v in peer.items() if k[0] != 'infer') if c == cfg and m == model and b == batch]
        return max(vals) if vals else (None, None)

    coretype = next((e.get('peer_coretype', 'SkylakeX') for e in env if e.get('mode') == 'env'), 'SkylakeX')
    for e in env:
        if e.get('mode') == 'env':
            print(f"commit {e['commit']}, {e['date']}, {e['cpu']}, {e['cores']} cores, load average before: "
                  f"{e['load_before']}")
        if e.get('mode') == 'env_after':
            print(f"load average after: {e['load_after']}" +
                  (f"; CPU time stolen by the host during the run: {e['steal_percent']}%" if 'steal_percent' in e else ''))
    print()

    # ---- training ----
    print('## Training throughput (forward + backward + Adam), samples/s, median of the timing windows\n')
    print('mmoe 2T / 1T = 2 threads / 1 thread (1T measured on the paper config only); 1T/CPU-s = 1-thread samples '
          'per CPU-second (steadier on a busy machine; not used in ratios). peer columns: B = batched, N = naive; '
          f'fast = OPENBLAS_CORETYPE={coretype} --threads 1, inst = as installed (default --threads 2; paper config '
          'only). ratio = mmoe 2T / the fastest peer column (in brackets: best mmoe setting / fastest peer).\n')
    ratios = {}
    for cfg in ['paper', 'census', 'wide']:
        rows = []
        for model in MODELS:
            for b in [1, 32, 256, 1024, 4096]:
                m2, m1 = mtrain(cfg, model, b, 2), mtrain(cfg, model, b, 1)
                cpu1 = mtrain(cfg, model, b, 1, key='cpu_us_per_step_min')
                cols = [peer.get((s, cfg, model, i, b)) for s, i in
                        [('fast', 'batched'), ('fast', 'naive'), ('installed', 'batched'), ('installed', 'naive')]]
                bp, _ = best_peer(cfg, model, b)
                ratio = m2 / bp if m2 and bp else None
                best = max(x for x in (m1, m2, 0) if x is not None)
                ratios[(cfg, model, b)] = ratio
                cell = f'**{ratio:.1f}x**' if ratio else '-'
                if ratio and m1 and m1 > m2:
                    cell += f' ({best / bp:.1f}x)'
                rows.append([NAMES[model], b, fmt(m2), fmt(m1), fmt(cpu1)] + [fmt(c) for c in cols] + [cell])
        print(f'### {cfg} config\n')
        table(['model', 'batch', 'mmoe 2T', 'mmoe 1T', '1T/CPU-s', 'peer B fast', 'peer N fast', 'peer B inst',
               'peer N inst', 'ratio'], rows)

    # ---- inference ----
    print('## Inference, paper config: batch-1 latency (1 thread) and batch-4096 throughput (2 threads)\n')
    rows = []
    for model in MODELS:
        lat = thr = None
        for r in mm:
            if r['mode'] == 'infer' and r['label'] == 'paper' and r['arch'] == model:
                if r['threads'] == 1:
                    lat = r
                if r['threads'] == 2:
                    thr = r
        pe = [v for k, v in peer.items() if k[0] == 'infer' and k[2] == 'paper' and k[3] == model]
        p50 = min((p['latency_b1_p50_us'] for p in pe), default=None)
        p99 = min((p['latency_b1_p99_us'] for p in pe), default=None)
        pt = max((p['infer_samples_per_s_median'] for p in pe), default=None)
        rows.append([NAMES[model], fmt(lat and lat['latency_b1_p50_us'], 2), fmt(lat and lat['latency_b1_p99_us'], 2),
                     fmt(p50, 1), fmt(p99, 1), fmt(thr and thr['infer_samples_per_s_median']), fmt(pt),
                     f"{pt and thr and thr['infer_samples_per_s_median'] / pt:.1f}x" if pt and thr else '-'])
    table(['model', 'mmoe p50 us', 'mmoe p99 us', 'peer best p50 us', 'peer best p99 us', 'mmoe b4096 /s',
           'peer best b4096 /s', 'ratio'], rows)

    # ---- threads ----
    print('## 1 thread against 2, paper config, training samples/s\n')
    rows = []
    for model in MODELS:
        for b in [1, 32, 256, 1024, 4096]:
            a, c = mtrain('paper', model, b, 1), mtrain('paper', model, b, 2)
            rows.append([NAMES[model], b, fmt(a), fmt(c), f'{c / a:.2f}x' if a and c else '-'])
    table(['model', 'batch', '1 thread', '2 threads', '2T / 1T'], rows)
    paired = {(r['arch'], r['batch']): r for r in mm if r['mode'] == 'threads' and r['label'] == 'paper'}
    if paired:
        first = next(iter(paired.values()))
        print(f"Paired rounds ({first['rounds']} rounds of three {first['window_s']:.2f} s windows, order rotating): "
              '1 thread, 2 threads, and two independent 1-thread trainers on half a batch each (the private pair: '
              'what the two vCPUs give threads that share nothing at that moment). Ratios are taken within a '
              'round; medians over the rounds, range in brackets.\n')
        rows = []
        for model in MODELS:
            for b in [256, 1024, 4096]:
                r = paired.get((model, b))
                if r:
                    rows.append([NAMES[model], b, fmt(r['one_thread_samples_per_s_median']),
                                 fmt(r['two_threads_samples_per_s_median']),
                                 f"**{r['speedup_median']:.2f}x** [{r['speedup_min']:.2f}-{r['speedup_max']:.2f}]",
                                 f"{r['private_pair_speedup_median']:.2f}x", f"{r['shared_over_private_median']:.2f}"])
        table(['model', 'batch', '1 thread', '2 threads', '2T / 1T', 'private pair / 1T', '2T / private pair'], rows)

    # ---- scaling ----
    print('## Scaling, MMoE d=100, 16 units per expert, batch 1024 (training samples/s; us per 1,000 samples)\n')
    rows = []
    for e in [4, 8, 16, 32, 64]:
        a, c = mtrain('experts', 'mmoe', 1024, 1, experts=e), mtrain('experts', 'mmoe', 1024, 2, experts=e)
        rows.append([f'{e} experts', fmt(a), fmt(c), fmt(a and 1e9 / a / e, 1), fmt(c and 1e9 / c / e, 1)])
    for t in [2, 4, 8]:
        a, c = mtrain('tasks', 'mmoe', 1024, 1, tasks=t), mtrain('tasks', 'mmoe', 1024, 2, tasks=t)
        rows.append([f'{t} tasks', fmt(a), fmt(c), '', ''])
    table(['shape', '1 thread', '2 threads', '1T us/1k samples/expert', '2T us/1k samples/expert'], rows)

    # ---- ceiling ----
    # bench/gemm_ceiling, same run: every GEMM of an MMoE step at the best rate measured here for its shape
    # (mmoe's kernels, oneDNN or Eigen), data-parallel on 2 threads. Only GEMM FLOPs count in the GFLOP/s.
    # The ceiling is each shape's best window, so the step is compared by its best window too (like with
    # like); the median-window fraction is shown beside it (on this shared host it also measures the noise).
    ceiling = {(r['label'], r['batch']): r for r in load(os.path.join(d, 'ceiling.jsonl'))}
    print('## Fraction of the GEMM ceiling (2 cores, measured in this run) reached by a whole MMoE training step\n')
    rows = []
    for cfg in ['paper', 'census', 'wide']:
        for b in [1024, 4096]:
            m2 = mtrain(cfg, 'mmoe', b, 2, key='samples_per_s_best')
            med = mtrain(cfg, 'mmoe', b, 2)
            c = ceiling.get((cfg, b))
            if not c:
                continue
            rows.append([cfg, b, fmt(m2), fmt(m2 and m2 * c['gemm_flop_per_sample'] / 1e9, 1), fmt(c['gflops'], 1),
                         fmt(c['samples_per_s']), f"{m2 / c['samples_per_s'] * 100:.0f}%" if m2 else '-',
                         f"{med / c['samples_per_s'] * 100:.0f}%" if med else '-'])
    table(['config', 'batch', 'mmoe samples/s (best window)', 'mmoe GEMM GFLOP/s', 'ceiling GFLOP/s',
           'ceiling samples/s', 'fraction', 'fraction of the median window'], rows)

    # ---- end to end ----
    e2e = {r['label']: r for r in load(os.path.join(d, 'e2e.jsonl'))}
    print('## End to end\n')
    rows = []
    cm = os.path.join(d, 'census_metrics.json')
    if os.path.exists(cm):
        with open(cm) as fh:
            m = json.load(fh)
        m = m.get('training', m)
        rows.append(['census Group 1, MMoE 8x16, batch 256: training s/epoch (median of 3 epochs)',
                     fmt(census_epoch_seconds(m), 3)])
        rows.append(['census: load + encode s', fmt(m.get('load_seconds'), 2)])
        rows.append(['census: `mmoe train` whole process s (3 epochs + validation + save)',
                     fmt(e2e.get('census_train', {}).get('seconds'), 2)])
    if 'census_predict' in e2e and 'census_test' in e2e:
        s, n = e2e['census_predict']['seconds'], e2e['census_test']['rows']
        rows.append([f'`mmoe predict` census test file ({n:,} rows), whole process: s / rows/s',
                     f"{s:.2f} / {fmt(n / s)}"])
    for n in [50000, 200000]:
        lab = f'mmoe_synth_{n}'
        if lab in e2e:
            rows.append([f'`mmoe train` synthetic {n:,} rows, 5 epochs, batch 256: whole process s', fmt(e2e[lab]['seconds'], 2)])
            mp = os.path.join(d, f'synth_{n}_metrics.json')
            if os.path.exists(mp):
                with open(mp) as fh:
                    m = json.load(fh)
                m = m.get('training', m)
                rows.append([f'  of which training s (5 epochs)', fmt(m.get('train_seconds'), 3)])
    if 'peer_synth_200000' in e2e:
        rows.append([f'peer (batched, {coretype}, 1 thread) same model, 200,000 rows x 5 epochs: whole process s',
                     fmt(e2e['peer_synth_200000']['seconds'], 2)])
        if 'mmoe_synth_200000' in e2e:
            rows.append(['**whole-process ratio peer / mmoe**',
                         f"**{e2e['peer_synth_200000']['seconds'] / e2e['mmoe_synth_200000']['seconds']:.1f}x**"])
    table(['measurement', 'value'], rows)

    # ---- targets ----
    print('## Targets\n')
    rows = []
    for b, goal in [(32, 10), (256, 5), (4096, 2)]:
        got = [ratios.get(('paper', m, b)) for m in MODELS]
        ok = all(g is not None and g >= goal for g in got)
        rows.append([f'training paper config, batch {b}: >= {goal}x (SB / OMoE / MMoE)',
                     ' / '.join(f'{g:.1f}x' if g else '-' for g in got), 'met' if ok else 'MISSED'])
    def verdict(ok):
        return 'met' if ok else 'MISSED'

    p50 = [r['latency_b1_p50_us'] for r in mm if r['mode'] == 'infer' and r['label'] == 'paper' and r['threads'] == 1]
    if p50:
        rows.append(['inference paper config, batch-1 p50 <= 3 us (worst model)', f'{max(p50):.2f} us',
                     verdict(max(p50) <= 3)])
    # The paired rounds when they were run (medians of within-round ratios), else the training windows.
    speedups = [(r['speedup_median'], NAMES[r['arch']], r['batch']) for r in mm
                if r['mode'] == 'threads' and r['label'] == 'paper' and r['batch'] >= 256]
    if not speedups:
        speedups = [(mtrain('paper', m, b, 2) / mtrain('paper', m, b, 1), NAMES[m], b) for m in MODELS
                    for b in [256, 1024, 4096] if mtrain('paper', m, b, 1) and mtrain('paper', m, b, 2)]
    if speedups:
        worst = min(speedups)
        rows.append(['2 threads >= 1.7x of 1 thread at batch >= 256 (worst model and batch; paired median)',
                     f'{worst[0]:.2f}x ({worst[1]}, batch {worst[2]})', verdict(worst[0] >= 1.7)])
    fractions = [(mtrain(cfg, 'mmoe', b, 2, key='samples_per_s_best') / c['samples_per_s'], cfg, b)
                 for (cfg, b), c in ceiling.items() if mtrain(cfg, 'mmoe', b, 2, key='samples_per_s_best')]
    if fractions:
        worst = min(fractions)
        rows.append(['MMoE step at batch >= 1024 reaches >= 50% of the GEMM ceiling (worst config and batch; best windows)',
                     f'{worst[0] * 100:.0f}% ({worst[1]}, batch {worst[2]})', verdict(worst[0] >= 0.5)])
    if os.path.exists(cm):
        with open(cm) as fh:
            m = json.load(fh)
        m = m.get('training', m)
        epoch = census_epoch_seconds(m)
        rows.append(['census Group 1 epoch (MMoE 8x16, batch 256) <= 0.3 s', f"{epoch:.3f} s", verdict(epoch <= 0.3)])
        rows.append(['census loading + encoding <= 2 s', f"{m['load_seconds']:.2f} s", verdict(m['load_seconds'] <= 2)])
    table(['target', 'measured', ''], rows)


if __name__ == '__main__':
    main()
