#!/usr/bin/env python3
"""PyTorch's side of PrimitivesRunner: the same ops on the same shape, (131072, 128) float32,
each the median of 15 calls after 10 warm-up calls, two threads. Run it as SideBySide does,
under ../shared/peer/run.sh's settings: OMP_NUM_THREADS=2, jemalloc preloaded with purging off."""
import json
import time

import torch

torch.set_num_threads(2)
torch.manual_seed(1)
x = torch.randn(131072, 128)
y = torch.randn(131072, 128)
row = torch.randn(128)
norm = torch.nn.LayerNorm(128)


def composed_softmax(t):
    e = torch.exp(t - t.max(-1, keepdim=True)[0])
    return e / e.sum(-1, keepdim=True)


ops = {
    "exp": lambda: torch.exp(x),
    "add": lambda: x + y,
    "add_row": lambda: x + row,
    "mul_scalar": lambda: x * 0.125,
    "sum_last": lambda: x.sum(-1),
    "max_last": lambda: x.max(-1)[0],
    "softmax": lambda: torch.softmax(x, -1),
    "logsumexp": lambda: torch.logsumexp(x, -1),
    "softmax_composed": lambda: composed_softmax(x),
    "layernorm": lambda: norm(x),
}
with torch.no_grad():
    for name, op in ops.items():
        times = []
        for i in range(25):
            start = time.perf_counter()
            op()
            if i >= 10:
                times.append((time.perf_counter() - start) * 1e3)
        times.sort()
        print("RESULT " + json.dumps({"op": name, "side": "torch", "median_ms": times[7], "min_ms": times[0],
                                      "torch": torch.__version__}), flush=True)
