// FeatureChain and where each feature struct comes from (see feature_chain.h).
#include "engine/feature_chain.h"

namespace tessera {
namespace {

constexpr std::uint32_t kExtensionOnly = ~0u;  // never core

// A feature struct: core since `core`, else through extension `ext`.
struct Source {
  bool FeatureStructs::*linked;
  std::uint32_t core;
  const char* ext;
};

// In FeatureStructs order.
constexpr Source kSources[] = {
    {&FeatureStructs::storage_16bit, VK_API_VERSION_1_1, VK_KHR_16BIT_STORAGE_EXTENSION_NAME},
    {&FeatureStructs::float16_int8, VK_API_VERSION_1_2, VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME},
    {&FeatureStructs::storage_8bit, VK_API_VERSION_1_2, VK_KHR_8BIT_STORAGE_EXTENSION_NAME},
    {&FeatureStructs::subgroup_size_control, VK_API_VERSION_1_3, VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME},
    {&FeatureStructs::integer_dot_product, VK_API_VERSION_1_3, VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME},
    {&FeatureStructs::maintenance4, VK_API_VERSION_1_3, VK_KHR_MAINTENANCE_4_EXTENSION_NAME},
    {&FeatureStructs::cooperative_matrix, kExtensionOnly, VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME},
    {&FeatureStructs::bfloat16, kExtensionOnly, VK_KHR_SHADER_BFLOAT16_EXTENSION_NAME},
};

}  // namespace

FeatureStructs available_feature_structs(const PhysicalDeviceInfo& info) {
  FeatureStructs out;
  for (const Source& s : kSources) out.*s.linked = info.api_version >= s.core || info.has_extension(s.ext);
  return out;
}

std::vector<const char*> feature_extensions(const PhysicalDeviceInfo& info, const FeatureStructs& linked) {
  std::vector<const char*> out;
  for (const Source& s : kSources)
    if (linked.*s.linked && info.api_version < s.core) out.push_back(s.ext);
  return out;
}

void FeatureChain::link(const FeatureStructs& which) {
  void** next = &features2.pNext;
  auto chain = [&next](bool on, auto& s) {
    if (!on) return;
    *next = &s;
    next = &s.pNext;
  };
  chain(which.storage_16bit, storage_16bit);
  chain(which.float16_int8, float16_int8);
  chain(which.storage_8bit, storage_8bit);
  chain(which.subgroup_size_control, subgroup_size_control);
  chain(which.integer_dot_product, integer_dot_product);
  chain(which.maintenance4, maintenance4);
  chain(which.cooperative_matrix, cooperative_matrix);
  chain(which.bfloat16, bfloat16);
  *next = nullptr;
}

}  // namespace tessera
