// Explicit instantiation of the Wigner rotation launchers (lmax = 2) for float.
#include "wigner_launch_impl.cuh"

namespace uma {
namespace kernels {

template void gather_rotate_fwd<float>(const GatherRotateFwdParams<float>&, cudaStream_t);
template void gather_rotate_bwd<float>(const GatherRotateBwdParams<float>&, ScatterMode, cudaStream_t);
template void rotate_back_scatter_fwd<float>(const RotateBackScatterFwdParams<float>&, ScatterMode, cudaStream_t);
template void rotate_back_scatter_bwd<float>(const RotateBackScatterBwdParams<float>&, cudaStream_t);

}  // namespace kernels
}  // namespace uma
