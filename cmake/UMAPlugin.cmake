# UMAPlugin.cmake — the LAMMPS plugin umaplugin.so (pair_style uma), built out of tree against one or
# more LAMMPS source trees: the ones tools/build-lammps.sh keeps in its cache (docs/cpu-stack.md), or
# the user's own. Included by the top-level CMakeLists.txt when UMA_ENABLE_LAMMPS is ON, after it
# defines the static, position-independent engine target uma_engine (which links Torch). The engine is
# compiled once; each LAMMPS tree gets its own glue objects and plugin (the glue's class layouts and
# calls depend on the LAMMPS version, the engine does not).
#
#   UMA_LAMMPS_DIR         either a cache directory printed by tools/build-lammps.sh (it holds
#                          lammps.env, which names the source tree and lmp), or a LAMMPS source tree (it
#                          holds src/pair.h); default ${UMA_CACHE:-$HOME/.cache/uma}/lammps-current.
#                          Its plugin is the target umaplugin, ${CMAKE_BINARY_DIR}/umaplugin.so, with
#                          uma/kk when UMA_ENABLE_KOKKOS is ON.
#   UMA_LMP                the lmp the LAMMPS-level tests and examples run (default: from lammps.env;
#                          with a plain source tree, an lmp found in <tree>/build or on PATH). Without it
#                          the plugin still builds; those tests are not registered.
#   UMA_LAMMPS_EXTRA_DIRS  further LAMMPS trees (same two forms, ;-separated), each of another LAMMPS
#                          version: a plain-style plugin umaplugin_<version> for each, in
#                          ${CMAKE_BINARY_DIR}/lammps-<version>/umaplugin.so (a folder of its own, so
#                          LAMMPS_PLUGIN_PATH pointing there loads only it), and its tests.
# Supported LAMMPS versions: 29Sep2021 (everything) and 4Feb2025 (the plain style; uma/kk needs
# 29Sep2021). The version is read from <source>/src/version.h (YYYYMMDD) and passed to that tree's glue
# as LAMMPS_VERSION_NUMBER (src/lammps_compat.h).
#
# For unittest/, every plugin target is listed in the global property UMA_LAMMPS_PLUGINS and carries
# UMA_LMP, UMA_LAMMPS_SOURCE_DIR, UMA_LAMMPS_VERSION, UMA_LAMMPS_TEST_SUFFIX (empty for 29Sep2021, the
# reference build, else _<version>), UMA_LAMMPS_TEST_LABELS (lammps-<version>) and UMA_PLAIN_PLUGIN
# (the target of that version's plugin as built without Kokkos) as target properties.

if(NOT TARGET uma_engine)
  message(FATAL_ERROR "UMA: cmake/UMAPlugin.cmake needs the target uma_engine; include it after "
                      "add_library(uma_engine ...) in the top-level CMakeLists.txt")
endif()
find_package(MPI REQUIRED COMPONENTS CXX)

if(DEFINED ENV{UMA_CACHE})
  set(_uma_cache_root "$ENV{UMA_CACHE}")
else()
  set(_uma_cache_root "$ENV{HOME}/.cache/uma")
endif()
set(UMA_LAMMPS_DIR "${_uma_cache_root}/lammps-current" CACHE PATH
    "LAMMPS cache directory made by tools/build-lammps.sh (contains lammps.env), or a LAMMPS source tree")
set(UMA_LAMMPS_EXTRA_DIRS "" CACHE STRING
    "Further LAMMPS trees (;-separated, each a tools/build-lammps.sh cache or a source tree): one plain plugin each")

