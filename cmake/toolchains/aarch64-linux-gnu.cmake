# Cross-compiling for Linux aarch64 with Debian's cross compiler (g++-aarch64-linux-gnu):
#   cmake -S . -B build-arm64 -G Ninja --toolchain cmake/toolchains/aarch64-linux-gnu.cmake
# Header-only dependencies (Vulkan headers, volk's source, CLI11, nlohmann-json) are staged from
# the host's /usr/include by cmake/host_headers.cmake; libraries come only from the cross sysroot
# /usr/aarch64-linux-gnu, programs (glslc) from the host. Target programs run through qemu-user
# (package qemu-user; binfmt_misc not needed): CTest and gtest_discover_tests prefix them with
# CMAKE_CROSSCOMPILING_EMULATOR, and -L points qemu at the sysroot's ld.so and libraries.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
if(NOT DEFINED CMAKE_CROSSCOMPILING_EMULATOR)
  set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu)
endif()
