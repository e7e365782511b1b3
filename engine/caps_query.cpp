// DeviceCaps from Vulkan property/feature chains (see caps_query.h).
#include "engine/caps_query.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>

#include "engine/feature_chain.h"
#include "engine/instance.h"
#include "engine/quirks.h"

namespace tessera {
namespace {

std::vector<std::string> device_extensions(VkPhysicalDevice pd) {
  std::uint32_t n = 0;
  vk_check(vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, nullptr), "vkEnumerateDeviceExtensionProperties");
  std::vector<VkExtensionProperties> props(n);
  vk_check(vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, props.data()), "vkEnumerateDeviceExtensionProperties");
  std::vector<std::string> out;
  for (std::uint32_t i = 0; i < n; ++i) out.emplace_back(props[i].extensionName);
  std::sort(out.begin(), out.end());
  return out;
}

// The first compute family with timestamps, else the first compute family.
std::uint32_t pick_compute_family(VkPhysicalDevice pd, std::uint32_t* valid_bits) {
  std::uint32_t n = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, nullptr);
  std::vector<VkQueueFamilyProperties> fams(n);
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, fams.data());
  std::uint32_t best = PhysicalDeviceInfo::kNoQueue;
  for (std::uint32_t i = 0; i < n; ++i) {
    if (!(fams[i].queueFlags & VK_QUEUE_COMPUTE_BIT) || fams[i].queueCount == 0) continue;
    if (best == PhysicalDeviceInfo::kNoQueue ||
        (fams[best].timestampValidBits == 0 && fams[i].timestampValidBits > 0))
      best = i;
  }
  *valid_bits = best == PhysicalDeviceInfo::kNoQueue ? 0 : fams[best].timestampValidBits;
  return best;
}

std::string component_name(VkComponentTypeKHR t) {
  switch (static_cast<std::int64_t>(t)) {
    case VK_COMPONENT_TYPE_FLOAT16_KHR: return "f16";
    case VK_COMPONENT_TYPE_FLOAT32_KHR: return "f32";
    case VK_COMPONENT_TYPE_FLOAT64_KHR: return "f64";
    case VK_COMPONENT_TYPE_SINT8_KHR: return "s8";
    case VK_COMPONENT_TYPE_SINT16_KHR: return "s16";
    case VK_COMPONENT_TYPE_SINT32_KHR: return "s32";
    case VK_COMPONENT_TYPE_SINT64_KHR: return "s64";
    case VK_COMPONENT_TYPE_UINT8_KHR: return "u8";
    case VK_COMPONENT_TYPE_UINT16_KHR: return "u16";
    case VK_COMPONENT_TYPE_UINT32_KHR: return "u32";
    case VK_COMPONENT_TYPE_UINT64_KHR: return "u64";
    case 1000141000: return "bf16";  // VK_COMPONENT_TYPE_BFLOAT16_KHR
    default: return "type" + std::to_string(static_cast<std::int64_t>(t));
  }
}

// Subgroup-scope shapes usable from compute, A and B of one type.
std::vector<CoopMatShape> query_coopmat_shapes(const Instance& inst, VkPhysicalDevice pd) {
  auto fn = inst.coopmat_properties_fn();
  if (!fn) return {};
  std::uint32_t n = 0;
  if (fn(pd, &n, nullptr) < 0 || n == 0) return {};
  std::vector<VkCooperativeMatrixPropertiesKHR> props(n);
  for (auto& p : props) p = vk_init<VkCooperativeMatrixPropertiesKHR>(VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR);
  if (fn(pd, &n, props.data()) < 0) return {};
  std::vector<CoopMatShape> out;
  for (std::uint32_t i = 0; i < n; ++i) {
    const auto& p = props[i];
    if (p.scope != VK_SCOPE_SUBGROUP_KHR || p.AType != p.BType || p.CType != p.ResultType) continue;
    out.push_back({p.MSize, p.NSize, p.KSize, component_name(p.AType), component_name(p.CType)});
  }
  return out;
}

}  // namespace

bool PhysicalDeviceInfo::has_extension(std::string_view name) const {
  return std::binary_search(extensions.begin(), extensions.end(), name,
                            [](std::string_view a, std::string_view b) { return a < b; });
}