# uma_lammps_tree(<dir> <prefix>): reads the LAMMPS tree <dir> (a tools/build-lammps.sh cache with
# lammps.env, or a source tree) into <prefix>_SOURCE_DIR, <prefix>_LMP (its lmp, or empty),
# <prefix>_VERSION (e.g. 4Feb2025) and <prefix>_VERSION_NUMBER (e.g. 20250204).
function(uma_lammps_tree dir prefix)
  set(_lmp "")
  if(EXISTS "${dir}/lammps.env")
    file(STRINGS "${dir}/lammps.env" _env_lines)
    foreach(_line IN LISTS _env_lines)
      if(_line MATCHES "^([A-Z_]+)=(.*)$")
        set(_env_${CMAKE_MATCH_1} "${CMAKE_MATCH_2}")
      endif()
    endforeach()
    set(_src "${_env_LAMMPS_SOURCE_DIR}")
    set(_lmp "${_env_LMP}")
    if(NOT EXISTS "${_src}/src/pair.h")
      message(FATAL_ERROR "UMA: ${dir}/lammps.env names LAMMPS source ${_src}, which has no "
                          "src/pair.h; rerun tools/build-lammps.sh")
    endif()
  elseif(EXISTS "${dir}/src/pair.h")
    # A LAMMPS source tree of the user's (built with PLUGIN, shared or not): its headers are what the
    # plugin compiles against; lmp is looked for in its usual build folder, then on PATH.
    set(_src "${dir}")
    find_program(_lmp_found NAMES lmp lmp_mpi lmp_serial HINTS "${dir}/build" "${dir}/src" NO_CACHE)
    if(_lmp_found)
      set(_lmp "${_lmp_found}")
    endif()
  else()
    message(FATAL_ERROR "UMA: ${dir} is neither a LAMMPS build of tools/build-lammps.sh "
                        "(no lammps.env) nor a LAMMPS source tree (no src/pair.h); run "
                        "tools/build-lammps.sh, or pass -DUMA_LAMMPS_DIR=<the directory it prints> or "
                        "-DUMA_LAMMPS_DIR=<your LAMMPS source tree>")
  endif()

  # LAMMPS's version from version.h ("#define LAMMPS_VERSION \"4 Feb 2025\"") as YYYYMMDD.
  file(STRINGS "${_src}/src/version.h" _version_line
       REGEX "^#define LAMMPS_VERSION \"[0-9]+ [A-Za-z]+ [0-9]+\"")
  if(NOT _version_line MATCHES "\"([0-9]+) ([A-Za-z]+) ([0-9]+)\"")
    message(FATAL_ERROR "UMA: no '#define LAMMPS_VERSION \"D Mon YYYY\"' in ${_src}/src/version.h; "
                        "is ${dir} a LAMMPS source tree?")
  endif()
  set(_day "${CMAKE_MATCH_1}")
  set(_mon "${CMAKE_MATCH_2}")
  set(_year "${CMAKE_MATCH_3}")
  set(_months Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec)
  list(FIND _months "${_mon}" _month)
  if(_month LESS 0)
    message(FATAL_ERROR "UMA: cannot read the month of '${_version_line}' in ${_src}/src/version.h")
  endif()
  math(EXPR _month "${_month} + 1")
  math(EXPR _number "${_year} * 10000 + ${_month} * 100 + ${_day}")
  set(_version "${_day}${_mon}${_year}")
  if(_number LESS 20210929)
    message(FATAL_ERROR "UMA: LAMMPS ${_version} in ${_src} is older than 29Sep2021, the oldest "
                        "version pair_style uma builds against; use tools/build-lammps.sh or a newer LAMMPS")
  endif()
  if(NOT _number EQUAL 20210929 AND NOT _number EQUAL 20250204)
    message(WARNING "UMA: LAMMPS ${_version}: pair_style uma is tested with 29Sep2021 and 4Feb2025 "
                    "only; versions in between or after should work (src/lammps_compat.h) but are untested")
  endif()
  set(${prefix}_SOURCE_DIR "${_src}" PARENT_SCOPE)
  set(${prefix}_LMP "${_lmp}" PARENT_SCOPE)
  set(${prefix}_VERSION "${_version}" PARENT_SCOPE)
  set(${prefix}_VERSION_NUMBER "${_number}" PARENT_SCOPE)
endfunction()

# uma_lammps_glue_flags(<target> <LAMMPS source tree> <YYYYMMDD>): how glue code is compiled
# against one LAMMPS tree, and what it links (LAMMPS symbols resolve from lmp at load time).
function(uma_lammps_glue_flags target source_dir version_number)
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_compile_features(${target} PRIVATE cxx_std_17)
  target_compile_definitions(${target} PRIVATE LAMMPS_SMALLBIG LAMMPS_VERSION_NUMBER=${version_number})
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/src ${source_dir}/src)
  target_link_libraries(${target} PRIVATE uma_engine uma_halo MPI::MPI_CXX)
