#!/usr/bin/env python3
"""Golden fixtures for tests/parity: the mmoe model written out in plain PyTorch ops, on fixed weights.

Run once with Debian's torch (no other packages, no network) and commit the output:

    /usr/bin/python3 tools/make_fixtures.py                 # writes tests/fixtures/parity_<case>.json
    /usr/bin/python3 tools/make_fixtures.py --peer /work/shared/peers/torch_mmoe.py   # + cross-check

This file is the executable form of the model contract in include/mmoe/model.h. For every case it builds the
parameter tensors under the engine's names and shapes, runs the forward pass (fused first layer, expert bank,
softmax gates, routing, towers), the masked and weighted per-task losses, autograd gradients, and two steps of
each optimizer (torch.optim.Adam, Adam + L2, AdamW, SGD with momentum), and writes all of it as JSON.

Numerics: weights and inputs are drawn, then rounded to float32, so the C++ engine sees exactly the values
used here. Everything after that is float64, so the fixture is the float32 engine's target to ~1e-7, and
the test's 1e-5 relative tolerance only has to absorb the engine's own rounding. Every ReLU pre-activation
(at the initial weights and at the weights after each optimizer's first step) is kept at least MARGIN away
from zero by resampling, so float32 rounding cannot flip a ReLU and the fixtures stay valid.

JSON layout (one object per case; every array is flat and row-major; floats are the shortest decimal that
round-trips to the float32 value):
  spec         arch, n_expert, expert_units, tower_units, tasks[{name, kind, loss_weight}], n_dense,
               cat_cardinality, cat_encoding, embedding_dim
  inputs       rows, dense (rows, n_dense), cat (rows, n_cat), labels (rows, n_task; null = missing),
               weights (rows) or null
  params       name -> values, under the names of include/mmoe/model.h
  outputs      (rows, n_task) raw outputs: logits for binary tasks, values for regression tasks
  predictions  (rows, n_task) sigmoid(logit) for binary, value for regression
  gates        (rows, n_gate * bank): gate g's softmax in columns [g*bank, (g+1)*bank); [] without gates
  loss, task_losses, grads (name -> gradient of the total loss)
  optim        [{kind, lr, beta1, beta2, eps, momentum, weight_decay, decoupled, steps: [params after
               step 1, params after step 2]}]; step 2's gradient is taken at step 1's params, same batch.
"""
import argparse
import importlib.util
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

MARGIN = 1e-3  # smallest |pre-activation| allowed at any ReLU
DTYPE = torch.float64

