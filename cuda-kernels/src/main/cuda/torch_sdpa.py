"""PyTorch's scaled_dot_product_attention, forward and backward, timed the way GpuBenchmark times
ours (CUDA events, median of 20 calls after 3): one head, D = 64, causal, at 4K, 16K and 64K tokens
in float32, and at 64K in bfloat16. Prints one line per measurement: SDPA <dtype> <L> <ms>."""
import statistics
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError as e:  # the GPU check still prints our table
    print(f"PyTorch not importable ({e}): no baseline", file=sys.stderr)
    sys.exit(0)


def time_ms(fn, warmup=3, runs=20):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(runs):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def main():
    if not torch.cuda.is_available():
        print("PyTorch sees no GPU: no baseline", file=sys.stderr)
        return
    torch.backends.cuda.matmul.allow_tf32 = False  # float32 means float32, as in our kernels
    for dtype, lengths in ((torch.float32, (4096, 16384, 65536)), (torch.bfloat16, (65536,))):
        for length in lengths:
            q, k, v = (torch.randn(1, 1, length, 64, device="cuda", dtype=dtype, requires_grad=True) for _ in range(3))
            g = torch.randn(1, 1, length, 64, device="cuda", dtype=dtype)

            def step():
                out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
                out.backward(g)

            print(f"SDPA {str(dtype).replace('torch.', '')} {length} {time_ms(step):.4f}", flush=True)


main()
