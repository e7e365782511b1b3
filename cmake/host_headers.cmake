# Header-only dependencies when cross-compiling (Windows via mingw-w64, Linux aarch64): Vulkan, volk,
# CLI11, nlohmann-json and stb. Debian installs them in the host's /usr/include, which must not be on
# the target compiler's include path (its libc headers would shadow the target's). They are staged
# by symlink into <build>/host-headers, and the variables and targets the build uses point there.
if(NOT CMAKE_CROSSCOMPILING)
  return()
endif()

set(TESSERA_HOST_HEADERS ${CMAKE_BINARY_DIR}/host-headers)
file(MAKE_DIRECTORY ${TESSERA_HOST_HEADERS})
foreach(entry volk.h volk.c vulkan vk_video CLI nlohmann stb)
  if(EXISTS /usr/include/${entry} AND NOT EXISTS ${TESSERA_HOST_HEADERS}/${entry})
    file(CREATE_LINK /usr/include/${entry} ${TESSERA_HOST_HEADERS}/${entry} SYMBOLIC)
  endif()
endforeach()
foreach(required volk.h volk.c vulkan/vulkan.h CLI/CLI.hpp nlohmann/json.hpp stb/stb_image.h stb/stb_image_resize.h)
  if(NOT EXISTS ${TESSERA_HOST_HEADERS}/${required})
    message(FATAL_ERROR "cross build: /usr/include/${required} is missing (install the Debian -dev package)")
  endif()
endforeach()
set(VOLK_INCLUDE_DIR ${TESSERA_HOST_HEADERS} CACHE PATH "volk sources" FORCE)
set(VULKAN_HEADERS_DIR ${TESSERA_HOST_HEADERS} CACHE PATH "Vulkan headers" FORCE)
set(TESSERA_STB_INCLUDE_DIR ${TESSERA_HOST_HEADERS}/stb CACHE PATH "stb headers (stb_image.h, ...)" FORCE)
add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED GLOBAL)
target_include_directories(nlohmann_json::nlohmann_json SYSTEM INTERFACE ${TESSERA_HOST_HEADERS})
add_library(CLI11::CLI11 INTERFACE IMPORTED GLOBAL)
target_include_directories(CLI11::CLI11 SYSTEM INTERFACE ${TESSERA_HOST_HEADERS})
set(nlohmann_json_FOUND TRUE)
set(CLI11_FOUND TRUE)