endfunction()

# uma_add_lammps_plugin(<target> SOURCE_DIR <tree> VERSION <e.g. 4Feb2025> VERSION_NUMBER <YYYYMMDD>
#                       LMP <lmp or empty> [OUTPUT_DIRECTORY <dir>]): the plain style's glue compiled
# against one LAMMPS tree (object library <target>_glue) and the plugin <target> (umaplugin.so in
# OUTPUT_DIRECTORY, default the build folder), linking the one uma_engine; registered for unittest/.
function(uma_add_lammps_plugin target)
  cmake_parse_arguments(PARSE_ARGV 1 P "" "SOURCE_DIR;VERSION;VERSION_NUMBER;LMP;OUTPUT_DIRECTORY" "")
  if(NOT P_OUTPUT_DIRECTORY)
    set(P_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}")
  endif()
  set(_src_dir "${PROJECT_SOURCE_DIR}/src")
  add_library(${target}_glue OBJECT
    ${_src_dir}/pair_uma.cpp ${_src_dir}/pair_uma_halo.cpp ${_src_dir}/pair_uma_checks.cpp
    ${_src_dir}/pair_uma_exchange.cpp ${_src_dir}/pair_uma_log.cpp)
  add_library(${target} MODULE $<TARGET_OBJECTS:${target}_glue> ${_src_dir}/uma_plugin.cpp)
  foreach(_t ${target}_glue ${target})
    uma_lammps_glue_flags(${_t} "${P_SOURCE_DIR}" ${P_VERSION_NUMBER})
  endforeach()
  # `plugin load .../umaplugin.so`: no lib prefix. LAMMPS symbols resolve from the lmp executable.
  set_target_properties(${target} PROPERTIES PREFIX "" OUTPUT_NAME umaplugin SUFFIX ".so"
                        LIBRARY_OUTPUT_DIRECTORY "${P_OUTPUT_DIRECTORY}")
  # Test names and labels (unittest/): 29Sep2021, the reference build, keeps the plain names.
  if(P_VERSION_NUMBER EQUAL 20210929)
    set(_suffix "")
  else()
    set(_suffix "_${P_VERSION}")
  endif()
  set_target_properties(${target} PROPERTIES UMA_LMP "${P_LMP}" UMA_LAMMPS_SOURCE_DIR "${P_SOURCE_DIR}"
    UMA_LAMMPS_VERSION "${P_VERSION}" UMA_LAMMPS_TEST_SUFFIX "${_suffix}"
    UMA_LAMMPS_TEST_LABELS "lammps-${P_VERSION}" UMA_PLAIN_PLUGIN ${target})
  set_property(GLOBAL APPEND PROPERTY UMA_LAMMPS_PLUGINS ${target})
  message(STATUS "UMA: ${target} against LAMMPS ${P_VERSION} in ${P_SOURCE_DIR} (lmp: ${P_LMP})")
endfunction()

# ---- umaplugin: the tree of UMA_LAMMPS_DIR -----------------------------------------------------
uma_lammps_tree("${UMA_LAMMPS_DIR}" UMA_LAMMPS)
# UMA_LMP follows UMA_LAMMPS_DIR when that changes, unless it was given on the command line.
if(DEFINED UMA_LMP AND NOT DEFINED _UMA_LMP_FROM)
  set(_UMA_LMP_FROM "${UMA_LAMMPS_DIR}" CACHE INTERNAL "")
endif()
if(NOT "${_UMA_LMP_FROM}" STREQUAL "${UMA_LAMMPS_DIR}")
  set(UMA_LMP "${UMA_LAMMPS_LMP}" CACHE FILEPATH
      "lmp executable for the LAMMPS-level tests and examples (built with the same LAMMPS source)" FORCE)
  set(_UMA_LMP_FROM "${UMA_LAMMPS_DIR}" CACHE INTERNAL "")
