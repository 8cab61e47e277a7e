#!/usr/bin/env python3
"""PyTorch's scaled_dot_product_attention on the shapes of `attnviz bench`, to read beside cuda-flash.

For every n in --seq, d in --dim, causal and not: H heads of n × d random Q, K, V (batch 1), timed with
CUDA events (median of --repeats after --warmup), in float32 (what cuda-flash computes) and float16 (for
reference: PyTorch's FlashAttention kernels need half precision). FLOPs are counted as attnviz bench
counts them: 4·n²·d per head, halved when causal.

    /usr/bin/python3 bench/torch_sdpa.py                       # the grid of docs/benchmarks.md
    /usr/bin/python3 bench/torch_sdpa.py --seq 4096 --dim 64   # one shape
    /usr/bin/python3 bench/torch_sdpa.py --json results.json

Exits 0 with a message (and measures nothing) where PyTorch, CUDA or scaled_dot_product_attention is
missing, so scripts can run it everywhere; exit 1 only on a real failure.
"""
import argparse
import json
import statistics
import sys


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seq", type=int, nargs="+", default=[512, 1024, 2048, 4096, 8192, 16384])
    p.add_argument("--dim", type=int, nargs="+", default=[64, 128])
    p.add_argument("--heads", type=int, default=16)
    p.add_argument("--dtypes", nargs="+", default=["float32", "float16"], choices=["float32", "float16", "bfloat16"])
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--json", help="also write the rows as JSON to this file")
    p.add_argument("--kernel-names", action="store_true",
                   help="also name the CUDA kernels that float32 attention launches at n = 4096, d = 64 (torch.profiler)")
    return p.parse_args()


def unavailable():
    """Why this machine cannot run the benchmark, or None."""
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed (pip install torch, with CUDA)"
    if not hasattr(torch.nn.functional, "scaled_dot_product_attention"):
        return f"PyTorch {torch.__version__} has no scaled_dot_product_attention (it appeared in 2.0)"
    if not torch.cuda.is_available():
        return f"PyTorch {torch.__version__} sees no CUDA device (CPU-only build, or no GPU/driver)"
    return None


def time_ms(fn, warmup, repeats):
    import torch
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times), min(times)


def max_errors(q, k, v, causal, out):
    """Float64 attention on the same (upcast) Q, K, V for a sample of query rows, as attnviz bench checks:
    every row up to n = 512, else 64 rows spread over n. Returns (max abs error, max error relative to the
    row's largest output), over rows and heads."""
    import math
    import torch
    n, d = q.shape[2], q.shape[3]
    rows = list(range(n)) if n <= 512 else sorted({round(i * (n - 1) / 63) for i in range(64)})
    idx = torch.tensor(rows, device=q.device)
    s = (q[:, :, idx].double() @ k.double().transpose(-1, -2)) / math.sqrt(d)
    if causal:
        keys = torch.arange(n, device=q.device)
        s = s.masked_fill(keys[None, :] > idx[:, None], float("-inf"))
    ref = torch.softmax(s, dim=-1) @ v.double()
    err = (out[:, :, idx].double() - ref).abs().amax(-1)
    return err.max().item(), (err / ref.abs().amax(-1)).max().item()


def kernel_names(heads):
    """The GPU kernels behind float32 scaled_dot_product_attention at n = 4096, d = 64, and their times."""
    import torch
    import torch.nn.functional as F
    from torch.profiler import ProfilerActivity, profile
    q, k, v = (torch.randn((1, heads, 4096, 64), device="cuda") for _ in range(3))
    for causal in (False, True):
        F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(3):
                F.scaled_dot_product_attention(q, k, v, is_causal=causal)
            torch.cuda.synchronize()
        print(f"float32 kernels, n 4096, d 64, {heads} heads, causal {causal} (3 calls):")
        for e in prof.key_averages():
            if e.device_type == torch.autograd.DeviceType.CUDA or getattr(e, "self_device_time_total", 0) > 0:
                us = getattr(e, "device_time_total", getattr(e, "cuda_time_total", 0))
                print(f"  {us / 3 / 1e3:8.3f} ms/call  {e.key[:160]}")


def main():
    args = parse_args()
    why = unavailable()
    if why:
        print(f"torch_sdpa.py: nothing measured: {why}")
        return 0
    import torch
    import torch.nn.functional as F

    device = torch.cuda.get_device_name(0)
    print(f"PyTorch {torch.__version__}, CUDA {torch.version.cuda}, {device}")
    print(f"allow_tf32 (matmul) = {torch.backends.cuda.matmul.allow_tf32}, cudnn.allow_tf32 = {torch.backends.cudnn.allow_tf32}")
    print(f"{'dtype':>8} {'n':>6} {'d':>4} {'H':>3} {'causal':>6} {'median ms':>10} {'min ms':>9} {'GFLOP/s':>9} {'max abs err':>11} {'max rel err':>11}")
    rows = []
    gen = torch.Generator(device="cuda").manual_seed(1)
    for dtype_name in args.dtypes:
        dtype = getattr(torch, dtype_name)
        for d in args.dim:
            for n in args.seq:
                for causal in (False, True):
                    shape = (1, args.heads, n, d)
                    try:
                        q = torch.randn(shape, device="cuda", dtype=dtype, generator=gen)
                        k = torch.randn(shape, device="cuda", dtype=dtype, generator=gen)
                        v = torch.randn(shape, device="cuda", dtype=dtype, generator=gen)
                        med, best = time_ms(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal),
                                            args.warmup, args.repeats)
                        abs_err, rel_err = max_errors(q, k, v, causal, F.scaled_dot_product_attention(q, k, v, is_causal=causal))
                    except torch.cuda.OutOfMemoryError:
                        print(f"{dtype_name:>8} {n:>6} {d:>4} {args.heads:>3} {str(causal):>6}  out of memory")
                        torch.cuda.empty_cache()
                        continue
                    flops = 4.0 * n * n * d * args.heads * (0.5 if causal else 1.0)
                    gflops = flops / (med / 1e3) / 1e9
                    print(f"{dtype_name:>8} {n:>6} {d:>4} {args.heads:>3} {str(causal):>6} {med:>10.3f} {best:>9.3f} {gflops:>9.0f}"
                          f" {abs_err:>11.2e} {rel_err:>11.2e}")
                    rows.append({"dtype": dtype_name, "seq": n, "dim": d, "heads": args.heads, "causal": causal,
                                 "median_ms": med, "min_ms": best, "gflops": gflops,
                                 "max_abs_error": abs_err, "max_rel_error": rel_err})
                    del q, k, v
    if args.kernel_names:
        try:
            kernel_names(args.heads)
        except Exception as e:  # the names are a note: a profiler problem must not lose the figures
            print(f"kernel names: the profiler failed: {e}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"format": "attnviz-torch-sdpa", "version": 1, "device": device, "torch": torch.__version__,
                       "rows": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