std::vector<MemoryHeap> query_memory_heaps(VkPhysicalDevice pd, bool budget_ext) {
  auto budget = vk_init<VkPhysicalDeviceMemoryBudgetPropertiesEXT>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT);
  auto mem = vk_init<VkPhysicalDeviceMemoryProperties2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2);
  if (budget_ext) mem.pNext = &budget;
  vkGetPhysicalDeviceMemoryProperties2(pd, &mem);
  std::vector<MemoryHeap> heaps;
  for (std::uint32_t i = 0; i < mem.memoryProperties.memoryHeapCount; ++i) {
    const VkMemoryHeap& h = mem.memoryProperties.memoryHeaps[i];
    heaps.push_back({h.size, budget_ext ? budget.heapBudget[i] : 0, (h.flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0});
  }
  return heaps;
}

namespace {

// The property structs of one device and its FeatureChain, each struct chained only when its
// Vulkan version or extension is there. Filled in place (the chains point into the object):
// never copy it.
struct Chains {
  bool has_driver = false;
  FeatureStructs has;  // feature structs chained (and sgsc, maint4, dotp with theirs)
  VkPhysicalDeviceProperties2 props = vk_init<VkPhysicalDeviceProperties2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2);
  VkPhysicalDeviceSubgroupProperties subgroup =
      vk_init<VkPhysicalDeviceSubgroupProperties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES);
  VkPhysicalDeviceMaintenance3Properties maint3 =
      vk_init<VkPhysicalDeviceMaintenance3Properties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES);
  VkPhysicalDeviceDriverProperties driver =
      vk_init<VkPhysicalDeviceDriverProperties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES);
  VkPhysicalDeviceSubgroupSizeControlProperties sgsc = vk_init<VkPhysicalDeviceSubgroupSizeControlProperties>(
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES);
  VkPhysicalDeviceMaintenance4Properties maint4 =
      vk_init<VkPhysicalDeviceMaintenance4Properties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_4_PROPERTIES);
  VkPhysicalDeviceShaderIntegerDotProductProperties dotp = vk_init<VkPhysicalDeviceShaderIntegerDotProductProperties>(
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_PROPERTIES);
  FeatureChain feats;

  Chains() = default;
  Chains(const Chains&) = delete;
  Chains& operator=(const Chains&) = delete;

  void query(const PhysicalDeviceInfo& info) {
    has_driver = info.api_version >= VK_API_VERSION_1_2 || info.has_extension(VK_KHR_DRIVER_PROPERTIES_EXTENSION_NAME);
    has = available_feature_structs(info);

    void** next = &props.pNext;
    auto chain = [&next](bool on, auto& s) {
      if (!on) return;
      *next = &s;
      next = &s.pNext;
    };
    chain(true, subgroup);
    chain(true, maint3);
    chain(has_driver, driver);
    chain(has.subgroup_size_control, sgsc);
    chain(has.maintenance4, maint4);
    chain(has.integer_dot_product, dotp);
    vkGetPhysicalDeviceProperties2(info.handle, &props);

    feats.link(has);
    vkGetPhysicalDeviceFeatures2(info.handle, &feats.features2);
  }
};

void fill_identity(DeviceCaps& c, const Chains& ch) {
  const VkPhysicalDeviceProperties& base = ch.props.properties;
  c.name = base.deviceName;
  if (ch.has_driver) {
    c.driver_name = ch.driver.driverName;
    c.driver_info = ch.driver.driverInfo;
    c.driver_id = static_cast<std::uint32_t>(ch.driver.driverID);
  }
  c.vendor_id = base.vendorID;
  c.vendor = vendor_name(base.vendorID).rfind("0x", 0) == 0 ? Vendor::Unknown : static_cast<Vendor>(base.vendorID);
  c.device_id = base.deviceID;
  c.driver_version = base.driverVersion;
  c.api_version = base.apiVersion;
  switch (base.deviceType) {
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: c.type = DeviceType::Integrated; break;
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: c.type = DeviceType::Discrete; break;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: c.type = DeviceType::Virtual; break;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: c.type = DeviceType::Cpu; break;
    default: c.type = DeviceType::Other;
  }
  std::memcpy(c.pipeline_cache_uuid, base.pipelineCacheUUID, VK_UUID_SIZE);
}

