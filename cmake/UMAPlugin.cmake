# UMAPlugin.cmake — the LAMMPS plugin umaplugin.so (pair_style uma), built out of tree against a
# LAMMPS source tree: the one tools/build-lammps.sh keeps in its cache (docs/cpu-stack.md), or the
# user's own. Included by the top-level CMakeLists.txt when UMA_ENABLE_LAMMPS is ON, after it defines
# the static, position-independent engine target uma_engine (which links Torch).
#
#   UMA_LAMMPS_DIR  either a cache directory printed by tools/build-lammps.sh (it holds lammps.env,
#                   which names the source tree and lmp), or a LAMMPS source tree (it holds
#                   src/pair.h); default ${UMA_CACHE:-$HOME/.cache/uma}/lammps-current
#   UMA_LMP         the lmp the LAMMPS-level tests and examples run (default: from lammps.env; with a
#                   plain source tree, an lmp found in <tree>/build or on PATH). Without it the plugin
#                   still builds; those tests are not registered.
# Supported LAMMPS versions: 29Sep2021 (everything) and 4Feb2025 (the plain style; uma/kk needs
# 29Sep2021). The version is read from <source>/src/version.h into UMA_LAMMPS_VERSION_NUMBER
# (YYYYMMDD), passed to the glue as LAMMPS_VERSION_NUMBER (src/lammps_compat.h).

if(NOT TARGET uma_engine)
  message(FATAL_ERROR "UMA: cmake/UMAPlugin.cmake needs the target uma_engine; include it after "
                      "add_library(uma_engine ...) in the top-level CMakeLists.txt")
endif()

if(DEFINED ENV{UMA_CACHE})
  set(_uma_cache_root "$ENV{UMA_CACHE}")
else()
  set(_uma_cache_root "$ENV{HOME}/.cache/uma")
endif()
set(UMA_LAMMPS_DIR "${_uma_cache_root}/lammps-current" CACHE PATH
    "LAMMPS cache directory made by tools/build-lammps.sh (contains lammps.env), or a LAMMPS source tree")

set(_uma_lammps_env "${UMA_LAMMPS_DIR}/lammps.env")
if(EXISTS "${_uma_lammps_env}")
  file(STRINGS "${_uma_lammps_env}" _uma_env_lines)
  foreach(_line IN LISTS _uma_env_lines)
    if(_line MATCHES "^([A-Z_]+)=(.*)$")
      set(_uma_env_${CMAKE_MATCH_1} "${CMAKE_MATCH_2}")
    endif()
  endforeach()
  set(UMA_LAMMPS_SOURCE_DIR "${_uma_env_LAMMPS_SOURCE_DIR}")
  set(_uma_lmp_default "${_uma_env_LMP}")
  if(NOT EXISTS "${UMA_LAMMPS_SOURCE_DIR}/src/pair.h")
    message(FATAL_ERROR "UMA: ${_uma_lammps_env} names LAMMPS source ${UMA_LAMMPS_SOURCE_DIR}, "
                        "which has no src/pair.h; rerun tools/build-lammps.sh")
  endif()
elseif(EXISTS "${UMA_LAMMPS_DIR}/src/pair.h")
  # A LAMMPS source tree of the user's (built with PLUGIN, shared or not): its headers are what the
  # plugin compiles against; lmp is looked for in its usual build folder, then on PATH.
  set(UMA_LAMMPS_SOURCE_DIR "${UMA_LAMMPS_DIR}")
  find_program(_uma_lmp_found NAMES lmp lmp_mpi lmp_serial
               HINTS "${UMA_LAMMPS_DIR}/build" "${UMA_LAMMPS_DIR}/src" NO_CACHE)
  set(_uma_lmp_default "${_uma_lmp_found}")
  if(NOT _uma_lmp_default)
    set(_uma_lmp_default "")
  endif()
else()
  message(FATAL_ERROR "UMA: ${UMA_LAMMPS_DIR} is neither a LAMMPS build of tools/build-lammps.sh "
                      "(no lammps.env) nor a LAMMPS source tree (no src/pair.h); run "
                      "tools/build-lammps.sh, or pass -DUMA_LAMMPS_DIR=<the directory it prints> or "
                      "-DUMA_LAMMPS_DIR=<your LAMMPS source tree>")
endif()
# UMA_LMP follows UMA_LAMMPS_DIR when that changes, unless it was given on the command line.
if(DEFINED UMA_LMP AND NOT DEFINED _UMA_LMP_FROM)
  set(_UMA_LMP_FROM "${UMA_LAMMPS_DIR}" CACHE INTERNAL "")
