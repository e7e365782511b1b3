// Fills DeviceCaps from a VkPhysicalDevice: Properties2/Features2 chains (subgroup, subgroup size
// control, float16/int8, 8/16-bit storage, integer dot product, driver, maintenance3/4), memory
// heaps with VK_EXT_memory_budget, the compute queue's timestamp bits and cooperative-matrix
// shapes. Also keeps the raw support bits device creation needs but DeviceCaps does not carry.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/caps.h"
#include "engine/vk.h"

namespace tessera {

class Instance;

// Features the device supports that DeviceCaps does not model, enabled alongside their caps.
struct FeatureSupport {
  bool uniform_and_storage_16bit = false;  // uniformAndStorageBuffer16BitAccess
  bool uniform_and_storage_8bit = false;   // uniformAndStorageBuffer8BitAccess
  bool maintenance4 = false;               // VkPhysicalDeviceMaintenance4Features::maintenance4
  bool bfloat16_dot = false;               // shaderBFloat16DotProduct
  bool bfloat16_coopmat = false;           // shaderBFloat16CooperativeMatrix
};

struct PhysicalDeviceInfo {
  VkPhysicalDevice handle = VK_NULL_HANDLE;
  std::uint32_t index = 0;             // position in vkEnumeratePhysicalDevices
  std::uint32_t queue_family = kNoQueue;  // compute queue family chosen for this device
  std::uint32_t api_version = 0;       // usable version: min(device, instance)
  std::uint32_t required_subgroup_size_stages = 0;  // VkShaderStageFlags of subgroup size control
  DeviceCaps caps;
  FeatureSupport support;
  std::vector<std::string> extensions;  // device extensions, sorted
  VkPhysicalDeviceMemoryProperties memory{};

  static constexpr std::uint32_t kNoQueue = 0xffffffffu;
  // A compute queue and Vulkan 1.1: the engine can run on it.
  bool usable() const { return queue_family != kNoQueue && api_version >= VK_API_VERSION_1_1; }
  bool has_extension(std::string_view name) const;
};

// Every physical device of the instance, in enumeration order, with its caps.
std::vector<PhysicalDeviceInfo> enumerate_devices(const Instance& instance);
PhysicalDeviceInfo query_device(const Instance& instance, VkPhysicalDevice pd, std::uint32_t index);

// Current heap sizes and budgets (VK_EXT_memory_budget when `budget_ext`, else budget 0).
std::vector<MemoryHeap> query_memory_heaps(VkPhysicalDevice pd, bool budget_ext);

// "discrete", "integrated", "virtual", "cpu", "other".
std::string_view device_type_name(DeviceType t);
// "AMD", "NVIDIA", ..., else "0x<hex id>".
std::string vendor_name(std::uint32_t vendor_id);

}  // namespace tessera
