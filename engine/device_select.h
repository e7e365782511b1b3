// Device selection: which physical device a Context opens, from EngineOptions::device. Pure (no
// Vulkan calls), so it is unit-tested with hand-made device lists.
#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "engine/caps_query.h"

namespace tessera {

// Position in `devices` of the device to use. `selector`: empty = the best usable device by type
// (discrete > integrated > virtual > cpu > other, first on ties); all digits = that enumeration
// index; otherwise a case-insensitive substring of the device or driver name (best match by type).
// Throws VulkanUnavailable when no usable device exists, Error naming the selector and listing
// the devices when nothing matches.
std::size_t select_device(std::span<const PhysicalDeviceInfo> devices, std::string_view selector);

// Higher is preferred: discrete 4, integrated 3, virtual 2, cpu 1, other 0.
int device_type_rank(DeviceType t);

// "0: llvmpipe (LLVM 15.0.6, 256 bits) [cpu]; 1: ..." for error messages.
std::string describe_devices(std::span<const PhysicalDeviceInfo> devices);

}  // namespace tessera
