#!/usr/bin/python3
"""Reference values of every in-tree loss, computed with PyTorch (Debian's python3-torch).

Run by hand, not by CI:   /usr/bin/python3 tests/reference/make_loss_reference.py
It writes tests/reference/losses_torch.json, which tests/plugins/test_losses.cpp compares
the C++ plugins with (to ~1e-10). Each loss is written here independently of the C++ code,
following the original papers' reference implementations, in float64; gradients come from
autograd. The inputs are stored in the JSON, so nothing depends on matching random streams.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(20241203)
torch.set_default_dtype(torch.float64)

N, K = 6, 4
z1 = torch.randn(N, K) * 0.8
z2 = z1 + 0.5 * torch.randn(N, K)
# Rows of different lengths so that norm clipping (spectral contrastive) both acts and does not.
row_scale = torch.tensor([0.2, 1.0, 0.3, 0.9, 0.25, 0.6]).unsqueeze(1)
labels = [0, 1, 2, 3, 0, 1]
# Columns of different spread so that VICReg's variance hinge is active in some, not others.
col_scale = torch.tensor([0.5, 1.5, 0.8, 2.0]).unsqueeze(0)


def off_diagonal(m):
    n = m.shape[0]
    return m.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


def barlow_twins(a, b, lam, symmetric, standardize, eps=1e-5):
    if standardize:  # BatchNorm1d(affine=False) in training mode: biased variance
        a = (a - a.mean(0)) / torch.sqrt(a.var(0, unbiased=False) + eps)
        b = (b - b.mean(0)) / torch.sqrt(b.var(0, unbiased=False) + eps)
    c = a.T @ b / a.shape[0]
    if symmetric:
        c = 0.5 * (c + c.T)
    on_diag = torch.diagonal(c).add(-1).pow(2).sum()
    return on_diag + lam * off_diagonal(c).pow(2).sum()


def vicreg(x, y, sim=25.0, std=25.0, cov=1.0, eps=1e-4):  # Bardes et al., official code
    n, k = x.shape
    repr_loss = F.mse_loss(x, y)
    x = x - x.mean(dim=0)
    y = y - y.mean(dim=0)
    std_x = torch.sqrt(x.var(dim=0) + eps)
    std_y = torch.sqrt(y.var(dim=0) + eps)
    std_loss = torch.mean(F.relu(1 - std_x)) / 2 + torch.mean(F.relu(1 - std_y)) / 2
    cov_x = (x.T @ x) / (n - 1)
    cov_y = (y.T @ y) / (n - 1)
    cov_loss = off_diagonal(cov_x).pow(2).sum().div(k) + off_diagonal(cov_y).pow(2).sum().div(k)
    return sim * repr_loss + std * std_loss + cov * cov_loss


def nt_xent(a, b, tau, cosine):  # SimCLR's NT-Xent over 2N views, every anchor
    w = torch.cat([a, b], dim=0)
    if cosine:
        w = F.normalize(w, dim=1)
    s = w @ w.T / tau
    m = w.shape[0]
    n = m // 2
    s = s.masked_fill(torch.eye(m, dtype=torch.bool), float("-inf"))
    target = torch.cat([torch.arange(n, m), torch.arange(0, n)])
    return F.cross_entropy(s, target)


def spectral(a, b, mu=1.0, clip=True):  # HaoChen et al., authors' code
    if clip:
        m1 = (torch.norm(a, p=2, dim=1) < math.sqrt(mu)).double().unsqueeze(1)
        m2 = (torch.norm(b, p=2, dim=1) < math.sqrt(mu)).double().unsqueeze(1)
        a = m1 * a + (1 - m1) * F.normalize(a, dim=1) * math.sqrt(mu)
        b = m2 * b + (1 - m2) * F.normalize(b, dim=1) * math.sqrt(mu)
    n = a.shape[0]
    part1 = -2 * torch.mean(a * b) * a.shape[1]
    sq = (a @ b.T) ** 2
    part2 = torch.mean(torch.triu(sq, diagonal=1) + torch.tril(sq, diagonal=-1)) * n / (n - 1)
    return part1 + part2


def negative_cosine(a, b):
    return -(F.normalize(a, dim=1) * F.normalize(b, dim=1)).sum(dim=1).mean()


def supervised_mse(z, y, scale=1.0):
    t = scale * F.one_hot(torch.tensor(y), num_classes=z.shape[1]).double()
    return 0.5 * ((z - t) ** 2).sum() / z.shape[0]


cases = []


def add(name, params, fn, inputs):
    leaves = [x.clone().requires_grad_(True) for x in inputs]
    value = fn(*leaves)
    grads = torch.autograd.grad(value, leaves)
    cases.append({"loss": name, "params": params, "inputs": [x.tolist() for x in inputs],
                  "value": value.item(), "gradients": [g.tolist() for g in grads]})


two = [z1, z2]
add("barlow_twins", {}, lambda a, b: barlow_twins(a, b, 1.0, True, False), two)
add("barlow_twins", {"preset": "original"}, lambda a, b: barlow_twins(a, b, 0.0051, False, True), two)
add("barlow_twins", {"preset": "inverse_dim"}, lambda a, b: barlow_twins(a, b, 1.0 / K, True, False), two)
add("barlow_twins", {"symmetric": False, "lambda": 0.3}, lambda a, b: barlow_twins(a, b, 0.3, False, False), two)
add("vicreg", {}, vicreg, two)
add("vicreg", {}, vicreg, [z1 * col_scale, z2 * col_scale])
add("vicreg", {"sim_coeff": 1.0, "std_coeff": 2.0, "cov_coeff": 3.0}, lambda a, b: vicreg(a, b, 1.0, 2.0, 3.0), two)
add("simclr", {}, lambda a, b: nt_xent(a, b, 0.5, True), two)
add("simclr", {"temperature": 0.1}, lambda a, b: nt_xent(a, b, 0.1, True), two)
add("infonce_dot", {}, lambda a, b: nt_xent(a, b, 0.5, False), two)
add("spectral_contrastive", {}, spectral, [z1 * row_scale, z2 * row_scale])
add("spectral_contrastive", {"clip": False}, lambda a, b: spectral(a, b, clip=False), two)
add("spectral_contrastive", {"mu": 0.25}, lambda a, b: spectral(a, b, mu=0.25), [z1 * row_scale, z2 * row_scale])
add("negative_cosine", {}, negative_cosine, two)
add("supervised_mse", {}, lambda z: supervised_mse(z, labels), [z1])
add("supervised_mse", {"scale": 2.0}, lambda z: supervised_mse(z, labels, 2.0), [z1])

out = {"generator": "tests/reference/make_loss_reference.py", "torch": torch.__version__,
       "labels": labels, "cases": cases}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "losses_torch.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print(f"wrote {len(cases)} cases to {path} (torch {torch.__version__})")