# Every case: the spec, the batch shape and what the batch contains. `missing` lists (row, task) labels set
# to NaN; `weights` adds sample weights; `seed` is the first seed tried (resampling moves on from there).
CASES = [
    dict(name="mmoe_regression", arch="mmoe", n_expert=3, expert_units=[4], tower_units=[3],
         tasks=[("y1", "regression", 1.0), ("y2", "regression", 1.0)], n_dense=6, rows=6),
    dict(name="mmoe_binary_mixed", arch="mmoe", n_expert=3, expert_units=[4], tower_units=[3],
         tasks=[("click", "binary", 1.0), ("value", "regression", 0.5)], n_dense=6, rows=7,
         missing=[(1, 0), (4, 1)], weights=True),
    dict(name="omoe", arch="omoe", n_expert=3, expert_units=[4], tower_units=[3],
         tasks=[("a", "binary", 1.0), ("b", "regression", 1.0), ("c", "binary", 0.7)], n_dense=6, rows=6),
    dict(name="shared_bottom", arch="shared_bottom", n_expert=1, expert_units=[5, 4], tower_units=[3, 2],
         tasks=[("y1", "regression", 1.0), ("y2", "binary", 1.0)], n_dense=6, rows=6),
    dict(name="single_task", arch="single_task", n_expert=1, expert_units=[4], tower_units=[3],
         tasks=[("y1", "binary", 1.0), ("y2", "regression", 1.0)], n_dense=6, rows=6, missing=[(2, 1)]),
    dict(name="mmoe_deep_experts", arch="mmoe", n_expert=3, expert_units=[5, 4], tower_units=[3],
         tasks=[("y1", "regression", 1.0), ("y2", "binary", 1.0)], n_dense=6, rows=6),
    dict(name="mmoe_onehot", arch="mmoe", n_expert=3, expert_units=[4], tower_units=[3],
         tasks=[("y1", "binary", 1.0), ("y2", "regression", 1.0)], n_dense=3, rows=6,
         cat_cardinality=[4, 3], cat_encoding="onehot"),
    dict(name="mmoe_embedding", arch="mmoe", n_expert=3, expert_units=[4], tower_units=[3],
         tasks=[("y1", "binary", 1.0), ("y2", "regression", 1.0)], n_dense=3, rows=6,
         cat_cardinality=[4, 3], cat_encoding="embedding", embedding_dim=2, missing=[(0, 0)], weights=True),
    dict(name="mmoe_one_task", arch="mmoe", n_expert=3, expert_units=[4], tower_units=[3],
         tasks=[("y", "binary", 1.0)], n_dense=6, rows=5),
    dict(name="shared_bottom_no_tower_hidden", arch="shared_bottom", n_expert=1, expert_units=[4],
         tower_units=[], tasks=[("y1", "regression", 1.0), ("y2", "regression", 2.0)], n_dense=6, rows=5),
    # Task 1 has no label on any row: its loss is 0 and it contributes no gradient (but must not be NaN).
    dict(name="mmoe_task_unlabelled", arch="mmoe", n_expert=2, expert_units=[4], tower_units=[3],
         tasks=[("y1", "binary", 1.0), ("y2", "binary", 1.0)], n_dense=6, rows=5,
         missing=[(r, 1) for r in range(5)], weights=True),
]

OPTIMIZERS = [
    dict(kind="adam", lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, momentum=0.0, weight_decay=0.0, decoupled=False),
    dict(kind="adam", lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, momentum=0.0, weight_decay=0.01, decoupled=False),
    dict(kind="adam", lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, momentum=0.0, weight_decay=0.01, decoupled=True),
    dict(kind="sgd", lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, momentum=0.9, weight_decay=0.0, decoupled=False),
]


class Resample(Exception):
    """The drawn weights put a ReLU input too close to its kink; try the next seed."""


def full_case(case):
    c = dict(missing=[], weights=False, cat_cardinality=[], cat_encoding="onehot", embedding_dim=2)
    c.update(case)
    return c


def sizes(c):
    T = len(c["tasks"])
    bank = {"mmoe": c["n_expert"], "omoe": c["n_expert"], "shared_bottom": 1, "single_task": T}[c["arch"]]
    n_gate = {"mmoe": T, "omoe": 1}.get(c["arch"], 0)
    return T, bank, n_gate


def cat_offsets(c):
    return [int(v) for v in np.cumsum([0] + c["cat_cardinality"][:-1])] if c["cat_cardinality"] else []


def param_shapes(c):
    """Names and shapes exactly as listed in include/mmoe/model.h, in the engine's order."""
    T, bank, n_gate = sizes(c)
    units, tower = c["expert_units"], c["tower_units"]
    n_cat, total_cat = len(c["cat_cardinality"]), sum(c["cat_cardinality"])
    din = c["n_dense"] + (n_cat * c["embedding_dim"] if c["cat_encoding"] == "embedding" else 0)
    N = bank * units[0] + n_gate * bank
    shapes = {"first.w": (din, N), "first.b": (N,)}
    if total_cat:
        if c["cat_encoding"] == "onehot":
            shapes["first.onehot"] = (total_cat, N)
        else:
            shapes["embed.table"] = (total_cat, c["embedding_dim"])
    for L in range(1, len(units)):
        shapes[f"expert.{L}.w"] = (bank, units[L - 1], units[L])
        shapes[f"expert.{L}.b"] = (bank, units[L])
    widths = [units[-1]] + list(tower) + [1]
    for L in range(len(widths) - 1):
        shapes[f"tower.{L}.w"] = (T, widths[L], widths[L + 1])
        shapes[f"tower.{L}.b"] = (T, widths[L + 1])
    return shapes


