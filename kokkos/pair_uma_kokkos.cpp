// pair_style uma/kk: explicit instantiations and the plugin's creators. Compiled with the Kokkos
// compiler (g++ for Serial/OpenMP, nvcc_wrapper for CUDA); includes no Torch header.
#include "pair_uma_kokkos_impl.h"

namespace LAMMPS_NS {

template class PairUMAKokkos<LMPDeviceType>;
#ifdef LMP_KOKKOS_GPU
template class PairUMAKokkos<LMPHostType>;
#endif

// Creators for src/uma_plugin.cpp, which is compiled without Kokkos headers.
Pair *uma_kokkos_device_creator(LAMMPS *lmp)
{
  return new PairUMAKokkos<LMPDeviceType>(lmp);
}

Pair *uma_kokkos_host_creator(LAMMPS *lmp)
{
  return new PairUMAKokkos<LMPHostType>(lmp);
}

}    // namespace LAMMPS_NS
