// Device selection by index, name substring or type (see device_select.h).
#include "engine/device_select.h"

#include <algorithm>
#include <cctype>

namespace tessera {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

int device_type_rank(DeviceType t) {
  switch (t) {
    case DeviceType::Discrete: return 4;
    case DeviceType::Integrated: return 3;
    case DeviceType::Virtual: return 2;
    case DeviceType::Cpu: return 1;
    default: return 0;
  }
}

std::string describe_devices(std::span<const PhysicalDeviceInfo> devices) {
  std::string out;
  for (const PhysicalDeviceInfo& d : devices) {
    if (!out.empty()) out += "; ";
    out += std::to_string(d.index) + ": " + d.caps.name + " [" + std::string(device_type_name(d.caps.type)) + "]";
    if (!d.usable()) out += " (unusable)";
  }
  return out.empty() ? "none" : out;
}

std::size_t select_device(std::span<const PhysicalDeviceInfo> devices, std::string_view selector) {
  if (devices.empty()) throw VulkanUnavailable("[vulkan] no Vulkan device found (vkEnumeratePhysicalDevices returned none)");
  if (std::none_of(devices.begin(), devices.end(), [](const PhysicalDeviceInfo& d) { return d.usable(); }))
    throw VulkanUnavailable("[vulkan] no usable Vulkan device (need Vulkan 1.1 and a compute queue): " +
                            describe_devices(devices));

  if (all_digits(selector)) {
    const std::string sel(selector);
    const unsigned long idx = sel.size() > 9 ? ~0ul : std::stoul(sel);
    for (std::size_t i = 0; i < devices.size(); ++i) {
      if (devices[i].index != idx) continue;
      if (!devices[i].usable())
        throw Error("[vulkan] device " + sel + " (" + devices[i].caps.name +
                    ") cannot run tessera: it needs Vulkan 1.1 and a compute queue");
      return i;
    }
    throw Error("[vulkan] no Vulkan device with index " + sel + "; devices: " + describe_devices(devices));
  }

  const std::string needle = lower(selector);
  std::size_t best = devices.size();
  for (std::size_t i = 0; i < devices.size(); ++i) {
    const PhysicalDeviceInfo& d = devices[i];
    if (!d.usable()) continue;
    if (!needle.empty() && lower(d.caps.name).find(needle) == std::string::npos &&
        lower(d.caps.driver_name).find(needle) == std::string::npos)
      continue;
    if (best == devices.size() || device_type_rank(d.caps.type) > device_type_rank(devices[best].caps.type)) best = i;
  }
  if (best == devices.size())
    throw Error("[vulkan] no Vulkan device matches '" + std::string(selector) + "' (TESSERA_DEVICE / --device); devices: " +
                describe_devices(devices));
  return best;
}

}  // namespace tessera