def f32(t):
    """Round to float32 and back, so both engines start from identical values."""
    return t.to(torch.float32).to(DTYPE)


def forward(c, P, x, cat):
    """The model of include/mmoe/model.h. Returns outputs (B, T), gates (B, n_gate*bank), ReLU inputs."""
    T, bank, n_gate = sizes(c)
    units, tower = c["expert_units"], c["tower_units"]
    h1 = units[0]
    offs = cat_offsets(c)
    xin = x
    if offs and c["cat_encoding"] == "embedding":
        xin = torch.cat([x] + [P["embed.table"][offs[j] + cat[:, j]] for j in range(len(offs))], dim=1)
    Z = xin @ P["first.w"] + P["first.b"]  # (B, N): all experts' first layers and all gate logits
    if offs and c["cat_encoding"] == "onehot":
        for j in range(len(offs)):  # a Linear over the concatenated one-hot vector, row by row
            Z = Z + P["first.onehot"][offs[j] + cat[:, j]]
    relu_inputs = [Z[:, :bank * h1]]
    experts = []
    for e in range(bank):
        h = torch.relu(Z[:, e * h1:(e + 1) * h1])
        for L in range(1, len(units)):
            a = h @ P[f"expert.{L}.w"][e] + P[f"expert.{L}.b"][e]
            relu_inputs.append(a)
            h = torch.relu(a)
        experts.append(h)
    E = torch.stack(experts, dim=1)  # (B, bank, H)
    gates = [torch.softmax(Z[:, bank * h1 + g * bank:bank * h1 + (g + 1) * bank], dim=1) for g in range(n_gate)]
    outs = []
    for k in range(T):
        if c["arch"] == "mmoe":
            t = (gates[k].unsqueeze(2) * E).sum(dim=1)
        elif c["arch"] == "omoe":
            t = (gates[0].unsqueeze(2) * E).sum(dim=1)
        elif c["arch"] == "shared_bottom":
            t = E[:, 0]
        else:
            t = E[:, k]
        for L in range(len(tower)):
            a = t @ P[f"tower.{L}.w"][k] + P[f"tower.{L}.b"][k]
            relu_inputs.append(a)
            t = torch.relu(a)
        L = len(tower)
        outs.append((t @ P[f"tower.{L}.w"][k] + P[f"tower.{L}.b"][k])[:, 0])
    O = torch.stack(outs, dim=1)
    G = torch.cat(gates, dim=1) if gates else torch.zeros(x.shape[0], 0, dtype=DTYPE)
    return O, G, relu_inputs


def losses(c, O, y, w):
    """total = sum_k lw_k * L_k; L_k = sum_i w_i m_ik l_ik / sum_i w_i m_ik, 0 without labels."""
    per_task = []
    total = O.new_zeros(())
    for k, (_, kind, lw) in enumerate(c["tasks"]):
        m = ~torch.isnan(y[:, k])
        yk = torch.where(m, y[:, k], torch.zeros_like(y[:, k]))
        if kind == "binary":
            l = F.binary_cross_entropy_with_logits(O[:, k], yk, reduction="none")
        else:
            l = (O[:, k] - yk) ** 2
        wm = w * m.to(DTYPE)
        den = wm.sum()
        Lk = (wm * l).sum() / den if den.item() > 0 else O.new_zeros(())
        per_task.append(Lk)
        total = total + lw * Lk
    return total, per_task


def check_margin(relu_inputs, where):
    for a in relu_inputs:
        if a.numel() and a.detach().abs().min().item() < MARGIN:
            raise Resample(where)


