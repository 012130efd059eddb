// Plugin entry point: `plugin load umaplugin.so` registers pair_style uma (and, in builds with
// UMA_ENABLE_KOKKOS, its Kokkos variants).
#include "lammpsplugin.h"

#include "version.h"

#include "pair_uma.h"

using namespace LAMMPS_NS;

#ifdef UMA_ENABLE_KOKKOS
namespace LAMMPS_NS {
// kokkos/pair_uma_kokkos.cpp (compiled with the Kokkos compiler; no Kokkos headers here).
Pair *uma_kokkos_device_creator(LAMMPS *lmp);
Pair *uma_kokkos_host_creator(LAMMPS *lmp);
}    // namespace LAMMPS_NS
#endif

static Pair *uma_creator(LAMMPS *lmp)
{
  return new PairUMA(lmp);
}

extern "C" void lammpsplugin_init(void *lmp, void *handle, void *regfunc)
{
  auto register_plugin = (lammpsplugin_regfunc) regfunc;
  lammpsplugin_t plugin;

  plugin.version = LAMMPS_VERSION;
  plugin.style = "pair";
  plugin.name = "uma";
  plugin.info = "UMA universal machine-learning interatomic potential (Meta fairchem)";
  plugin.author = "UMA for LAMMPS developers";
  plugin.creator.v1 = (lammpsplugin_factory1 *) &uma_creator;
  plugin.handle = handle;
  (*register_plugin)(&plugin, lmp);

#ifdef UMA_ENABLE_KOKKOS
  // uma/kk and uma/kk/device run in Kokkos' default (device) space, uma/kk/host in its host space
  // (the same class in a host-only Kokkos build); uma/gpu is another name for uma/kk/device.
  // `-sf kk` turns `pair_style uma` into uma/kk.
  struct KokkosStyle {
    const char *name, *info;
    Pair *(*creator)(LAMMPS *);
  };
  const KokkosStyle kokkos_styles[] = {
      {"uma/kk", "UMA potential, Kokkos (device)", &uma_kokkos_device_creator},
      {"uma/kk/device", "UMA potential, Kokkos (device)", &uma_kokkos_device_creator},
      {"uma/kk/host", "UMA potential, Kokkos (host)", &uma_kokkos_host_creator},
      {"uma/gpu", "UMA potential, Kokkos (device); alias of uma/kk/device",
       &uma_kokkos_device_creator}};
  for (const KokkosStyle &style : kokkos_styles) {
    plugin.name = style.name;
    plugin.info = style.info;
    plugin.creator.v1 = (lammpsplugin_factory1 *) style.creator;
    (*register_plugin)(&plugin, lmp);
  }
#endif
}
