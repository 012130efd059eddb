# The fused LayerNorm + SiLU kernels (through benchmarks/kernels/layer_norm_silu_capi.cu and ctypes) against
# torch.nn.functional.silu(layer_norm(...)) on the GPU: forward and input gradient for widths 1..2049, strided, dense
# and misaligned rows, fp64 and fp32, each against torch's fp64 composition on the same values (tolerance 1e-13 /
# 1e-6 relative to the largest entry, as unittest/engine/ops/test_layer_norm_silu.cpp); then the time of one forward and
# one backward on 98000 x 128 rows (the radial MLPs of a 2000-atom carbon system) next to torch's (CUDA events, mean
# of 50 after 5 warm-ups). Usage: python3 layer_norm_silu_vs_torch.py ./liblnsilu.so [quick]  (quick: checks only)
import ctypes, sys, torch
lib = ctypes.CDLL(sys.argv[1])
for n in ("fwd_f32", "fwd_f64"):
    getattr(lib, n).argtypes = [ctypes.c_void_p, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_long, ctypes.c_long, ctypes.c_double]
for n in ("bwd_f32", "bwd_f64"):
    getattr(lib, n).argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_long, ctypes.c_long, ctypes.c_double]
eps = 1e-5
dev = "cuda"
quick = len(sys.argv) > 2

def ours(x, w, b, dy):
    rows, W = x.shape
    ld = x.stride(0) if rows > 1 else W
    assert x.stride(1) == 1 or W == 1
    y = torch.empty(rows, W, dtype=x.dtype, device=dev); dx = torch.empty_like(y)
    s = "f32" if x.dtype == torch.float32 else "f64"
    assert getattr(lib, "fwd_" + s)(x.data_ptr(), ld, w.data_ptr(), b.data_ptr(), y.data_ptr(), rows, W, eps) == 0
    assert getattr(lib, "bwd_" + s)(dy.data_ptr(), x.data_ptr(), ld, w.data_ptr(), b.data_ptr(), dx.data_ptr(), rows, W, eps) == 0
    return y, dx

def torch_form(x, w, b, dy):
    x = x.detach().clone().requires_grad_(True)
    y = torch.nn.functional.silu(torch.nn.functional.layer_norm(x, (x.shape[1],), w, b, eps))
    (dx,) = torch.autograd.grad((y * dy).sum(), [x])
    return y.detach(), dx

def rel(a, b):
    if b.numel() == 0: return 0.0
    s = b.abs().max().item()
    return ((a.double() - b.double()).abs().max().item() / s) if s > 0 else (a.double().abs().max().item())

worst = {}
ok = True
widths = [1, 7, 96, 128, 130, 300, 1030, 2049]
for dt in (torch.float64, torch.float32):
    for W in widths:
        for pad in (3, 0, 1, 4):
            for rows in ((37, 0) if not quick else (37,)):
                g = torch.Generator().manual_seed(W * 7 + pad)
                xs = (0.7 + 2.5 * torch.randn(rows, W + pad, generator=g, dtype=torch.float64)).to(dev, dt)
                x = xs[:, 1:W + 1] if pad == 1 else xs[:, :W]
                w = (1 + 0.5 * torch.randn(W, generator=g, dtype=torch.float64)).to(dev, dt)
                b = (0.5 * torch.randn(W, generator=g, dtype=torch.float64)).to(dev, dt)
                dy = torch.randn(rows, W, generator=g, dtype=torch.float64).to(dev, dt)
                y, dx = ours(x, w, b, dy)
                ty, tdx = torch_form(x.double(), w.double(), b.double(), dy.double())  # fp64 truth on the same values
                ey, edx = rel(y, ty), (rel(dx, tdx) if W > 1 else dx.abs().max().item() if rows else 0.0)
                tol = 1e-13 if dt == torch.float64 else 1e-6
                key = (str(dt), W)
                worst[key] = max(worst.get(key, (0, 0)), (ey, edx))
                if not (ey <= tol and edx <= tol) or torch.isnan(y).any() or torch.isnan(dx).any():
                    ok = False
                    print("FAIL", dt, W, pad, rows, ey, edx)
for k, v in sorted(worst.items()):
    print("worst vs fp64 torch", k, "y %.3g dx %.3g" % v)
# fp32 kernels vs torch's own fp32 CUDA composition
for W in (128, 300):
    g = torch.Generator().manual_seed(3)
    x = (0.7 + 2.5 * torch.randn(1000, W, generator=g)).to(dev); w = (1 + 0.5 * torch.randn(W, generator=g)).to(dev)
    b = (0.5 * torch.randn(W, generator=g)).to(dev); dy = torch.randn(1000, W, generator=g).to(dev)
    y, dx = ours(x, w, b, dy); ty, tdx = torch_form(x, w, b, dy)
    print("fp32 kernels vs torch fp32 cuda W=%d: y %.3g dx %.3g" % (W, rel(y, ty), rel(dx, tdx)))
print("CORRECTNESS", "OK" if ok else "FAILED")
if quick: sys.exit(0 if ok else 1)

def bench(f, n=50):
    for _ in range(5): f()
    torch.cuda.synchronize()
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    s.record()
    for _ in range(n): f()
    e.record(); torch.cuda.synchronize()
    return s.elapsed_time(e) / n

for dt in (torch.float32, torch.float64):
    rows, W = 98000, 128
    x = torch.randn(rows, W, device=dev, dtype=dt); w = torch.randn(W, device=dev, dtype=dt); b = torch.randn(W, device=dev, dtype=dt)
    dy = torch.randn(rows, W, device=dev, dtype=dt)
    y = torch.empty_like(x); dx = torch.empty_like(x)
    s = "f32" if dt == torch.float32 else "f64"
    F = getattr(lib, "fwd_" + s); B = getattr(lib, "bwd_" + s)
    t_of = bench(lambda: F(x.data_ptr(), W, w.data_ptr(), b.data_ptr(), y.data_ptr(), rows, W, eps))
    t_ob = bench(lambda: B(dy.data_ptr(), x.data_ptr(), W, w.data_ptr(), b.data_ptr(), dx.data_ptr(), rows, W, eps))
    t_tf = bench(lambda: torch.nn.functional.silu(torch.nn.functional.layer_norm(x, (W,), w, b, eps)))
    xr = x.clone().requires_grad_(True)
    def tb():
        out = torch.nn.functional.silu(torch.nn.functional.layer_norm(xr, (W,), w, b, eps))
        torch.autograd.grad(out, [xr], dy)
    t_tfb = bench(tb)
    nb = rows * W * x.element_size()
    print("%s rows=%d W=%d: ours fwd %.4f ms (%.0f GB/s), bwd %.4f ms (%.0f GB/s); torch fwd %.4f ms, torch fwd+bwd %.4f ms (bwd ~%.4f)"
          % (s, rows, W, t_of, 2 * nb / t_of / 1e6, t_ob, 3 * nb / t_ob / 1e6, t_tf, t_tfb, t_tfb - t_tf))