def draw(c, seed):
    g = torch.Generator().manual_seed(seed)
    T, bank, n_gate = sizes(c)
    B = c["rows"]
    P = {}
    for name, shape in param_shapes(c).items():
        # uniform(-0.6, 0.6): large enough that gates are far from uniform and ReLUs are mixed.
        P[name] = f32((torch.rand(shape, generator=g, dtype=DTYPE) - 0.5) * 1.2)
    x = f32(torch.randn(B, c["n_dense"], generator=g, dtype=DTYPE))
    cat = torch.zeros(B, len(c["cat_cardinality"]), dtype=torch.long)
    for j, card in enumerate(c["cat_cardinality"]):
        cat[:, j] = torch.randint(0, card, (B,), generator=g)
    y = torch.zeros(B, T, dtype=DTYPE)
    for k, (_, kind, _) in enumerate(c["tasks"]):
        if kind == "binary":
            y[:, k] = (torch.rand(B, generator=g, dtype=DTYPE) < 0.5).to(DTYPE)
        else:
            y[:, k] = f32(torch.randn(B, generator=g, dtype=DTYPE))
    for r, k in c["missing"]:
        y[r, k] = float("nan")
    w = f32(0.5 + 1.5 * torch.rand(B, generator=g, dtype=DTYPE)) if c["weights"] else torch.ones(B, dtype=DTYPE)
    return P, x, cat, y, w


def leaf(P):
    return {k: v.clone().requires_grad_(True) for k, v in P.items()}


def run_optimizer(c, P0, x, cat, y, w, o):
    Q = leaf(P0)
    params = list(Q.values())
    if o["kind"] == "sgd":
        opt = torch.optim.SGD(params, lr=o["lr"], momentum=o["momentum"], weight_decay=o["weight_decay"])
    elif o["decoupled"]:
        opt = torch.optim.AdamW(params, lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"],
                                weight_decay=o["weight_decay"])
    else:
        opt = torch.optim.Adam(params, lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"],
                               weight_decay=o["weight_decay"])
    steps = []
    for s in range(2):
        opt.zero_grad()
        O, _, relu_inputs = forward(c, Q, x, cat)
        check_margin(relu_inputs, f"{o['kind']} step {s}")
        total, _ = losses(c, O, y, w)
        total.backward()
        opt.step()
        steps.append({k: v.detach().clone() for k, v in Q.items()})
    return steps


def build_case(case, max_tries=200):
    c = full_case(case)
    seed0 = case.get("seed", 1000 + 17 * CASES.index(case))
    for seed in range(seed0, seed0 + max_tries):
        try:
            return c, seed, compute(c, seed)
        except Resample:
            continue
    raise RuntimeError(f"{c['name']}: no seed in {max_tries} keeps ReLU inputs {MARGIN} from 0")


def compute(c, seed):
    torch.manual_seed(seed)
    P0, x, cat, y, w = draw(c, seed)
    P = leaf(P0)
    O, G, relu_inputs = forward(c, P, x, cat)
    check_margin(relu_inputs, "init")
    total, per_task = losses(c, O, y, w)
    total.backward()
    grads = {k: v.grad.detach().clone() for k, v in P.items()}
    # Every gradient is either exactly zero (structurally: an unused one-hot row, a ReLU dead on every row)
    # or clearly away from it, so Adam's sign-like first step is well defined in float32 as well.
    for k, gk in grads.items():
        nz = gk[gk != 0].abs()
        if nz.numel() and nz.min().item() < 1e-6:
            raise Resample(f"tiny gradient in {k}")
    pred = O.detach().clone()
    for k, (_, kind, _) in enumerate(c["tasks"]):
        if kind == "binary":
            pred[:, k] = torch.sigmoid(pred[:, k])
    optim = []
    for o in OPTIMIZERS:
        steps = run_optimizer(c, P0, x, cat, y, w, o)
        optim.append(dict(o, steps=steps))
    return dict(P0=P0, x=x, cat=cat, y=y, w=w, O=O.detach(), G=G.detach(), pred=pred, total=total.item(),
                per_task=[v.item() for v in per_task], grads=grads, optim=optim)


