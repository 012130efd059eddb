"""One way to time GPU work for the benchmark scripts: CUDA events around each call, the median of `reps` calls
after `warmup` untimed ones (the first calls pay for lazy initialisation, Triton compilation, cuBLAS heuristics)."""
import statistics

import torch


def median_cuda_ms(fn, reps=20, warmup=3):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    return statistics.median(times)
