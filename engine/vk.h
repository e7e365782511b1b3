// Vulkan through volk (VK_NO_PROTOTYPES: libvulkan is loaded at run time, never linked) and the
// check helpers every engine file uses: a failed call throws tessera::Error
// "[vulkan] vkCreateBuffer failed: VK_ERROR_OUT_OF_DEVICE_MEMORY (-2)".
#pragma once
#include <volk.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/error.h"
#include "engine/vk_ext.h"

namespace tessera {

// Thrown when no Vulkan loader or no usable device exists: callers (tests, CLI) tell "this
// machine has no Vulkan" apart from real errors by this type.
class VulkanUnavailable : public Error {
 public:
  using Error::Error;
};

// "VK_ERROR_DEVICE_LOST" for a VkResult; "VK_RESULT(<n>)" for unknown values.
std::string vk_result_name(VkResult r);

// Throws Error "[vulkan] <call> failed: <VkResult name> (<n>)[: <detail>]".
[[noreturn]] void throw_vk_error(std::string_view call, VkResult r, std::string_view detail = {});

// Throws when `r` is an error code (negative); positive codes (VK_INCOMPLETE...) pass.
inline void vk_check(VkResult r, std::string_view call, std::string_view detail = {}) {
  if (r < 0) throw_vk_error(call, r, detail);
}

// A zeroed Vulkan struct with its sType (and pNext) set: `auto ci = vk_init<VkBufferCreateInfo>(
// VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);` (brace-init with only sType trips -Wextra).
template <class T>
T vk_init(VkStructureType type, void* next = nullptr) {
  T t{};
  t.sType = type;
  t.pNext = next;
  return t;
}

// "1.3.239" for a packed VK_MAKE_API_VERSION value.
std::string vk_version_string(std::uint32_t v);

}  // namespace tessera
