// C entry points over the fused LayerNorm + SiLU launchers (src/kernels/layer_norm_silu/layer_norm_silu_launch.h)
// for benchmarks/kernels/layer_norm_silu_vs_torch.py, which calls them through ctypes on PyTorch's tensors: the
// kernels checked and timed on a GPU machine with nvcc and PyTorch alone, no LibTorch build. Default stream; 0 on
// success, 1 (message printed) when a launcher throws.
// Build: nvcc -std=c++17 -O3 -arch=sm_90 -shared -Xcompiler -fPIC -I src benchmarks/kernels/layer_norm_silu_capi.cu
//        src/kernels/layer_norm_silu/layer_norm_silu.cu -o liblnsilu.so
#include <cstdio>
#include <exception>
#include "kernels/layer_norm_silu/layer_norm_silu_launch.h"
using namespace uma::kernels;
template <typename T>
int fwd(const void* x, long ld, const void* w, const void* b, void* y, long rows, long W, double eps) {
  LayerNormSiluFwdParams<T> p;
  p.x = (const T*)x; p.ld = ld; p.weight = (const T*)w; p.bias = (const T*)b; p.y = (T*)y; p.rows = rows; p.width = W; p.eps = eps;
  try { layer_norm_silu_fwd(p, cudaStream_t(0)); } catch (const std::exception& e) { std::printf("ERR %s\n", e.what()); return 1; }
  return 0;
}
template <typename T>
int bwd(const void* dy, const void* x, long ld, const void* w, const void* b, void* dx, long rows, long W, double eps) {
  LayerNormSiluBwdParams<T> p;
  p.grad_y = (const T*)dy; p.x = (const T*)x; p.ld = ld; p.weight = (const T*)w; p.bias = (const T*)b; p.grad_x = (T*)dx;
  p.rows = rows; p.width = W; p.eps = eps;
  try { layer_norm_silu_bwd(p, cudaStream_t(0)); } catch (const std::exception& e) { std::printf("ERR %s\n", e.what()); return 1; }
  return 0;
}
extern "C" {
int fwd_f32(const void* x, long ld, const void* w, const void* b, void* y, long rows, long W, double eps) { return fwd<float>(x, ld, w, b, y, rows, W, eps); }
int fwd_f64(const void* x, long ld, const void* w, const void* b, void* y, long rows, long W, double eps) { return fwd<double>(x, ld, w, b, y, rows, W, eps); }
int bwd_f32(const void* dy, const void* x, long ld, const void* w, const void* b, void* dx, long rows, long W, double eps) { return bwd<float>(dy, x, ld, w, b, dx, rows, W, eps); }
int bwd_f64(const void* dy, const void* x, long ld, const void* w, const void* b, void* dx, long rows, long W, double eps) { return bwd<double>(dy, x, ld, w, b, dx, rows, W, eps); }
}