endif()
# uma/kk needs the KOKKOS package of LAMMPS 29Sep2021 on Kokkos 3.4; newer LAMMPS needs Kokkos >= 4,
# which no package this project builds from provides.
if(UMA_ENABLE_KOKKOS AND NOT UMA_LAMMPS_VERSION_NUMBER EQUAL 20210929)
  message(FATAL_ERROR "UMA: UMA_ENABLE_KOKKOS (pair_style uma/kk) builds only against LAMMPS "
                      "29Sep2021, and ${UMA_LAMMPS_SOURCE_DIR} is LAMMPS ${UMA_LAMMPS_VERSION} (its KOKKOS "
                      "package needs Kokkos 4, which is not packaged here); configure with "
                      "-DUMA_ENABLE_KOKKOS=OFF for the plain pair_style uma, or point -DUMA_LAMMPS_DIR at "
                      "the 29Sep2021 build of tools/build-lammps.sh (newer LAMMPS trees can be added "
                      "with -DUMA_LAMMPS_EXTRA_DIRS=)")
endif()
uma_add_lammps_plugin(umaplugin SOURCE_DIR "${UMA_LAMMPS_SOURCE_DIR}" VERSION "${UMA_LAMMPS_VERSION}"
                      VERSION_NUMBER "${UMA_LAMMPS_VERSION_NUMBER}" LMP "${UMA_LMP}")
# A Kokkos build also makes the plugin as a build without Kokkos would be (no uma/kk, only the stubs
# that say so), for the tests of those messages (unittest/lammps/test_errors.py); it reuses the glue
# objects, only uma_plugin.cpp is compiled again.
if(UMA_ENABLE_KOKKOS AND UMA_ENABLE_TESTS)
  add_library(umaplugin_plain MODULE $<TARGET_OBJECTS:umaplugin_glue>
    ${CMAKE_CURRENT_LIST_DIR}/../src/uma_plugin.cpp)
  set_target_properties(umaplugin_plain PROPERTIES PREFIX "" SUFFIX ".so")
  uma_lammps_glue_flags(umaplugin_plain "${UMA_LAMMPS_SOURCE_DIR}" ${UMA_LAMMPS_VERSION_NUMBER})
  set_target_properties(umaplugin PROPERTIES UMA_PLAIN_PLUGIN umaplugin_plain)
endif()

# ---- umaplugin_<version>: one plain plugin per tree of UMA_LAMMPS_EXTRA_DIRS --------------------
set(_uma_versions "${UMA_LAMMPS_VERSION}")
foreach(_dir IN LISTS UMA_LAMMPS_EXTRA_DIRS)
  uma_lammps_tree("${_dir}" _uma_extra)
  if("${_uma_extra_VERSION}" IN_LIST _uma_versions)
    message(FATAL_ERROR "UMA: UMA_LAMMPS_EXTRA_DIRS: ${_dir} is LAMMPS ${_uma_extra_VERSION}, a version "
                        "already built (UMA_LAMMPS_DIR or an earlier entry); give each version once")
  endif()
  list(APPEND _uma_versions "${_uma_extra_VERSION}")
  uma_add_lammps_plugin(umaplugin_${_uma_extra_VERSION} SOURCE_DIR "${_uma_extra_SOURCE_DIR}"
    VERSION "${_uma_extra_VERSION}" VERSION_NUMBER "${_uma_extra_VERSION_NUMBER}"
    LMP "${_uma_extra_LMP}" OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/lammps-${_uma_extra_VERSION}")
endforeach()

# ---- pair_style uma/kk (UMA_ENABLE_KOKKOS) ------------------------------------------------------
# The Kokkos side (kokkos/pair_uma_kokkos.cpp) and the Torch side (src/engine/io/device_evaluator.cpp)
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
                 ${CMAKE_CURRENT_LIST_DIR}/../src/engine/io/device_evaluator.cpp)
  target_compile_definitions(umaplugin PRIVATE UMA_ENABLE_KOKKOS)
  # Link only: Kokkos' compile flags (nvcc_wrapper's on CUDA) must not reach the Torch sources.
  target_link_libraries(umaplugin PRIVATE $<LINK_ONLY:Kokkos::kokkos>)
endif()
