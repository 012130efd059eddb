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

#ifndef UMA_ENABLE_KOKKOS
#include "comm.h"
#include "error.h"
#include "utils.h"

#include <cstring>

namespace {
// A plugin built without Kokkos still answers to the Kokkos style names, so that 'pair_style uma/kk'
// says what is missing instead of LAMMPS's "Unrecognized pair style". Under '-sf kk' (which turns
// 'pair_style uma' into uma/kk) it runs the plain style and logs that it does.
template <int Variant>
class PairUMAWithoutKokkos : public PairUMA {
 public:
  static constexpr const char *names[] = {"uma/kk", "uma/kk/device", "uma/kk/host", "uma/gpu"};
  explicit PairUMAWithoutKokkos(LAMMPS *lmp) : PairUMA(lmp) {}
  static Pair *create(LAMMPS *lmp) { return new PairUMAWithoutKokkos(lmp); }

  void settings(int narg, char **arg) override
  {
    auto accelerator = [](const char *suffix) {
      return suffix && (strcmp(suffix, "kk") == 0 || strcmp(suffix, "gpu") == 0);
    };
    const bool kk_suffix = lmp->suffix_enable && (accelerator(lmp->suffix) || accelerator(lmp->suffix2));
    if (!kk_suffix)
      error->all(FLERR, "pair_style {}: this umaplugin.so was built without Kokkos; rebuild it with "
                 "-DUMA_ENABLE_KOKKOS=ON, or use pair_style uma", names[Variant]);
    if (comm->me == 0 && !logged_fallback)
      utils::logmesg(lmp, "UMA: '-sf {}' is active, but this umaplugin.so was built without Kokkos: running "
                     "the plain pair_style uma (host memory, LibTorch) instead of {}; rebuild with "
                     "-DUMA_ENABLE_KOKKOS=ON for uma/kk\n", lmp->suffix, names[Variant]);
    logged_fallback = true;
    PairUMA::settings(narg, arg);
  }

 private:
  bool logged_fallback = false;
};
}    // namespace
#endif

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
#else
  const char *const stub_info = "UMA potential, Kokkos style (not in this build: says how to get it)";
  Pair *(*const stub_creators[])(LAMMPS *) = {
      &PairUMAWithoutKokkos<0>::create, &PairUMAWithoutKokkos<1>::create,
      &PairUMAWithoutKokkos<2>::create, &PairUMAWithoutKokkos<3>::create};
  for (int v = 0; v < 4; v++) {
    plugin.name = PairUMAWithoutKokkos<0>::names[v];
    plugin.info = stub_info;
    plugin.creator.v1 = (lammpsplugin_factory1 *) stub_creators[v];
    (*register_plugin)(&plugin, lmp);
  }
#endif
}
