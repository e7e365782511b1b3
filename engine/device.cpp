// VkDevice creation with the features the caps report (see device.h).
#include "engine/device.h"

#include <algorithm>

#include "engine/instance.h"

namespace tessera {

namespace {

// Extensions and feature structs for vkCreateDevice, built from the caps to enable. A struct is
// chained only when its version is core or its extension is enabled. Never copied (the chain
// points into it).
struct EnableChain {
  std::vector<const char*> exts;
  VkPhysicalDeviceFeatures2 feats = vk_init<VkPhysicalDeviceFeatures2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2);
  VkPhysicalDevice16BitStorageFeatures f16s =
      vk_init<VkPhysicalDevice16BitStorageFeatures>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES);
  VkPhysicalDeviceShaderFloat16Int8Features f16i8 =
      vk_init<VkPhysicalDeviceShaderFloat16Int8Features>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES);
  VkPhysicalDevice8BitStorageFeatures f8s =
      vk_init<VkPhysicalDevice8BitStorageFeatures>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES);
  VkPhysicalDeviceSubgroupSizeControlFeatures fsg = vk_init<VkPhysicalDeviceSubgroupSizeControlFeatures>(
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES);
  VkPhysicalDeviceShaderIntegerDotProductFeatures fdot = vk_init<VkPhysicalDeviceShaderIntegerDotProductFeatures>(
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES);
  VkPhysicalDeviceMaintenance4Features fm4 =
      vk_init<VkPhysicalDeviceMaintenance4Features>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_4_FEATURES);
  VkPhysicalDeviceCooperativeMatrixFeaturesKHR fcoop = vk_init<VkPhysicalDeviceCooperativeMatrixFeaturesKHR>(
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR);
  VkPhysicalDeviceShaderBfloat16FeaturesKHR fbf16 =
      vk_init<VkPhysicalDeviceShaderBfloat16FeaturesKHR>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_BFLOAT16_FEATURES_KHR);

  EnableChain() = default;
  EnableChain(const EnableChain&) = delete;
  EnableChain& operator=(const EnableChain&) = delete;

  void build(const PhysicalDeviceInfo& info, const DeviceCaps& c) {
    // True when the feature is wanted and usable: core at `core`, else through `ext` (enabled here).
    auto want = [&](bool on, std::uint32_t core, const char* ext) {
      if (!on) return false;
      if (info.api_version >= core) return true;
      if (!info.has_extension(ext)) return false;
      exts.push_back(ext);
      return true;
    };
    constexpr std::uint32_t kExtOnly = ~0u;
    const bool f16i8_on = want(c.fp16_arithmetic || c.int8_arithmetic, VK_API_VERSION_1_2,
                               VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME);
    const bool s8_on = want(c.storage_8bit, VK_API_VERSION_1_2, VK_KHR_8BIT_STORAGE_EXTENSION_NAME);
    const bool sg_on = want(c.subgroup_size_control || c.compute_full_subgroups, VK_API_VERSION_1_3,
                            VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME);
    const bool dot_on = want(c.integer_dot_product, VK_API_VERSION_1_3, VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME);
    const bool m4_on = want(info.support.maintenance4, VK_API_VERSION_1_3, VK_KHR_MAINTENANCE_4_EXTENSION_NAME);
    const bool coop_on = want(c.cooperative_matrix, kExtOnly, VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME);
    const bool bf16_on = want(c.bfloat16, kExtOnly, VK_KHR_SHADER_BFLOAT16_EXTENSION_NAME);
    want(c.memory_budget, kExtOnly, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
    want(c.push_descriptor, kExtOnly, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);

    feats.features.shaderInt16 = c.int16_arithmetic;
    feats.features.shaderInt64 = c.int64_arithmetic;
    f16s.storageBuffer16BitAccess = c.storage_16bit;
    f16s.uniformAndStorageBuffer16BitAccess = c.storage_16bit && info.support.uniform_and_storage_16bit;
    f16i8.shaderFloat16 = c.fp16_arithmetic;
    f16i8.shaderInt8 = c.int8_arithmetic;
    f8s.storageBuffer8BitAccess = c.storage_8bit;
    f8s.uniformAndStorageBuffer8BitAccess = c.storage_8bit && info.support.uniform_and_storage_8bit;
    fsg.subgroupSizeControl = c.subgroup_size_control;
    fsg.computeFullSubgroups = c.compute_full_subgroups;
    fdot.shaderIntegerDotProduct = VK_TRUE;
    fm4.maintenance4 = VK_TRUE;
    fcoop.cooperativeMatrix = VK_TRUE;
    fbf16.shaderBFloat16Type = VK_TRUE;
    fbf16.shaderBFloat16DotProduct = info.support.bfloat16_dot;
    fbf16.shaderBFloat16CooperativeMatrix = coop_on && info.support.bfloat16_coopmat;

    void** next = &feats.pNext;
    auto chain = [&next](bool on, auto& s) {
      if (!on) return;
      *next = &s;
      next = &s.pNext;
    };
    chain(c.storage_16bit, f16s);
    chain(f16i8_on, f16i8);
    chain(s8_on, f8s);
    chain(sg_on, fsg);
    chain(dot_on, fdot);
    chain(m4_on, fm4);
    chain(coop_on, fcoop);
    chain(bf16_on, fbf16);
  }
};

}  // namespace

