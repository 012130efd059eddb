// Plugin entry point: `plugin load umaplugin.so` registers pair_style uma (and, in builds with
// UMA_ENABLE_KOKKOS, its Kokkos variants).
#include "lammpsplugin.h"

#include "version.h"

#include "pair_uma.h"

using namespace LAMMPS_NS;

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
  // Kokkos styles uma/kk, uma/kk/device and uma/kk/host (kokkos/pair_uma_kokkos.*) register here,
  // each with its own creator, following the same pattern.
#endif
}