endif()
if(NOT "${_UMA_LMP_FROM}" STREQUAL "${UMA_LAMMPS_DIR}")
  set(UMA_LMP "${_uma_lmp_default}" CACHE FILEPATH
      "lmp executable for the LAMMPS-level tests and examples (built with the same LAMMPS source)" FORCE)
  set(_UMA_LMP_FROM "${UMA_LAMMPS_DIR}" CACHE INTERNAL "")
endif()

# LAMMPS's version from version.h ("#define LAMMPS_VERSION \"4 Feb 2025\"") as YYYYMMDD.
file(STRINGS "${UMA_LAMMPS_SOURCE_DIR}/src/version.h" _uma_version_line
     REGEX "^#define LAMMPS_VERSION \"[0-9]+ [A-Za-z]+ [0-9]+\"")
if(NOT _uma_version_line MATCHES "\"([0-9]+) ([A-Za-z]+) ([0-9]+)\"")
  message(FATAL_ERROR "UMA: no '#define LAMMPS_VERSION \"D Mon YYYY\"' in "
                      "${UMA_LAMMPS_SOURCE_DIR}/src/version.h; is UMA_LAMMPS_DIR a LAMMPS source tree?")
endif()
set(_uma_day "${CMAKE_MATCH_1}")
set(_uma_year "${CMAKE_MATCH_3}")
set(_uma_months Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec)
list(FIND _uma_months "${CMAKE_MATCH_2}" _uma_month)
if(_uma_month LESS 0)
  message(FATAL_ERROR "UMA: cannot read the month of '${_uma_version_line}' in ${UMA_LAMMPS_SOURCE_DIR}/src/version.h")
endif()
math(EXPR _uma_month "${_uma_month} + 1")
math(EXPR UMA_LAMMPS_VERSION_NUMBER "${_uma_year} * 10000 + ${_uma_month} * 100 + ${_uma_day}")
set(UMA_LAMMPS_VERSION "${_uma_day}${CMAKE_MATCH_2}${_uma_year}")    # e.g. 4Feb2025
if(UMA_LAMMPS_VERSION_NUMBER LESS 20210929)
  message(FATAL_ERROR "UMA: LAMMPS ${UMA_LAMMPS_VERSION} in ${UMA_LAMMPS_SOURCE_DIR} is older than "
                      "29Sep2021, the oldest version pair_style uma builds against; use "
                      "tools/build-lammps.sh or a newer LAMMPS")
endif()
if(NOT UMA_LAMMPS_VERSION_NUMBER EQUAL 20210929 AND NOT UMA_LAMMPS_VERSION_NUMBER EQUAL 20250204)
  message(WARNING "UMA: LAMMPS ${UMA_LAMMPS_VERSION}: pair_style uma is tested with 29Sep2021 and "
                  "4Feb2025 only; versions in between or after should work (src/lammps_compat.h) but are untested")
endif()
# uma/kk needs the KOKKOS package of LAMMPS 29Sep2021 on Kokkos 3.4; newer LAMMPS needs Kokkos >= 4,
# which no package this project builds from provides.
if(UMA_ENABLE_KOKKOS AND NOT UMA_LAMMPS_VERSION_NUMBER EQUAL 20210929)
  message(FATAL_ERROR "UMA: UMA_ENABLE_KOKKOS (pair_style uma/kk) builds only against LAMMPS "
                      "29Sep2021, and ${UMA_LAMMPS_SOURCE_DIR} is LAMMPS ${UMA_LAMMPS_VERSION} (its KOKKOS "
                      "package needs Kokkos 4, which is not packaged here); configure with "
                      "-DUMA_ENABLE_KOKKOS=OFF for the plain pair_style uma, or point -DUMA_LAMMPS_DIR at "
                      "the 29Sep2021 build of tools/build-lammps.sh")
endif()
# Test names and labels (unittest/): 29Sep2021, the reference build, keeps the plain names.
set(UMA_LAMMPS_TEST_LABELS "lammps-${UMA_LAMMPS_VERSION}")
if(UMA_LAMMPS_VERSION_NUMBER EQUAL 20210929)
  set(UMA_LAMMPS_TEST_SUFFIX "")
else()
  set(UMA_LAMMPS_TEST_SUFFIX "_${UMA_LAMMPS_VERSION}")
endif()
message(STATUS "UMA: LAMMPS plugin against LAMMPS ${UMA_LAMMPS_VERSION} in ${UMA_LAMMPS_SOURCE_DIR} "
               "(lmp: ${UMA_LMP})")

find_package(MPI REQUIRED COMPONENTS CXX)

