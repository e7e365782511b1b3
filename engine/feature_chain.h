// The optional Vk*Features structs behind VkPhysicalDeviceFeatures2, declared once and used
// twice: caps_query fills one chain through vkGetPhysicalDeviceFeatures2, Device::create sets
// the wanted bits in another and passes it to vkCreateDevice.
#pragma once
#include <vector>

#include "engine/caps_query.h"
#include "engine/vk.h"

namespace tessera {

// Which structs a FeatureChain links behind its VkPhysicalDeviceFeatures2.
struct FeatureStructs {
  bool storage_16bit = false;          // VkPhysicalDevice16BitStorageFeatures (core 1.1)
  bool float16_int8 = false;           // VkPhysicalDeviceShaderFloat16Int8Features (1.2)
  bool storage_8bit = false;           // VkPhysicalDevice8BitStorageFeatures (1.2)
  bool subgroup_size_control = false;  // VkPhysicalDeviceSubgroupSizeControlFeatures (1.3)
  bool integer_dot_product = false;    // VkPhysicalDeviceShaderIntegerDotProductFeatures (1.3)
  bool maintenance4 = false;           // VkPhysicalDeviceMaintenance4Features (1.3)
  bool cooperative_matrix = false;     // VkPhysicalDeviceCooperativeMatrixFeaturesKHR (extension only)
  bool bfloat16 = false;               // VkPhysicalDeviceShaderBfloat16FeaturesKHR (extension only)
};

// The structs `info` can chain: core at its usable version, or its extension listed.
FeatureStructs available_feature_structs(const PhysicalDeviceInfo& info);
// The extensions that `linked` (a subset of the available structs) needs enabled: those of the
// structs not core at info.api_version, in FeatureStructs order.
std::vector<const char*> feature_extensions(const PhysicalDeviceInfo& info, const FeatureStructs& linked);

// The feature structs, chained by link(). Never copied (the chain points into it).
struct FeatureChain {
  VkPhysicalDeviceFeatures2 features2 = vk_init<VkPhysicalDeviceFeatures2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2);
  VkPhysicalDevice16BitStorageFeatures storage_16bit =
      vk_init<VkPhysicalDevice16BitStorageFeatures>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES);
  VkPhysicalDeviceShaderFloat16Int8Features float16_int8 =
      vk_init<VkPhysicalDeviceShaderFloat16Int8Features>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES);
  VkPhysicalDevice8BitStorageFeatures storage_8bit =
      vk_init<VkPhysicalDevice8BitStorageFeatures>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES);
  VkPhysicalDeviceSubgroupSizeControlFeatures subgroup_size_control =
      vk_init<VkPhysicalDeviceSubgroupSizeControlFeatures>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES);
  VkPhysicalDeviceShaderIntegerDotProductFeatures integer_dot_product =
      vk_init<VkPhysicalDeviceShaderIntegerDotProductFeatures>(
          VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES);
  VkPhysicalDeviceMaintenance4Features maintenance4 =
      vk_init<VkPhysicalDeviceMaintenance4Features>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_4_FEATURES);
  VkPhysicalDeviceCooperativeMatrixFeaturesKHR cooperative_matrix =
      vk_init<VkPhysicalDeviceCooperativeMatrixFeaturesKHR>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR);
  VkPhysicalDeviceShaderBfloat16FeaturesKHR bfloat16 =
      vk_init<VkPhysicalDeviceShaderBfloat16FeaturesKHR>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_BFLOAT16_FEATURES_KHR);

  FeatureChain() = default;
  FeatureChain(const FeatureChain&) = delete;
  FeatureChain& operator=(const FeatureChain&) = delete;

  // Chains the structs in `which` behind `features2`, in FeatureStructs order.
  void link(const FeatureStructs& which);
};

}  // namespace tessera
