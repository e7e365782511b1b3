// VkDevice creation with the features the caps report (see device.h).
#include "engine/device.h"

#include <algorithm>

#include "engine/feature_chain.h"
#include "engine/instance.h"

namespace tessera {

namespace {

// Sets in `chain` the features the caps `c` turn on and links their structs: each struct only
// when wanted and core at info.api_version or its extension is there. Returns the extensions
// to enable: those of the linked structs, then memory budget and push descriptor.
std::vector<const char*> enable_features(const PhysicalDeviceInfo& info, const DeviceCaps& c, FeatureChain& chain) {
  const FeatureStructs avail = available_feature_structs(info);
  FeatureStructs on;
  on.storage_16bit = avail.storage_16bit && c.storage_16bit;
  on.float16_int8 = avail.float16_int8 && (c.fp16_arithmetic || c.int8_arithmetic);
  on.storage_8bit = avail.storage_8bit && c.storage_8bit;
  on.subgroup_size_control = avail.subgroup_size_control && (c.subgroup_size_control || c.compute_full_subgroups);
  on.integer_dot_product = avail.integer_dot_product && c.integer_dot_product;
  on.maintenance4 = avail.maintenance4 && info.support.maintenance4;
  on.cooperative_matrix = avail.cooperative_matrix && c.cooperative_matrix;
  on.bfloat16 = avail.bfloat16 && c.bfloat16;
  std::vector<const char*> exts = feature_extensions(info, on);
  if (c.memory_budget && info.has_extension(VK_EXT_MEMORY_BUDGET_EXTENSION_NAME))
    exts.push_back(VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
  if (c.push_descriptor && info.has_extension(VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME))
    exts.push_back(VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);

  chain.features2.features.shaderInt16 = c.int16_arithmetic;
  chain.features2.features.shaderInt64 = c.int64_arithmetic;
  chain.storage_16bit.storageBuffer16BitAccess = c.storage_16bit;
  chain.storage_16bit.uniformAndStorageBuffer16BitAccess = c.storage_16bit && info.support.uniform_and_storage_16bit;
  chain.float16_int8.shaderFloat16 = c.fp16_arithmetic;
  chain.float16_int8.shaderInt8 = c.int8_arithmetic;
  chain.storage_8bit.storageBuffer8BitAccess = c.storage_8bit;
  chain.storage_8bit.uniformAndStorageBuffer8BitAccess = c.storage_8bit && info.support.uniform_and_storage_8bit;
  chain.subgroup_size_control.subgroupSizeControl = c.subgroup_size_control;
  chain.subgroup_size_control.computeFullSubgroups = c.compute_full_subgroups;
  chain.integer_dot_product.shaderIntegerDotProduct = VK_TRUE;
  chain.maintenance4.maintenance4 = VK_TRUE;
  chain.cooperative_matrix.cooperativeMatrix = VK_TRUE;
  chain.bfloat16.shaderBFloat16Type = VK_TRUE;
  chain.bfloat16.shaderBFloat16DotProduct = info.support.bfloat16_dot;
  chain.bfloat16.shaderBFloat16CooperativeMatrix = on.cooperative_matrix && info.support.bfloat16_coopmat;
  chain.link(on);
  return exts;
}

}  // namespace

std::unique_ptr<Device> Device::create(const Instance& instance, const PhysicalDeviceInfo& info,
                                       const DeviceCaps& enabled, bool verbose) {
  if (!info.usable())
    throw Error("[vulkan] device '" + info.caps.name + "' has no compute queue or is older than Vulkan 1.1");
  std::unique_ptr<Device> dev(new Device());
  dev->log_ = Log(verbose);
  dev->instance_ = &instance;
  dev->physical_ = info.handle;
  dev->queue_family_ = info.queue_family;
  dev->api_version_ = info.api_version;
  dev->caps_ = enabled;
  dev->real_caps_ = info.caps;
  dev->memory_ = info.memory;

  auto chain = std::make_unique<FeatureChain>();
  const std::vector<const char*> exts = enable_features(info, enabled, *chain);
  const float priority = 1.0f;
  auto qci = vk_init<VkDeviceQueueCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO);
  qci.queueFamilyIndex = info.queue_family;
  qci.queueCount = 1;
  qci.pQueuePriorities = &priority;
  auto ci = vk_init<VkDeviceCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, &chain->features2);
  ci.queueCreateInfoCount = 1;
  ci.pQueueCreateInfos = &qci;
  ci.enabledExtensionCount = static_cast<std::uint32_t>(exts.size());
  ci.ppEnabledExtensionNames = exts.data();
  vk_check(vkCreateDevice(info.handle, &ci, nullptr, &dev->device_), "vkCreateDevice", info.caps.name);
  for (const char* e : exts) dev->extensions_.emplace_back(e);

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
