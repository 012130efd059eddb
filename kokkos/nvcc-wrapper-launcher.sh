#!/bin/sh
# CXX_COMPILER_LAUNCHER of the uma_kokkos_glue target (cmake/UMAPlugin.cmake) on a CUDA Kokkos:
#   nvcc-wrapper-launcher.sh <nvcc_wrapper> <C++ compiler CMake chose> <flags...>
# runs Kokkos' nvcc_wrapper in place of that compiler, with the same flags, so that only the Kokkos
# translation unit is compiled as CUDA and the Torch sources keep the project's C++ compiler.
wrapper="$1"
shift 2
exec "$wrapper" "$@"
