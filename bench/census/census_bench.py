#!/usr/bin/env python3
"""The paper's Census-Income (KDD) experiment (Ma et al., KDD 2018, Sec. 6.3) with the mmoe CLI.

Python 3 standard library only. For each group (1: income + marital, 2: education + marital) and each model
(single-task, Shared-Bottom, OMoE, MMoE):
  1. grid: train every configuration of a small hyper-parameter grid (lr x batch x size) on --grid-seeds seeds;
     the configuration with the best mean validation AUC of the main task is chosen (the paper's criterion);
  2. final: train the chosen configuration on --seeds seeds (1..N; seed 1 is the grid run, reused);
  3. report: mean and best test AUCs per task (best = the run with the best main-task test AUC, as in the
     paper's tables) and seconds per epoch, next to the paper's numbers and the PyTorch peer's runs, written
     to docs/census.md between the BEGIN/END markers of the generated section.

Parameter budgets follow the paper: the size axis is "experts x units" of the MoE models; Shared-Bottom gets
one bottom layer parameter-matched to the MMoE of that size (the CLI's default for an empty --bottom-units),
single-task gets two networks whose total parameter count matches the same MMoE (computed here from the input
width the CLI reports). No layer is wider than 2048 units.

Every finished run is appended to --results (JSON lines) and never run again: the command resumes where it
stopped, and a changed grid only trains what is new. `--phase report` only rewrites the document.
"""
import argparse
import datetime
import hashlib
import itertools
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

BUILD_COMMIT = None  # the commit the mmoe executable was built from (--build-commit; default: HEAD)
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))

GROUPS = {
    1: dict(preset='census-income-1', main='income_50k', aux='marital_stat', names=('income', 'marital')),
    2: dict(preset='census-income-2', main='education', aux='marital_stat', names=('education', 'marital')),
}
MODELS = ['single-task', 'shared-bottom', 'omoe', 'mmoe']
MODEL_NAMES = {'single-task': 'Single-Task', 'shared-bottom': 'Shared-Bottom', 'omoe': 'OMoE', 'mmoe': 'MMoE'}
TOWER = 8
# the extra MMoE configurations found while tuning for the targets; the last is the census-income-1 preset's
DEFAULT_TUNED = ['lr=0.003,batch=1024,size=8x32,epochs=20,patience=4 --schedule cosine --weight-decay 1e-5',
                 'lr=0.003,batch=1024,size=8x32,epochs=20,patience=4 --schedule cosine --weight-decay 3e-5']

# The paper's tables (PAPER.md): (main best, main mean, aux with best main, aux mean)
PAPER = {
    1: {'single-task': (0.9398, 0.9337, 0.9933, 0.9922), 'shared-bottom': (0.9361, 0.9295, 0.9915, 0.9921),
        'omoe': (0.9387, 0.9319, 0.9928, 0.9923), 'mmoe': (0.9410, 0.9359, 0.9926, 0.9927)},
    2: {'single-task': (0.8843, 0.8792, 0.9933, 0.9922), 'shared-bottom': (0.8836, 0.8813, 0.9927, 0.9917),
        'omoe': (0.8852, 0.8813, 0.9915, 0.9912), 'mmoe': (0.8860, 0.8826, 0.9932, 0.9924)},
}


def log(msg):
    print('[%s] %s' % (datetime.datetime.now().strftime('%H:%M:%S'), msg), flush=True)


def parse_list(text, cast):
    return [cast(v) for v in text.split(',') if v.strip()]


def parse_sizes(text):
    out = []
    for item in text.split(','):
        e, u = item.lower().split('x')
        out.append((int(e), int(u)))
    return out


# ---------------------------------------------------------------------------------------------------------------
# parameter budgets

def mmoe_params(d, experts, units, tasks=2, tower=TOWER):
    """Parameter count of the CLI's MMoE with one-hot inputs of width d (dense + category values)."""
    return experts * (d * units + units) + tasks * (d * experts + experts) + tasks * (units * tower + tower + tower + 1)


def single_task_params(d, width, tasks=2, tower=TOWER):
    return tasks * (d * width + width + width * tower + tower + tower + 1)


def single_task_width(d, experts, units):
    target = mmoe_params(d, experts, units)
    best = min(range(1, 2049), key=lambda w: abs(single_task_params(d, w) - target))
    return best


