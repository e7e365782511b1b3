// Device: the VkDevice on one physical device, its compute queue and its own volk function table
// (no global device pointers, so several devices can coexist). Features and extensions enabled
// are exactly those the given (possibly profile-masked) caps report, so the validation layer
// checks kernels against the device the engine plans for.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/caps.h"
#include "engine/caps_query.h"
#include "engine/log.h"
#include "engine/vk.h"

namespace tessera {

class Instance;

class Device {
 public:
  // `enabled` must be a subset of info.caps (apply_device_profile guarantees it).
  // `verbose`: info lines on stderr (EngineOptions::verbose).
  static std::unique_ptr<Device> create(const Instance& instance, const PhysicalDeviceInfo& info,
                                        const DeviceCaps& enabled, bool verbose = false);

  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  ~Device();

  VkDevice handle() const { return device_; }
  VkPhysicalDevice physical() const { return physical_; }
  VkQueue queue() const { return queue_; }
  std::uint32_t queue_family() const { return queue_family_; }
  std::uint32_t api_version() const { return api_version_; }
  const VolkDeviceTable& fn() const { return fn_; }  // device-level Vulkan commands
  const DeviceCaps& caps() const { return caps_; }   // caps the device was created for (masked)
  const DeviceCaps& real_caps() const { return real_caps_; }  // what the hardware reports
  const Log& log() const { return log_; }
  const VkPhysicalDeviceMemoryProperties& memory_properties() const { return memory_; }
  const std::vector<std::string>& enabled_extensions() const { return extensions_; }
  const Instance& instance() const { return *instance_; }

  // Names an object for validation messages (no-op without debug utils).
  void set_name(VkObjectType type, std::uint64_t handle, std::string_view name) const;
  // Current heap sizes and budgets (VK_EXT_memory_budget when enabled).
  std::vector<MemoryHeap> heaps() const;
  // Serializes vkQueueSubmit from several CommandLists.
  std::mutex& queue_mutex() const { return queue_mutex_; }
  void wait_idle() const;

 private:
  Device() = default;

  const Instance* instance_ = nullptr;
  VkPhysicalDevice physical_ = VK_NULL_HANDLE;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  std::uint32_t queue_family_ = 0;
  std::uint32_t api_version_ = 0;
  VolkDeviceTable fn_{};
  DeviceCaps caps_;
  DeviceCaps real_caps_;
  Log log_;
  VkPhysicalDeviceMemoryProperties memory_{};
  std::vector<std::string> extensions_;
  mutable std::mutex queue_mutex_;
};

}  // namespace tessera