def self_check(c, r):
    """Cheap independent checks of the reference itself."""
    # Unmasked, unweighted: the loss equals PyTorch's own mean-reduction losses.
    if not c["missing"] and not c["weights"]:
        for k, (_, kind, _) in enumerate(c["tasks"]):
            if kind == "binary":
                ref = torch.nn.BCEWithLogitsLoss()(r["O"][:, k], r["y"][:, k]).item()
            else:
                ref = torch.nn.MSELoss()(r["O"][:, k], r["y"][:, k]).item()
            assert abs(ref - r["per_task"][k]) < 1e-12, (c["name"], k, ref, r["per_task"][k])
    # The one-hot rows are a Linear over the concatenated one-hot vector (no bias of its own).
    if c["cat_cardinality"] and c["cat_encoding"] == "onehot":
        oh = torch.cat([F.one_hot(r["cat"][:, j], card).to(DTYPE) for j, card in enumerate(c["cat_cardinality"])], 1)
        P = dict(r["P0"])
        P["first.w"] = torch.cat([P["first.w"], P["first.onehot"]], 0)
        del P["first.onehot"]
        c2 = dict(c, cat_cardinality=[], n_dense=c["n_dense"] + oh.shape[1])
        O2, _, _ = forward(c2, P, torch.cat([r["x"], oh], 1), None)
        assert torch.allclose(O2, r["O"], atol=1e-12), c["name"]
    # Gates are distributions.
    if r["G"].numel():
        T, bank, n_gate = sizes(c)
        s = r["G"].view(-1, n_gate, bank).sum(2)
        assert torch.allclose(s, torch.ones_like(s), atol=1e-12)


def peer_check(c, r, peer_path):
    """Compare an mmoe/omoe/shared_bottom case with one hidden tower layer against the torch peer's batched
    models (a different implementation of the same function), with the fixture's weights copied in."""
    if c["arch"] == "single_task" or len(c["expert_units"]) != 1 or len(c["tower_units"]) != 1 \
            or c["cat_cardinality"]:
        return False
    spec = importlib.util.spec_from_file_location("torch_mmoe", peer_path)
    peer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(peer)
    T, bank, n_gate = sizes(c)
    d, h, tw = c["n_dense"], c["expert_units"][0], c["tower_units"][0]
    P = r["P0"]
    if c["arch"] == "shared_bottom":
        m = peer.SharedBottomBatched(d, h, tw, T).to(DTYPE)
        m.bottom.weight.data = P["first.w"].t().clone()
        m.bottom.bias.data = P["first.b"].clone()
    else:
        m = peer.MoEBatched(d, bank, h, tw, T, n_gate).to(DTYPE)
        m.expert_lin.weight.data = P["first.w"][:, :bank * h].t().clone()
        m.expert_lin.bias.data = P["first.b"][:bank * h].clone()
        m.gate_lin.weight.data = P["first.w"][:, bank * h:].t().clone()
        m.gate_lin.bias.data = P["first.b"][bank * h:].clone()
    m.towers.w1.data = P["tower.0.w"].clone()
    m.towers.b1.data = P["tower.0.b"].unsqueeze(1).clone()
    m.towers.w2.data = P["tower.1.w"].clone()
    m.towers.b2.data = P["tower.1.b"].unsqueeze(1).clone()
    with torch.no_grad():
        O = m(r["x"])
    assert torch.allclose(O, r["O"], atol=1e-12), (c["name"], O, r["O"])
    return True


# ---- JSON writing: flat arrays of shortest float32 decimals keep each file at a few tens of KB --------------