void fill_subgroups(PhysicalDeviceInfo& info, const Chains& ch) {
  DeviceCaps& c = info.caps;
  const bool compute = (ch.subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0;
  const VkSubgroupFeatureFlags ops = compute ? ch.subgroup.supportedOperations : 0;
  c.subgroup_size = c.subgroup_min = c.subgroup_max = ch.subgroup.subgroupSize;
  if (ch.has.subgroup_size_control) {
    info.required_subgroup_size_stages = ch.sgsc.requiredSubgroupSizeStages;
    if (ch.sgsc.minSubgroupSize) c.subgroup_min = ch.sgsc.minSubgroupSize;
    if (ch.sgsc.maxSubgroupSize) c.subgroup_max = ch.sgsc.maxSubgroupSize;
    c.subgroup_size_control = ch.feats.subgroup_size_control.subgroupSizeControl &&
                              (ch.sgsc.requiredSubgroupSizeStages & VK_SHADER_STAGE_COMPUTE_BIT);
    c.compute_full_subgroups = ch.feats.subgroup_size_control.computeFullSubgroups;
    c.max_compute_workgroup_subgroups = ch.sgsc.maxComputeWorkgroupSubgroups;
  }
  c.subgroup_arithmetic = ops & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT;
  c.subgroup_shuffle = ops & VK_SUBGROUP_FEATURE_SHUFFLE_BIT;
  c.subgroup_ballot = ops & VK_SUBGROUP_FEATURE_BALLOT_BIT;
  c.subgroup_clustered = ops & VK_SUBGROUP_FEATURE_CLUSTERED_BIT;
}

void fill_features(PhysicalDeviceInfo& info, const Chains& ch, const Instance& inst) {
  DeviceCaps& c = info.caps;
  c.fp16_arithmetic = ch.has.float16_int8 && ch.feats.float16_int8.shaderFloat16;
  c.int8_arithmetic = ch.has.float16_int8 && ch.feats.float16_int8.shaderInt8;
  c.int16_arithmetic = ch.feats.features2.features.shaderInt16;
  c.int64_arithmetic = ch.feats.features2.features.shaderInt64;
  c.storage_16bit = ch.feats.storage_16bit.storageBuffer16BitAccess;
  c.storage_8bit = ch.has.storage_8bit && ch.feats.storage_8bit.storageBuffer8BitAccess;
  c.integer_dot_product = ch.has.integer_dot_product && ch.feats.integer_dot_product.shaderIntegerDotProduct;
  c.integer_dot_4x8_accelerated = c.integer_dot_product && ch.dotp.integerDotProduct4x8BitPackedSignedAccelerated;
  c.cooperative_matrix = ch.has.cooperative_matrix && ch.feats.cooperative_matrix.cooperativeMatrix;
  if (c.cooperative_matrix) c.coopmat_shapes = query_coopmat_shapes(inst, info.handle);
  c.bfloat16 = ch.has.bfloat16 && ch.feats.bfloat16.shaderBFloat16Type;
  c.push_descriptor = info.has_extension(VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
  info.support.uniform_and_storage_16bit = ch.feats.storage_16bit.uniformAndStorageBuffer16BitAccess;
  info.support.uniform_and_storage_8bit = ch.has.storage_8bit && ch.feats.storage_8bit.uniformAndStorageBuffer8BitAccess;
  info.support.maintenance4 = ch.has.maintenance4 && ch.feats.maintenance4.maintenance4;
  info.support.bfloat16_dot = c.bfloat16 && ch.feats.bfloat16.shaderBFloat16DotProduct;
  info.support.bfloat16_coopmat = c.bfloat16 && ch.feats.bfloat16.shaderBFloat16CooperativeMatrix;
}

void fill_limits(DeviceCaps& c, const Chains& ch) {
  const VkPhysicalDeviceLimits& l = ch.props.properties.limits;
  c.max_shared_memory = l.maxComputeSharedMemorySize;
  c.max_workgroup_invocations = l.maxComputeWorkGroupInvocations;
  for (int i = 0; i < 3; ++i) {
    c.max_workgroup_size[i] = l.maxComputeWorkGroupSize[i];
    c.max_workgroup_count[i] = l.maxComputeWorkGroupCount[i];
  }
  c.max_push_constants = l.maxPushConstantsSize;
  c.max_storage_buffer_range = l.maxStorageBufferRange;
  c.max_memory_allocation = ch.maint3.maxMemoryAllocationSize;
  c.max_buffer_size = ch.has.maintenance4 ? ch.maint4.maxBufferSize : 0;
  c.min_storage_buffer_offset_alignment = l.minStorageBufferOffsetAlignment;
  c.non_coherent_atom_size = l.nonCoherentAtomSize;
}

void fill_memory_and_queue(PhysicalDeviceInfo& info, const Chains& ch) {
  DeviceCaps& c = info.caps;
  c.memory_budget = info.has_extension(VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
  c.heaps = query_memory_heaps(info.handle, c.memory_budget);
  vkGetPhysicalDeviceMemoryProperties(info.handle, &info.memory);
  if (c.type == DeviceType::Integrated || c.type == DeviceType::Cpu) {
    constexpr VkMemoryPropertyFlags kUma = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
    for (std::uint32_t i = 0; i < info.memory.memoryTypeCount; ++i)
      if ((info.memory.memoryTypes[i].propertyFlags & kUma) == kUma) c.unified_memory = true;
  }
  info.queue_family = pick_compute_family(info.handle, &c.timestamp_valid_bits);
  c.timestamp_period_ns = ch.props.properties.limits.timestampPeriod;
  c.timestamps = c.timestamp_valid_bits > 0 && c.timestamp_period_ns > 0;
}

}  // namespace

PhysicalDeviceInfo query_device(const Instance& inst, VkPhysicalDevice pd, std::uint32_t index) {
  PhysicalDeviceInfo info;
  info.handle = pd;
  info.index = index;
  info.extensions = device_extensions(pd);
  VkPhysicalDeviceProperties base{};
  vkGetPhysicalDeviceProperties(pd, &base);
  info.api_version = std::min(base.apiVersion, inst.api_version());
  if (info.api_version < VK_API_VERSION_1_1) {  // Properties2 chains need 1.1: identity only
    info.caps.name = base.deviceName;
    info.caps.api_version = base.apiVersion;
    info.caps.type = base.deviceType == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU ? DeviceType::Discrete : DeviceType::Other;
    return info;
  }
  auto ch = std::make_unique<Chains>();
  ch->query(info);
  fill_identity(info.caps, *ch);
  fill_subgroups(info, *ch);
  fill_features(info, *ch, inst);
  fill_limits(info.caps, *ch);
  fill_memory_and_queue(info, *ch);
  info.caps.quirks = detect_quirks(info.caps);
  return info;
}

std::vector<PhysicalDeviceInfo> enumerate_devices(const Instance& instance) {
  std::vector<PhysicalDeviceInfo> out;
  std::uint32_t i = 0;
  for (VkPhysicalDevice pd : instance.physical_devices()) out.push_back(query_device(instance, pd, i++));
  return out;
}

std::string_view device_type_name(DeviceType t) {
  switch (t) {
    case DeviceType::Discrete: return "discrete";
    case DeviceType::Integrated: return "integrated";
    case DeviceType::Virtual: return "virtual";
    case DeviceType::Cpu: return "cpu";
    default: return "other";
  }
}

std::string vendor_name(std::uint32_t id) {
  switch (id) {
    case 0x1002: return "AMD";
    case 0x106b: return "Apple";
    case 0x13b5: return "ARM";
    case 0x8086: return "Intel";
    case 0x10de: return "NVIDIA";
    case 0x5143: return "Qualcomm";
    case 0x10005: return "Mesa";
    default: {
      char buf[16];
      std::snprintf(buf, sizeof buf, "0x%x", id);
      return buf;
    }
  }
}

}  // namespace tessera
