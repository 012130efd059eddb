// kokkos_compat.h — the calls of pair_style uma/kk that depend on the LAMMPS (29Sep2021) or Kokkos
// (3.4.01) version; the Kokkos counterpart of src/lammps_compat.h. Porting uma/kk to a newer LAMMPS
// or Kokkos means editing only these two headers.
#ifndef LMP_UMA_KOKKOS_COMPAT_H
#define LMP_UMA_KOKKOS_COMPAT_H

#include "kokkos_type.h"
#include "neigh_request.h"
#include "neighbor.h"

#include <type_traits>

namespace LAMMPS_NS {
namespace uma_compat {

// Marks the newest neighbor request (the full list PairUMA::init_style asked for) as a Kokkos list
// built in DeviceType's memory, as LAMMPS's Kokkos pair styles do in init_style.
// 29Sep2021: flags kokkos_host/kokkos_device on neighbor->requests[nrequest - 1].
// Newer LAMMPS (from 2Jun2022): request->set_kokkos_host(...) / set_kokkos_device(...).
template <class DeviceType>
void mark_kokkos_request(Neighbor *neighbor)
{
  NeighRequest *request = neighbor->requests[neighbor->nrequest - 1];
  request->kokkos_host = std::is_same<DeviceType, LMPHostType>::value &&
      !std::is_same<DeviceType, LMPDeviceType>::value;
  request->kokkos_device = std::is_same<DeviceType, LMPDeviceType>::value;
}

// The CUDA device and stream of DeviceType's default execution space instance: -1 and nullptr when
// DeviceType does not run on a CUDA GPU. Kokkos 3.4: Kokkos::Cuda::cuda_device(), cuda_stream().
template <class DeviceType>
int cuda_device_of()
{
#ifdef KOKKOS_ENABLE_CUDA
  if (std::is_same<typename DeviceType::execution_space, Kokkos::Cuda>::value)
    return Kokkos::Cuda().cuda_device();
#endif
  return -1;
}

template <class DeviceType>
void *cuda_stream_of()
{
#ifdef KOKKOS_ENABLE_CUDA
  if (std::is_same<typename DeviceType::execution_space, Kokkos::Cuda>::value)
    return static_cast<void *>(Kokkos::Cuda().cuda_stream());
#endif
  return nullptr;
}

}    // namespace uma_compat
}    // namespace LAMMPS_NS

#endif