# ---------------------------------------------------------------------------------------------------------------
# runs

class Store:
    """The finished runs, one JSON line each. refresh() picks up lines another bench process appended."""

    def __init__(self, path):
        self.path = path
        self.runs = {}
        self.refresh()

    def refresh(self):
        if os.path.exists(self.path):
            with open(self.path) as fh:
                for line in fh:
                    line = line.strip()
                    if line:
                        rec = json.loads(line)
                        self.runs[rec['key']] = rec

    def add(self, rec):
        self.runs[rec['key']] = rec
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with open(self.path, 'a') as fh:
            fh.write(json.dumps(rec, sort_keys=True) + '\n')


def run_key(group, model, cfg, seed):
    text = json.dumps({'group': group, 'model': model, 'cfg': cfg, 'seed': seed}, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def cli_args(group, model, cfg, seed, d_by_group):
    """Flags for one run. cfg: dict with lr, batch, experts, units, epochs, patience and optional extras."""
    g = GROUPS[group]
    args = ['train', '--preset', g['preset'], '--model', model, '--lr', repr(cfg['lr']),
            '--batch-size', str(cfg['batch']), '--epochs', str(cfg['epochs']), '--patience', str(cfg['patience']),
            '--tower-units', str(TOWER), '--seed', str(seed), '--early-stopping-task', g['main']]
    if model == 'single-task':
        d = d_by_group[group]
        args += ['--expert-units', str(single_task_width(d, cfg['experts'], cfg['units']))]
    else:
        args += ['--experts', str(cfg['experts']), '--expert-units', str(cfg['units'])]
        # shared-bottom: the preset has no bottom_units, so the CLI sizes one bottom layer parameter-matched to
        # the MMoE of these experts x units
    # settings the grid keeps at the CLI's defaults, given explicitly so that a preset with other [model]/[train]
    # defaults does not change what a stored configuration means
    extra = dict((flag, str(value)) for flag, value in cfg.get('extra', []))
    for flag, value in (('--schedule', 'constant'), ('--weight-decay', '0'), ('--cat-encoding', 'onehot'),
                        ('--optimizer', 'adam'), ('--warmup-steps', '0')):
        extra.setdefault(flag, value)
    for flag, value in extra.items():
        args += [flag, value]
    return args


def do_run(exe, store, group, model, cfg, seed, threads, d_by_group, tmpdir):
    key = run_key(group, model, cfg, seed)
    store.refresh()
    if key in store.runs:
        return store.runs[key]
    args = cli_args(group, model, cfg, seed, d_by_group)
    out = os.path.join(tmpdir, 'm-%s.json' % key)
    cmd = [exe] + args + ['--threads', str(threads), '--metrics-out', out, '-q']
    load0 = os.getloadavg()[0]
    t0 = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.time() - t0
    if proc.returncode != 0:
        raise SystemExit('run failed (%d): %s\n%s' % (proc.returncode, ' '.join(cmd), proc.stderr))
    with open(out) as fh:
        m = json.load(fh)
    os.remove(out)
    g = GROUPS[group]
    tr = m['training']
    hist = tr['history']
    # the CLI reports the wall time of the whole command; time to the best epoch = load + epochs up to it
    secs_to_best = tr['load_seconds'] + sum(h['seconds'] for h in hist if h['epoch'] <= tr['best_epoch'])
    rec = {
        'key': key, 'commit': BUILD_COMMIT, 'group': group, 'model': model, 'cfg': cfg, 'seed': seed, 'threads': threads,
        'cmd': ' '.join(['mmoe'] + args + ['--threads', str(threads)]),
        'params': m['model']['parameters'], 'description': m['model']['description'],
        'best_epoch': tr['best_epoch'], 'epochs_run': tr['epochs_run'],
        'seconds_per_epoch': tr['seconds_per_epoch'], 'train_seconds': tr['train_seconds'],
        'load_seconds': tr['load_seconds'], 'wall_seconds': m['wall_seconds'], 'process_seconds': wall,
        'seconds_to_best': secs_to_best, 'load_avg_start': load0, 'load_avg_end': os.getloadavg()[0],
        'valid': {t: m['tasks'][t]['valid']['auc'] for t in (g['main'], g['aux'])},
        'test': {t: m['tasks'][t]['test']['auc'] for t in (g['main'], g['aux'])},
    }
    store.add(rec)
    log('g%d %-13s %s seed %d: valid %s %.4f, test %s %.4f / %s %.4f, best epoch %d/%d, %.2f s/epoch, %.1f s wall'
        % (group, model, cfg_label(cfg), seed, g['names'][0], rec['valid'][g['main']], g['names'][0],
           rec['test'][g['main']], g['names'][1], rec['test'][g['aux']], rec['best_epoch'], rec['epochs_run'],
           rec['seconds_per_epoch'], wall))
    return rec


def cfg_label(cfg):
    s = 'lr %g, batch %d, %dx%d' % (cfg['lr'], cfg['batch'], cfg['experts'], cfg['units'])
    for flag, value in cfg.get('extra', []):
        s += ', %s %s' % (flag.lstrip('-'), value)
    return s


def input_width(description):
    m = re.search(r'inputs (\d+) dense \+ \d+ categorical \((\d+) values', description)
    return int(m.group(1)) + int(m.group(2))


# ---------------------------------------------------------------------------------------------------------------
# the experiment

def parse_tuned(text):
    """'lr=0.003,batch=1024,size=8x32,epochs=20,patience=4 --schedule cosine --weight-decay 1e-5'"""
    head, _, flags = text.partition(' ')
    cfg = {}
    for item in head.split(','):
        k, v = item.split('=')
        if k == 'size':
            e, u = v.lower().split('x')
            cfg['experts'], cfg['units'] = int(e), int(u)
        elif k == 'lr':
            cfg['lr'] = float(v)
        else:
            cfg[k] = int(v)
    toks = flags.split()
    extra = []
    i = 0
    while i < len(toks):
        extra.append([toks[i], toks[i + 1]])
        i += 2
    if extra:
        cfg['extra'] = extra
    return cfg


def grid_configs(a, group):
    cfgs = []
    for lr, batch, (e, u) in itertools.product(a.lrs, a.batches, a.sizes):
        cfgs.append({'lr': lr, 'batch': batch, 'experts': e, 'units': u, 'epochs': a.epochs,
                     'patience': a.patience})
    return cfgs


def main_task(group):
    return GROUPS[group]['main']


def choose(store, group, model, cfgs, seeds):
    best, best_val = None, None
    table = []
    for cfg in cfgs:
        recs = [store.runs.get(run_key(group, model, cfg, s)) for s in seeds]
        if any(r is None for r in recs):
            continue
        v = statistics.mean(r['valid'][main_task(group)] for r in recs)
        table.append((cfg, v, recs))
        if best_val is None or v > best_val:
            best, best_val = cfg, v
    return best, table


def ensure_width(exe, store, group, threads, d_by_group, tmpdir, a):
    """The one-hot input width of a group (for the single-task budget), from an MMoE run's description."""
    for rec in store.runs.values():
        if rec['group'] == group and rec['model'] != 'single-task':
            d_by_group[group] = input_width(rec['description'])
            return
    cfg = grid_configs(a, group)[0]
    rec = do_run(exe, store, group, 'mmoe', cfg, a.grid_seeds[0], threads, d_by_group, tmpdir)
    d_by_group[group] = input_width(rec['description'])


def experiment(a):
    store = Store(a.results)
    exe = a.mmoe
    tmpdir = os.path.join(HERE, 'results', 'tmp')
    os.makedirs(tmpdir, exist_ok=True)
    d_by_group = {}
    chosen = {}
    for group in a.groups:
        ensure_width(exe, store, group, a.threads, d_by_group, tmpdir, a)
        for model in a.models:
            cfgs = grid_configs(a, group)
            if a.phase in ('all', 'grid'):
                for cfg in cfgs:
                    for seed in a.grid_seeds:
                        do_run(exe, store, group, model, cfg, seed, a.threads, d_by_group, tmpdir)
            best, _ = choose(store, group, model, cfgs, a.grid_seeds)
            if best is None:
                continue
            chosen[(group, model)] = best
            if a.phase in ('all', 'final'):
                log('g%d %s: chosen %s' % (group, model, cfg_label(best)))
                for seed in a.final_seeds:
                    do_run(exe, store, group, model, best, seed, a.threads, d_by_group, tmpdir)
        if a.phase in ('all', 'tuned') and group in a.tuned_groups:
            for cfg in a.tuned:
                for seed in a.final_seeds:
                    do_run(exe, store, group, 'mmoe', cfg, seed, a.threads, d_by_group, tmpdir)
    return store


# ---------------------------------------------------------------------------------------------------------------
# report

def fmt(v, nd=4):
    return ('%.' + str(nd) + 'f') % v


def summarize(store, group, model, cfg, seeds):
    recs = [store.runs.get(run_key(group, model, cfg, s)) for s in seeds]
    recs = [r for r in recs if r is not None]
    if not recs:
        return None
    g = GROUPS[group]
    main, aux = g['main'], g['aux']
    best = max(recs, key=lambda r: r['test'][main])
    mains = [r['test'][main] for r in recs]
    auxs = [r['test'][aux] for r in recs]
    return {
        'n': len(recs), 'best_main': best['test'][main], 'best_aux': best['test'][aux],
        'mean_main': statistics.mean(mains), 'mean_aux': statistics.mean(auxs),
        'sd_main': statistics.stdev(mains) if len(mains) > 1 else 0.0,
        'sd_aux': statistics.stdev(auxs) if len(auxs) > 1 else 0.0,
        'min_main': min(mains), 'min_aux': min(auxs),
        'spe': statistics.median(r['seconds_per_epoch'] for r in recs),
        'epochs': statistics.mean(r['best_epoch'] for r in recs),
        'to_best': statistics.median(r['seconds_to_best'] for r in recs),
        'wall': statistics.median(r['wall_seconds'] for r in recs),
        'params': recs[0]['params'], 'description': recs[0]['description'], 'cmd': recs[0]['cmd'],
        'load': statistics.mean(r['load_avg_start'] for r in recs),
    }


def read_peer(path):
    """The peer's census summary lines (mode == 'census') from its --out JSON lines."""
    out = []
    if not os.path.exists(path):
        return out
    env = None
    with open(path) as fh:
        for line in fh:
            rec = json.loads(line)
            if rec.get('mode') == 'env':
                env = rec
            if rec.get('mode') == 'census':
                rec['env'] = env
                out.append(rec)
    return out


def report(a, store):
    lines = []
    w = lines.append
    runs = [r for r in store.runs.values()]
    commit = ', '.join(sorted(set(r.get('commit') or '?' for r in runs))) or '?'
    loads = [r['load_avg_start'] for r in runs]
    w('<!-- BEGIN generated by bench/census/run.sh: do not edit by hand -->')
    w('')
    w('Generated %s from `%s` (%d runs) with mmoe built at commit `%s`; machine: %s, %d cores, Python %s. Every run: '
      '`--threads %d`, one or two at a time; 1-minute load average at the start of a run: median %.1f, range %.1f-%.1f '
      '(the machine is shared: wall times are noisy).'
      % (datetime.datetime.now().strftime('%Y-%m-%d %H:%M'), os.path.relpath(a.results, ROOT), len(runs), commit,
         cpu_name(), os.cpu_count(), platform.python_version(), a.threads,
         statistics.median(loads) if loads else 0, min(loads) if loads else 0, max(loads) if loads else 0))
    w('')
    for group in a.groups:
        g = GROUPS[group]
        n0, n1 = g['names']
        cfgs = grid_configs(a, group)
        w('### Group %d: %s (main) + %s' % (group, n0, n1))
        w('')
        w('Test AUC. "best" = the run with the best %s test AUC, and its %s AUC (the paper\'s convention). '
          'Ours: the configuration chosen on validation %s AUC, %s seeds. Paper: 400 runs each.'
          % (n0, n1, n0, a.seeds))
        w('')
        w('| model | source | runs | %s best | %s mean (sd) | %s with best %s | %s mean (sd) | s/epoch | epochs to best | params |'
          % (n0, n0, n1, n0, n1))
        w('|---|---|---|---|---|---|---|---|---|---|')
        for model in a.models:
            best, _ = choose(store, group, model, cfgs, a.grid_seeds)
            p = PAPER[group][model]
            s = summarize(store, group, model, best, a.final_seeds) if best else None
            if s:
                w('| %s | ours (%s) | %d | %s | %s (%s) | %s | %s (%s) | %.2f | %.1f | %d |' % (
                    MODEL_NAMES[model], cfg_label(best), s['n'], fmt(s['best_main']), fmt(s['mean_main']),
                    fmt(s['sd_main']), fmt(s['best_aux']), fmt(s['mean_aux']), fmt(s['sd_aux']), s['spe'],
                    s['epochs'], s['params']))
            w('| %s | paper | 400 | %s | %s | %s | %s | | | |' % (MODEL_NAMES[model], fmt(p[0]), fmt(p[1]), fmt(p[2]),
                                                               fmt(p[3])))
            if model == 'mmoe':
                for cfg in a.tuned:
                    s = summarize(store, group, model, cfg, a.final_seeds)
                    if s:
                        w('| MMoE, tuned | ours (%s) | %d | %s | %s (%s) | %s | %s (%s) | %.2f | %.1f | %d |' % (
                            cfg_label(cfg), s['n'], fmt(s['best_main']), fmt(s['mean_main']), fmt(s['sd_main']),
                            fmt(s['best_aux']), fmt(s['mean_aux']), fmt(s['sd_aux']), s['spe'], s['epochs'],
                            s['params']))
        for fname, where in (('peer-g%d.jsonl', "peer's own split"), ('peer-g%d-mmoesplit.jsonl', "mmoe's split")):
            for rec in read_peer(os.path.join(HERE, 'results', fname % group)):
                nm = {'sb': 'Shared-Bottom', 'omoe': 'OMoE', 'mmoe': 'MMoE'}[rec['model']]
                w('| %s | PyTorch peer, %s, final epoch %d (1 run) | 1 | %s | | %s | | %.2f | %d | %d |' % (
                    nm, where, rec['epochs'], fmt(rec['final_test_auc'][0]), fmt(rec['final_test_auc'][1]),
                    rec['train_seconds'] / rec['epochs'], rec['epochs'], rec['params']))
                w('| %s | PyTorch peer, %s, epoch %d (best validation AUC sum) | 1 | %s | | %s | | | | |' % (
                    nm, where, rec['best_epoch'], fmt(rec['best_test_auc'][0]), fmt(rec['best_test_auc'][1])))
        w('')
        # grid
        w('<details><summary>Group %d grid: mean validation %s AUC over seed(s) %s (chosen in bold)</summary>'
          % (group, n0, ','.join(map(str, a.grid_seeds))))
        w('')
        w('| model | configuration | valid %s | test %s | test %s | best epoch | s/epoch | params |' % (n0, n0, n1))
        w('|---|---|---|---|---|---|---|---|')
        for cfg in a.tuned:
            recs = [store.runs.get(run_key(group, 'mmoe', cfg, sd)) for sd in a.grid_seeds]
            if all(recs):
                w('| MMoE, tuned | %s | %s | %s | %s | %s | %.2f | %d |' % (
                    cfg_label(cfg), fmt(statistics.mean(r['valid'][g['main']] for r in recs)),
                    fmt(statistics.mean(r['test'][g['main']] for r in recs)),
                    fmt(statistics.mean(r['test'][g['aux']] for r in recs)),
                    '/'.join(str(r['best_epoch']) for r in recs),
                    statistics.mean(r['seconds_per_epoch'] for r in recs), recs[0]['params']))
        for model in a.models:
            best, table = choose(store, group, model, cfgs, a.grid_seeds)
            for cfg, v, recs in table:
                b = '**' if cfg == best else ''
                w('| %s | %s%s%s | %s | %s | %s | %s | %.2f | %d |' % (
                    MODEL_NAMES[model], b, cfg_label(cfg), b, fmt(v),
                    fmt(statistics.mean(r['test'][g['main']] for r in recs)),
                    fmt(statistics.mean(r['test'][g['aux']] for r in recs)),
                    '/'.join(str(r['best_epoch']) for r in recs),
                    statistics.mean(r['seconds_per_epoch'] for r in recs), recs[0]['params']))
        w('')
        w('</details>')
        w('')
        w('Commands of the chosen configurations (seed 1; the others differ only in `--seed`):')
        w('')
        w('```sh')
        for model in a.models:
            best, _ = choose(store, group, model, cfgs, a.grid_seeds)
            s = summarize(store, group, model, best, a.final_seeds) if best else None
            if s:
                w(s['cmd'])
        for cfg in a.tuned:
            s = summarize(store, group, 'mmoe', cfg, a.final_seeds)
            if s:
                w(s['cmd'] + '   # MMoE, tuned')
        w('```')
        w('')
    w('<!-- END generated -->')
    text = '\n'.join(lines) + '\n'
    doc = a.doc
    if os.path.exists(doc):
        with open(doc) as fh:
            old = fh.read()
        if '<!-- BEGIN generated' in old and '<!-- END generated -->' in old:
            pre = old[:old.index('<!-- BEGIN generated')]
            post = old[old.index('<!-- END generated -->') + len('<!-- END generated -->\n'):]
            text = pre + text + post
        else:
            text = old.rstrip('\n') + '\n\n' + text
    else:
        text = '# Census-Income (KDD): the paper\'s experiment\n\n' + text
    with open(doc, 'w') as fh:
        fh.write(text)
    log('wrote %s' % doc)


def cpu_name():
    try:
        with open('/proc/cpuinfo') as fh:
            for line in fh:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown CPU'


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--phase', default='all', choices=['all', 'grid', 'final', 'tuned', 'report'])
    ap.add_argument('--tuned-groups', default='1,2', help='groups that get the --tuned configurations')
    ap.add_argument('--tuned', action='append', default=None,
                    help="an extra MMoE configuration trained on the final seeds and reported as 'MMoE, tuned' "
                         "(repeatable), e.g. 'lr=0.003,batch=1024,size=8x32,epochs=20,patience=4 --schedule cosine "
                         "--weight-decay 1e-5'; default: DEFAULT_TUNED (the last is the census-income-1 preset's); 'none' = no extra")
    ap.add_argument('--mmoe', default=os.environ.get('MMOE', os.path.join(ROOT, 'build', 'mmoe')))
    ap.add_argument('--groups', default='1,2')
    ap.add_argument('--models', default=','.join(MODELS))
    ap.add_argument('--lrs', default='0.001,0.003')
    ap.add_argument('--batches', default='256,1024')
    ap.add_argument('--sizes', default='8x16,8x32', help='experts x units of the MoE models (sets every budget)')
    ap.add_argument('--epochs', type=int, default=40, help='at most this many epochs (early stopping ends runs)')
    ap.add_argument('--patience', type=int, default=4)
    ap.add_argument('--grid-seeds', default='1')
    ap.add_argument('--seeds', type=int, default=10, help='final runs per chosen configuration: seeds 1..N')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--results', default=os.path.join(HERE, 'results', 'runs.jsonl'))
    ap.add_argument('--doc', default=os.path.join(ROOT, 'docs', 'census.md'))
    ap.add_argument('--build-commit', default=None, help='the commit --mmoe was built from (default: HEAD)')
    a = ap.parse_args()
    global BUILD_COMMIT
    BUILD_COMMIT = a.build_commit or subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT,
                                                    stdout=subprocess.PIPE, text=True).stdout.strip()
    a.groups = parse_list(a.groups, int)
    a.models = parse_list(a.models, str)
    a.lrs = parse_list(a.lrs, float)
    a.batches = parse_list(a.batches, int)
    a.sizes = parse_sizes(a.sizes)
    a.grid_seeds = parse_list(a.grid_seeds, int)
    if a.tuned is None:
        a.tuned = list(DEFAULT_TUNED)
    a.tuned = [parse_tuned(t) for t in a.tuned if t != 'none']
    a.tuned_groups = parse_list(a.tuned_groups, int)
    a.final_seeds = list(range(1, a.seeds + 1))
    for m in a.models:
        if m not in MODELS:
            raise SystemExit('unknown model %s' % m)
    if a.phase != 'report' and not os.access(a.mmoe, os.X_OK):
        raise SystemExit('no mmoe executable at %s (build it, or set MMOE=/path/to/mmoe)' % a.mmoe)
    t0 = time.time()
    store = experiment(a) if a.phase != 'report' else Store(a.results)
    report(a, store)
    log('done in %.0f s' % (time.time() - t0))


if __name__ == '__main__':
    main()
