# UMAPlugin.cmake — the LAMMPS plugin umaplugin.so (pair_style uma), built out of tree against the
# LAMMPS source and build that tools/build-lammps.sh keeps in its cache (docs/cpu-stack.md).
# Included by the top-level CMakeLists.txt when UMA_ENABLE_LAMMPS is ON, after it defines the
# static, position-independent engine target uma_engine (which links Torch).
#
#   UMA_LAMMPS_DIR  cache directory printed by tools/build-lammps.sh (it holds lammps.env);
#                   default ${UMA_CACHE:-$HOME/.cache/uma}/lammps-current

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
    "LAMMPS cache directory made by tools/build-lammps.sh (contains lammps.env)")

set(_uma_lammps_env "${UMA_LAMMPS_DIR}/lammps.env")
if(NOT EXISTS "${_uma_lammps_env}")
  message(FATAL_ERROR "UMA: no LAMMPS build found at ${UMA_LAMMPS_DIR} (no lammps.env); run "
                      "tools/build-lammps.sh, or pass -DUMA_LAMMPS_DIR=<the directory it prints>")
endif()
file(STRINGS "${_uma_lammps_env}" _uma_env_lines)
foreach(_line IN LISTS _uma_env_lines)
  if(_line MATCHES "^([A-Z_]+)=(.*)$")
    set(UMA_${CMAKE_MATCH_1} "${CMAKE_MATCH_2}")
  endif()
endforeach()
if(NOT EXISTS "${UMA_LAMMPS_SOURCE_DIR}/src/pair.h")
  message(FATAL_ERROR "UMA: ${_uma_lammps_env} names LAMMPS source ${UMA_LAMMPS_SOURCE_DIR}, "
                      "which has no src/pair.h; rerun tools/build-lammps.sh")
endif()
message(STATUS "UMA: LAMMPS plugin against ${UMA_LAMMPS_SOURCE_DIR} (lmp: ${UMA_LMP})")

find_package(MPI REQUIRED COMPONENTS CXX)

add_library(umaplugin MODULE
  ${CMAKE_CURRENT_LIST_DIR}/../src/pair_uma.cpp
  ${CMAKE_CURRENT_LIST_DIR}/../src/uma_plugin.cpp)
# `plugin load .../umaplugin.so`: no lib prefix. LAMMPS symbols resolve from the lmp executable.
set_target_properties(umaplugin PROPERTIES PREFIX "" OUTPUT_NAME umaplugin SUFFIX ".so")
target_compile_features(umaplugin PRIVATE cxx_std_17)
target_compile_definitions(umaplugin PRIVATE LAMMPS_SMALLBIG)
target_include_directories(umaplugin PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/../src
  ${UMA_LAMMPS_SOURCE_DIR}/src)
target_link_libraries(umaplugin PRIVATE uma_engine MPI::MPI_CXX)
