// VkResult names and the error path of vk_check (see vk.h).
#include "engine/vk.h"

namespace tessera {

std::string vk_result_name(VkResult r) {
  switch (r) {
#define TESSERA_VK_RESULT(name) \
  case name:                    \
    return #name;
    TESSERA_VK_RESULT(VK_SUCCESS)
    TESSERA_VK_RESULT(VK_NOT_READY)
    TESSERA_VK_RESULT(VK_TIMEOUT)
    TESSERA_VK_RESULT(VK_EVENT_SET)
    TESSERA_VK_RESULT(VK_EVENT_RESET)
    TESSERA_VK_RESULT(VK_INCOMPLETE)
    TESSERA_VK_RESULT(VK_ERROR_OUT_OF_HOST_MEMORY)
    TESSERA_VK_RESULT(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    TESSERA_VK_RESULT(VK_ERROR_INITIALIZATION_FAILED)
    TESSERA_VK_RESULT(VK_ERROR_DEVICE_LOST)
    TESSERA_VK_RESULT(VK_ERROR_MEMORY_MAP_FAILED)
    TESSERA_VK_RESULT(VK_ERROR_LAYER_NOT_PRESENT)
    TESSERA_VK_RESULT(VK_ERROR_EXTENSION_NOT_PRESENT)
    TESSERA_VK_RESULT(VK_ERROR_FEATURE_NOT_PRESENT)
    TESSERA_VK_RESULT(VK_ERROR_INCOMPATIBLE_DRIVER)
    TESSERA_VK_RESULT(VK_ERROR_TOO_MANY_OBJECTS)
    TESSERA_VK_RESULT(VK_ERROR_FORMAT_NOT_SUPPORTED)
    TESSERA_VK_RESULT(VK_ERROR_FRAGMENTED_POOL)
    TESSERA_VK_RESULT(VK_ERROR_UNKNOWN)
    TESSERA_VK_RESULT(VK_ERROR_OUT_OF_POOL_MEMORY)
    TESSERA_VK_RESULT(VK_ERROR_INVALID_EXTERNAL_HANDLE)
    TESSERA_VK_RESULT(VK_ERROR_FRAGMENTATION)
    TESSERA_VK_RESULT(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
    TESSERA_VK_RESULT(VK_PIPELINE_COMPILE_REQUIRED)
    TESSERA_VK_RESULT(VK_ERROR_VALIDATION_FAILED_EXT)
    TESSERA_VK_RESULT(VK_ERROR_INVALID_SHADER_NV)
    TESSERA_VK_RESULT(VK_ERROR_NOT_PERMITTED_KHR)
#undef TESSERA_VK_RESULT
    default:
      return "VK_RESULT(" + std::to_string(static_cast<int>(r)) + ")";
  }
}

void throw_vk_error(std::string_view call, VkResult r, std::string_view detail) {
  std::string msg = "[vulkan] ";
  msg += call;
  msg += " failed: ";
  msg += vk_result_name(r);
  msg += " (" + std::to_string(static_cast<int>(r)) + ")";
  if (!detail.empty()) {
    msg += ": ";
    msg += detail;
  }
  throw Error(msg);
}

std::string vk_version_string(std::uint32_t v) {
  return std::to_string(VK_API_VERSION_MAJOR(v)) + "." + std::to_string(VK_API_VERSION_MINOR(v)) + "." +
         std::to_string(VK_API_VERSION_PATCH(v));
}

}  // namespace tessera
