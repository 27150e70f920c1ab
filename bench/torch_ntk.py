#!/usr/bin/python3
"""The same two-layer network and data as ntk_bench (read from its --dump files), in PyTorch.

  /usr/bin/python3 bench/torch_ntk.py DIR N D K WIDTH [--time32] [--check64]

--time32   empirical NTK by Jacobian contraction in float32, all at once (functorch vmap(jacrev)
           then one contraction): the method and precision of TOOLCHAIN.md's reference timings.
--check64  the same contraction in float64 for the rows of the first 32 samples against all
           samples (a strip of 256 of the 2048 rows, every column), the Jacobian in chunks of
           samples so that it fits in memory, and its agreement with the same strip of
           ntkssl's structured NTK (DIR/ntk.bin): relative Frobenius and max abs difference.
Prints one JSON object.
"""
import json
import math
import sys
import time

import numpy as np
import torch
from functorch import jacrev, vmap


def load(path, shape):
    return torch.from_numpy(np.fromfile(path, dtype=np.float64).reshape(shape))


def network(width, d):
    def f(W, V, x):  # f(x) = V tanh(W x / sqrt(d)) / sqrt(M): SCIENCE.md's network
        return V @ torch.tanh(W @ x / math.sqrt(d)) / math.sqrt(width)
    return f


def jacobian(f, W, V, x):
    jw, jv = vmap(jacrev(f, argnums=(0, 1)), in_dims=(None, None, 0))(W, V, x)
    n, k = jw.shape[0], jw.shape[1]
    return torch.cat([jw.reshape(n * k, -1), jv.reshape(n * k, -1)], dim=1)


def main():
    folder, n, d, k, width = sys.argv[1], *map(int, sys.argv[2:6])
    flags = set(sys.argv[6:])
    x = load(f"{folder}/x.bin", (n, d))
    W = load(f"{folder}/W.bin", (width, d))
    V = load(f"{folder}/V.bin", (k, width))
    f = network(width, d)
    out = {"width": width, "torch": torch.__version__, "threads": torch.get_num_threads()}

    if "--time32" in flags:
        W32, V32, x32 = W.float(), V.float(), x.float()
        t0 = time.perf_counter()
        j = jacobian(f, W32, V32, x32)
        ntk32 = j @ j.T
        out["jacobian_contraction_float32_seconds"] = time.perf_counter() - t0
        out["jacobian_float32_gib"] = j.numel() * 4 / 2**30
        del j, ntk32

    if "--check64" in flags:
        strip = min(n, 32)
        chunk = max(1, min(n, int(1.5 * 2**30 / (k * (width * (d + k)) * 8))))
        t0 = time.perf_counter()
        ja = jacobian(f, W, V, x[:strip])
        rows = torch.empty(strip * k, n * k, dtype=torch.float64)
        for b in range(0, n, chunk):
            jb = jacobian(f, W, V, x[b:b + chunk])
            rows[:, b * k:(b + chunk) * k] = ja @ jb.T
        out["jacobian_contraction_float64_strip_seconds"] = time.perf_counter() - t0
        ours = load(f"{folder}/ntk.bin", (n * k, n * k))[:strip * k]
        out["relative_frobenius_difference"] = (torch.linalg.norm(ours - rows) / torch.linalg.norm(rows)).item()
        out["max_abs_difference"] = (ours - rows).abs().max().item()

    print(json.dumps(out))


if __name__ == "__main__":
    main()