# The plain style's glue, shared by umaplugin and (tests of a Kokkos build) umaplugin_plain.
add_library(uma_plain_glue OBJECT
  ${CMAKE_CURRENT_LIST_DIR}/../src/pair_uma.cpp
  ${CMAKE_CURRENT_LIST_DIR}/../src/pair_uma_halo.cpp
  ${CMAKE_CURRENT_LIST_DIR}/../src/pair_uma_checks.cpp
  ${CMAKE_CURRENT_LIST_DIR}/../src/pair_uma_exchange.cpp
  ${CMAKE_CURRENT_LIST_DIR}/../src/pair_uma_log.cpp)
add_library(umaplugin MODULE $<TARGET_OBJECTS:uma_plain_glue>
  ${CMAKE_CURRENT_LIST_DIR}/../src/uma_plugin.cpp)
set(_uma_plugin_targets uma_plain_glue umaplugin)
# A Kokkos build also makes the plugin as a build without Kokkos would be (no uma/kk, only the stubs
# that say so), for the tests of those messages (unittest/lammps/test_errors.py); it reuses the glue
# objects, only uma_plugin.cpp is compiled again.
if(UMA_ENABLE_KOKKOS AND UMA_ENABLE_TESTS)
  add_library(umaplugin_plain MODULE $<TARGET_OBJECTS:uma_plain_glue>
    ${CMAKE_CURRENT_LIST_DIR}/../src/uma_plugin.cpp)
  set_target_properties(umaplugin_plain PROPERTIES PREFIX "" SUFFIX ".so")
  list(APPEND _uma_plugin_targets umaplugin_plain)
