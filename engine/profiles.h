// Device profiles: named capability masks of the GPUs our users own, forced onto any device
// (CLI --profile, env TESSERA_DEVICE_PROFILE) so every kernel path and fallback runs on lavapipe.
//
// A profile only takes away: a feature stays on when both the device and the profile have it,
// limits are the smaller of the two, and the driver quirks of the modelled driver are added. The subgroup size is the one exception: it is *planned*
// with the profile's value (workgroup shapes, reduction trees), while the hardware still runs
// its own; kernels must therefore be correct for any real subgroup size, which is what running
// an `adreno-x1-85` (128) or `amd-rdna3` (64) plan on lavapipe (8) proves.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>

#include "engine/caps.h"

namespace tessera {

struct DeviceProfile {
  std::string_view name;         // "adreno-x1-85"
  std::string_view description;  // the GPU and driver it models
  std::string_view sources;      // public evidence for the values, short citations

  DeviceType type = DeviceType::Other;  // the GPU's kind (kernels differ for CPU drivers); Other = keep

  // Features the profile allows (false = masked off).
  bool fp16_arithmetic = true;
  bool int8_arithmetic = true;
  bool storage_16bit = true;
  bool storage_8bit = true;
  bool integer_dot_product = true;
  bool cooperative_matrix = true;
  bool bfloat16 = true;
  bool subgroup_size_control = true;
  bool subgroup_arithmetic = true;
  bool subgroup_shuffle = true;
  bool subgroup_ballot = true;
  bool subgroup_clustered = true;

  // Subgroup sizes to plan for; 0 = keep the device's.
  std::uint32_t subgroup_size = 0;
  std::uint32_t subgroup_min = 0;
  std::uint32_t subgroup_max = 0;

  // Limits (0 = no limit from the profile).
  std::uint32_t max_shared_memory = 0;          // bytes
  std::uint32_t max_workgroup_invocations = 0;
  std::uint64_t max_storage_buffer_range = 0;   // bytes
  std::uint64_t max_memory_allocation = 0;      // bytes

  // Driver bugs of the modelled driver (engine/quirks.h), added to the device's own.
  QuirkSet quirks;
};

// All built-in profiles, in a stable order.
std::span<const DeviceProfile> device_profiles();

// The profile called `name`, or nullptr.
const DeviceProfile* find_device_profile(std::string_view name);

// `real` with the profile applied (see the file comment); caps.profile is set to its name.
DeviceCaps apply_device_profile(const DeviceCaps& real, const DeviceProfile& p);

}  // namespace tessera
