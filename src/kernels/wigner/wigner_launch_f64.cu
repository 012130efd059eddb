// Explicit instantiation of the Wigner rotation launchers (lmax = 2) for double.
#include "wigner_launch_impl.cuh"

namespace uma {
namespace kernels {

template void gather_rotate_fwd<double>(const GatherRotateFwdParams<double>&, cudaStream_t);
template void gather_rotate_bwd<double>(const GatherRotateBwdParams<double>&, ScatterMode, cudaStream_t);
template void rotate_back_scatter_fwd<double>(const RotateBackScatterFwdParams<double>&, ScatterMode, cudaStream_t);
template void rotate_back_scatter_bwd<double>(const RotateBackScatterBwdParams<double>&, cudaStream_t);

}  // namespace kernels
}  // namespace uma