endif()
foreach(_t IN LISTS _uma_plugin_targets)
  set_target_properties(${_t} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_compile_features(${_t} PRIVATE cxx_std_17)
  target_compile_definitions(${_t} PRIVATE LAMMPS_SMALLBIG
                             LAMMPS_VERSION_NUMBER=${UMA_LAMMPS_VERSION_NUMBER})
  target_include_directories(${_t} PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/../src
    ${UMA_LAMMPS_SOURCE_DIR}/src)
  target_link_libraries(${_t} PRIVATE uma_engine uma_halo MPI::MPI_CXX)
endforeach()
# `plugin load .../umaplugin.so`: no lib prefix. LAMMPS symbols resolve from the lmp executable.
set_target_properties(umaplugin PROPERTIES PREFIX "" OUTPUT_NAME umaplugin SUFFIX ".so")

# ---- pair_style uma/kk (UMA_ENABLE_KOKKOS) ------------------------------------------------------
# The Kokkos side (kokkos/pair_uma_kokkos.cpp) and the Torch side (src/engine/device_evaluator.cpp)
# are separate translation units that meet through plain pointers, sizes and a CUDA stream: the
# Kokkos one is compiled by the compiler LAMMPS's Kokkos was built with (g++ for Serial/OpenMP,
# Kokkos' nvcc_wrapper for CUDA), the Torch one by the C++ compiler of this project.
#   Kokkos_DIR              the Kokkos LAMMPS was built against (default: found by find_package;
#                           Debian's libtrilinos-kokkos-dev for the CPU stack)
#   UMA_KOKKOS_CXX_WRAPPER  nvcc_wrapper for a CUDA Kokkos (default: <Kokkos prefix>/bin/nvcc_wrapper)
if(UMA_ENABLE_KOKKOS)
  find_package(Kokkos 3.4 CONFIG QUIET)
  if(NOT Kokkos_FOUND)
    message(FATAL_ERROR "UMA: UMA_ENABLE_KOKKOS needs the Kokkos LAMMPS was built with (3.4.01); "
                        "install libtrilinos-kokkos-dev (tools/install-deps.sh) or pass "
                        "-DKokkos_DIR=<kokkos prefix>/lib/cmake/Kokkos (tools/build-lammps-gpu.sh)")
  endif()
  if(NOT Kokkos_VERSION VERSION_EQUAL 3.4.1 AND NOT Kokkos_VERSION VERSION_EQUAL 3.4.01)
    message(WARNING "UMA: Kokkos ${Kokkos_VERSION} found; LAMMPS 29Sep2021 is built and tested "
                    "with 3.4.01 (uma/kk must use the same Kokkos as lmp)")
  endif()
  # Debian's libtrilinos-kokkos-dev (docs/cpu-stack.md): its targets list /usr/lib/include, which
  # does not exist (CMake refuses to generate), and not /usr/include/trilinos, where the headers
  # are. Drop include directories that do not exist and add the one holding Kokkos_Core.hpp.
  foreach(_t Kokkos::kokkos Kokkos::kokkoscore Kokkos::kokkoscontainers Kokkos::kokkosalgorithms)
    if(TARGET ${_t})
      get_target_property(_dirs ${_t} INTERFACE_INCLUDE_DIRECTORIES)
      if(_dirs)
        set(_kept)
        foreach(_d IN LISTS _dirs)
          if(_d MATCHES "^\\$<" OR EXISTS "${_d}")
            list(APPEND _kept "${_d}")
          endif()
        endforeach()
        set_target_properties(${_t} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_kept}")
      endif()
    endif()
  endforeach()
  find_path(UMA_KOKKOS_INCLUDE_DIR Kokkos_Core.hpp
            HINTS ${Kokkos_INCLUDE_DIRS} "${Kokkos_DIR}/../../../include"
                  "${Kokkos_DIR}/../../../../include/trilinos" /usr/include/trilinos
            NO_DEFAULT_PATH)
  if(NOT UMA_KOKKOS_INCLUDE_DIR)
    message(FATAL_ERROR "UMA: no Kokkos_Core.hpp next to Kokkos ${Kokkos_DIR}; pass "
                        "-DUMA_KOKKOS_INCLUDE_DIR=<dir with Kokkos_Core.hpp>")
  endif()

  set(UMA_KOKKOS_CUDA OFF)
  if("CUDA" IN_LIST Kokkos_DEVICES)
    set(UMA_KOKKOS_CUDA ON)
  endif()

  add_library(uma_kokkos_glue OBJECT ${CMAKE_CURRENT_LIST_DIR}/../kokkos/pair_uma_kokkos.cpp)
  set_target_properties(uma_kokkos_glue PROPERTIES POSITION_INDEPENDENT_CODE ON CXX_EXTENSIONS OFF)
  target_compile_features(uma_kokkos_glue PRIVATE cxx_std_17)
  # As LAMMPS compiles its own sources (cmake/Modules/Packages/KOKKOS.cmake, docs/gpu-build.md §5).
  target_compile_definitions(uma_kokkos_glue PRIVATE LMP_KOKKOS LAMMPS_SMALLBIG OMPI_SKIP_MPICXX
                             MPICH_SKIP_MPICXX LAMMPS_VERSION_NUMBER=${UMA_LAMMPS_VERSION_NUMBER})
  target_include_directories(uma_kokkos_glue PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/../kokkos
    ${CMAKE_CURRENT_LIST_DIR}/../src
    ${UMA_LAMMPS_SOURCE_DIR}/src
    ${UMA_LAMMPS_SOURCE_DIR}/src/KOKKOS
    ${UMA_KOKKOS_INCLUDE_DIR})
  target_link_libraries(uma_kokkos_glue PRIVATE Kokkos::kokkos MPI::MPI_CXX)
  if(UMA_KOKKOS_CUDA)
    get_filename_component(_kokkos_prefix "${Kokkos_DIR}/../../.." ABSOLUTE)
    set(UMA_KOKKOS_CXX_WRAPPER "${_kokkos_prefix}/bin/nvcc_wrapper" CACHE FILEPATH
        "nvcc_wrapper of the CUDA Kokkos (compiles kokkos/pair_uma_kokkos.cpp)")
    if(NOT EXISTS "${UMA_KOKKOS_CXX_WRAPPER}")
      message(FATAL_ERROR "UMA: Kokkos ${Kokkos_DIR} has CUDA but no nvcc_wrapper at "
                          "${UMA_KOKKOS_CXX_WRAPPER}; pass -DUMA_KOKKOS_CXX_WRAPPER=<path>")
    endif()
    # Only this target goes through nvcc_wrapper: the launcher drops CMake's C++ compiler from the
    # command line and runs the wrapper with the same flags.
    set_target_properties(uma_kokkos_glue PROPERTIES CXX_COMPILER_LAUNCHER
      "${CMAKE_CURRENT_LIST_DIR}/../kokkos/nvcc-wrapper-launcher.sh;${UMA_KOKKOS_CXX_WRAPPER}")
    message(STATUS "UMA: uma/kk for Kokkos ${Kokkos_VERSION} (${Kokkos_DEVICES}) with "
                   "${UMA_KOKKOS_CXX_WRAPPER}")
  else()
    message(STATUS "UMA: uma/kk for Kokkos ${Kokkos_VERSION} (${Kokkos_DEVICES})")
  endif()

  target_sources(umaplugin PRIVATE $<TARGET_OBJECTS:uma_kokkos_glue>
                 ${CMAKE_CURRENT_LIST_DIR}/../src/engine/device_evaluator.cpp)
  target_compile_definitions(umaplugin PRIVATE UMA_ENABLE_KOKKOS)
  # Link only: Kokkos' compile flags (nvcc_wrapper's on CUDA) must not reach the Torch sources.
  target_link_libraries(umaplugin PRIVATE $<LINK_ONLY:Kokkos::kokkos>)
endif()