std::unique_ptr<Device> Device::create(const Instance& instance, const PhysicalDeviceInfo& info,
                                       const DeviceCaps& enabled) {
  if (!info.usable())
    throw Error("[vulkan] device '" + info.caps.name + "' has no compute queue or is older than Vulkan 1.1");
  std::unique_ptr<Device> dev(new Device());
  dev->instance_ = &instance;
  dev->physical_ = info.handle;
  dev->queue_family_ = info.queue_family;
  dev->api_version_ = info.api_version;
  dev->caps_ = enabled;
  dev->real_caps_ = info.caps;
  dev->memory_ = info.memory;

  auto chain = std::make_unique<EnableChain>();
  chain->build(info, enabled);
  const float priority = 1.0f;
  auto qci = vk_init<VkDeviceQueueCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO);
  qci.queueFamilyIndex = info.queue_family;
  qci.queueCount = 1;
  qci.pQueuePriorities = &priority;
  auto ci = vk_init<VkDeviceCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, &chain->feats);
  ci.queueCreateInfoCount = 1;
  ci.pQueueCreateInfos = &qci;
  ci.enabledExtensionCount = static_cast<std::uint32_t>(chain->exts.size());
  ci.ppEnabledExtensionNames = chain->exts.data();
  vk_check(vkCreateDevice(info.handle, &ci, nullptr, &dev->device_), "vkCreateDevice", info.caps.name);
  for (const char* e : chain->exts) dev->extensions_.emplace_back(e);

  volkLoadDeviceTable(&dev->fn_, dev->device_);
  dev->fn_.vkGetDeviceQueue(dev->device_, info.queue_family, 0, &dev->queue_);
  return dev;
}

Device::~Device() {
  if (device_ == VK_NULL_HANDLE) return;
  fn_.vkDeviceWaitIdle(device_);
  fn_.vkDestroyDevice(device_, nullptr);
}

void Device::set_name(VkObjectType type, std::uint64_t handle, std::string_view name) const {
  instance_->set_object_name(device_, type, handle, name);
}

std::vector<MemoryHeap> Device::heaps() const {
  const bool budget = std::find(extensions_.begin(), extensions_.end(), VK_EXT_MEMORY_BUDGET_EXTENSION_NAME) !=
                      extensions_.end();
  return query_memory_heaps(physical_, budget);
}

void Device::wait_idle() const { vk_check(fn_.vkDeviceWaitIdle(device_), "vkDeviceWaitIdle"); }

}  // namespace tessera
