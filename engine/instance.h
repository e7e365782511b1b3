// Instance: the VkInstance (through volk), the optional validation layer and the debug-utils
// messenger that counts validation errors. One per Context; no process-wide state beyond volk's
// loader handle.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/vk.h"

namespace tessera {

class Instance {
 public:
  // Loads libvulkan, creates a Vulkan 1.3 instance (1.1/1.2 when the loader is older). With
  // `validation`, enables VK_LAYER_KHRONOS_validation when installed (a warning otherwise) and a
  // messenger; `sync` adds synchronization validation. Throws VulkanUnavailable when no loader /
  // no driver exists.
  static std::unique_ptr<Instance> create(bool validation, bool sync = false);

  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;
  ~Instance();

  VkInstance handle() const { return instance_; }
  std::uint32_t api_version() const { return api_version_; }  // version requested at creation
  std::vector<VkPhysicalDevice> physical_devices() const;

  bool validation_requested() const { return validation_requested_; }
  bool validation_active() const { return validation_active_; }  // layer loaded and messenger installed
  bool debug_utils() const { return set_object_name_ != nullptr; }

  // Validation messages of severity ERROR seen so far (warnings are stored, not counted).
  std::uint64_t validation_error_count() const;
  // "ERROR <id>: <message>" / "WARNING <id>: <message>", oldest first, at most kMaxMessages.
  std::vector<std::string> validation_messages() const;
  static constexpr std::size_t kMaxMessages = 256;

  // vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR when the loader exposes it, else null.
  PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR coopmat_properties_fn() const { return coopmat_props_; }
  // Names a Vulkan object for validation messages and debuggers; no-op without debug utils.
  void set_object_name(VkDevice device, VkObjectType type, std::uint64_t handle, std::string_view name) const;

  // Messenger state; public so the C callback can reach it.
  struct DebugState {
    mutable std::mutex mutex;
    std::uint64_t errors = 0;
    std::vector<std::string> messages;
  };

 private:
  Instance() = default;

  VkInstance instance_ = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  std::uint32_t api_version_ = 0;
  bool validation_requested_ = false;
  bool validation_active_ = false;
  std::unique_ptr<DebugState> debug_;  // stable address for the messenger's user data
  PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR coopmat_props_ = nullptr;
  PFN_vkSetDebugUtilsObjectNameEXT set_object_name_ = nullptr;
  PFN_vkCreateDebugUtilsMessengerEXT create_messenger_ = nullptr;
  PFN_vkDestroyDebugUtilsMessengerEXT destroy_messenger_ = nullptr;
};

}  // namespace tessera