def fnum(v):
    v = float(v)
    if math.isnan(v):
        return "null"
    s = repr(float(np.float32(v))) if v == 0 else str(np.float32(v))
    assert np.float32(float(s)) == np.float32(v), (v, s)  # round-trips to the same float32
    return s


def flist(t):
    return "[" + ", ".join(fnum(v) for v in t.reshape(-1).tolist()) + "]"


def jstr(s):
    return '"' + s + '"'


def jlist_int(v):
    return "[" + ", ".join(str(int(i)) for i in v) + "]"


def tensors(d, indent):
    pad = " " * indent
    return "{\n" + ",\n".join(f"{pad}  {jstr(k)}: {flist(v)}" for k, v in d.items()) + "\n" + pad + "}"


def to_json(c, seed, r):
    tasks = ", ".join('{"name": %s, "kind": %s, "loss_weight": %s}' % (jstr(n), jstr(k), repr(lw))
                      for n, k, lw in c["tasks"])
    out = ["{"]
    out.append(f'  "case": {jstr(c["name"])},')
    out.append(f'  "generator": "tools/make_fixtures.py, seed {seed}, torch {torch.__version__}",')
    out.append('  "spec": {"arch": %s, "n_expert": %d, "expert_units": %s, "tower_units": %s, "tasks": [%s], '
               '"n_dense": %d, "cat_cardinality": %s, "cat_encoding": %s, "embedding_dim": %d},'
               % (jstr(c["arch"]), c["n_expert"], jlist_int(c["expert_units"]), jlist_int(c["tower_units"]),
                  tasks, c["n_dense"], jlist_int(c["cat_cardinality"]), jstr(c["cat_encoding"]),
                  c["embedding_dim"]))
    out.append('  "inputs": {"rows": %d, "dense": %s, "cat": %s, "labels": %s, "weights": %s},'
               % (c["rows"], flist(r["x"]), jlist_int(r["cat"].reshape(-1).tolist()), flist(r["y"]),
                  flist(r["w"]) if c["weights"] else "null"))
    out.append('  "params": ' + tensors(r["P0"], 2) + ",")
    out.append('  "outputs": ' + flist(r["O"]) + ",")
    out.append('  "predictions": ' + flist(r["pred"]) + ",")
    out.append('  "gates": ' + flist(r["G"]) + ",")
    out.append('  "loss": ' + fnum(r["total"]) + ",")
    out.append('  "task_losses": [' + ", ".join(fnum(v) for v in r["per_task"]) + "],")
    out.append('  "grads": ' + tensors(r["grads"], 2) + ",")
    opts = []
    for o in r["optim"]:
        head = ('    {"kind": %s, "lr": %r, "beta1": %r, "beta2": %r, "eps": %r, "momentum": %r, '
                '"weight_decay": %r, "decoupled": %s, "steps": [\n'
                % (jstr(o["kind"]), o["lr"], o["beta1"], o["beta2"], o["eps"], o["momentum"], o["weight_decay"],
                   "true" if o["decoupled"] else "false"))
        opts.append(head + ",\n".join("      " + tensors(s, 6) for s in o["steps"]) + "]}")
    out.append('  "optim": [\n' + ",\n".join(opts) + "\n  ]")
    out.append("}")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--out", default=os.path.join(root, "tests", "fixtures"))
    ap.add_argument("--peer", help="path of torch_mmoe.py to cross-check mmoe/omoe/shared_bottom against")
    ap.add_argument("--only", help="write just this case")
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    for case in CASES:
        if args.only and case["name"] != args.only:
            continue
        c, seed, r = build_case(case)
        self_check(c, r)
        peer = peer_check(c, r, args.peer) if args.peer else False
        path = os.path.join(args.out, f"parity_{c['name']}.json")
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(to_json(c, seed, r))
        os.replace(tmp, path)
        print(f"{path}: seed {seed}, loss {r['total']:.6f}, {os.path.getsize(path)} bytes"
              + (", matches peer" if peer else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
