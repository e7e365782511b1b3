// VkInstance creation through volk, validation layer and debug messenger (see instance.h).
#include "engine/instance.h"

#include <algorithm>
#include <cstring>

#include "engine/log.h"

namespace tessera {
namespace {

constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";

// volkInitialize once per process: it only dlopens libvulkan and reads vkGetInstanceProcAddr.
VkResult load_vulkan_once() {
  static std::once_flag once;
  static VkResult result = VK_ERROR_INITIALIZATION_FAILED;
  std::call_once(once, [] { result = volkInitialize(); });
  return result;
}

bool has_layer(const char* name) {
  std::uint32_t n = 0;
  if (vkEnumerateInstanceLayerProperties(&n, nullptr) != VK_SUCCESS) return false;
  std::vector<VkLayerProperties> layers(n);
  if (vkEnumerateInstanceLayerProperties(&n, layers.data()) < 0) return false;
  return std::any_of(layers.begin(), layers.begin() + n,
                     [&](const VkLayerProperties& l) { return std::strcmp(l.layerName, name) == 0; });
}

std::vector<std::string> instance_extensions(const char* layer) {
  std::uint32_t n = 0;
  if (vkEnumerateInstanceExtensionProperties(layer, &n, nullptr) != VK_SUCCESS) return {};
  std::vector<VkExtensionProperties> props(n);
  if (vkEnumerateInstanceExtensionProperties(layer, &n, props.data()) < 0) return {};
  std::vector<std::string> out;
  for (std::uint32_t i = 0; i < n; ++i) out.emplace_back(props[i].extensionName);
  return out;
}

// Layers, extensions and flags of the instance.
struct Setup {
  std::vector<const char*> layers;
  std::vector<const char*> exts;
  VkInstanceCreateFlags flags = 0;
  bool debug_utils = false;  // VK_EXT_debug_utils enabled (messenger, object names)
  bool sync = false;         // synchronization validation enabled
};

Setup choose_layers_and_extensions(bool validation, bool sync) {
  Setup s;
  std::vector<std::string> available = instance_extensions(nullptr);
  auto has = [&](const char* e) { return std::find(available.begin(), available.end(), e) != available.end(); };
  if (validation) {
    if (has_layer(kValidationLayer)) {
      s.layers.push_back(kValidationLayer);
      for (const std::string& e : instance_extensions(kValidationLayer)) available.push_back(e);
    } else {
      log_warning("validation requested but " + std::string(kValidationLayer) +
                  " is not installed; continuing without validation");
    }
    s.debug_utils = has(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
    if (s.debug_utils) s.exts.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
    s.sync = sync && !s.layers.empty() && has(VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME);
    if (s.sync) s.exts.push_back(VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME);
  }
#ifdef VK_KHR_portability_enumeration
  if (has(VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
    s.exts.push_back(VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME);  // MoltenVK and other layered drivers
    s.flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
  }
#endif
  return s;
}

VKAPI_ATTR VkBool32 VKAPI_CALL on_debug_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                VkDebugUtilsMessageTypeFlagsEXT types,
                                                const VkDebugUtilsMessengerCallbackDataEXT* data, void* user) {
  auto* state = static_cast<Instance::DebugState*>(user);
  const bool error = (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) != 0;
  // Loader chatter (GENERAL) about unrelated drivers is not a validation error of ours.
  const bool counted = error && (types & (VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                                          VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT)) != 0;
  std::string msg = counted ? "ERROR " : (error ? "ERROR (general) " : "WARNING ");
  if (data && data->pMessageIdName) msg += data->pMessageIdName;
  msg += ": ";
  if (data && data->pMessage) msg += data->pMessage;
  {
    std::lock_guard lock(state->mutex);
    if (counted) ++state->errors;
    if (state->messages.size() < Instance::kMaxMessages) state->messages.push_back(msg);
  }
  if (counted) log_warning("[vulkan] validation " + msg);
  return VK_FALSE;
}

}  // namespace

std::unique_ptr<Instance> Instance::create(bool validation, bool sync) {
  if (load_vulkan_once() != VK_SUCCESS)
    throw VulkanUnavailable("[vulkan] no Vulkan loader: volkInitialize could not load libvulkan (install a Vulkan driver)");

  std::unique_ptr<Instance> inst(new Instance());
  inst->validation_requested_ = validation;
  inst->debug_ = std::make_unique<DebugState>();

  const std::uint32_t loader = volkGetInstanceVersion();
  if (loader < VK_API_VERSION_1_1)
    throw VulkanUnavailable("[vulkan] the Vulkan loader is " + vk_version_string(loader) + "; tessera needs 1.1 or newer");
  inst->api_version_ = std::min<std::uint32_t>(VK_MAKE_API_VERSION(0, VK_API_VERSION_MAJOR(loader),
                                                                   VK_API_VERSION_MINOR(loader), 0),
                                               VK_API_VERSION_1_3);

  const Setup setup = choose_layers_and_extensions(validation, sync);
  const std::vector<const char*>& layers = setup.layers;
  const std::vector<const char*>& exts = setup.exts;
  const bool use_debug_utils = setup.debug_utils;
  sync = setup.sync;
  const VkInstanceCreateFlags flags = setup.flags;

  auto app = vk_init<VkApplicationInfo>(VK_STRUCTURE_TYPE_APPLICATION_INFO);
  app.pApplicationName = "tessera";
  app.applicationVersion = VK_MAKE_API_VERSION(0, 0, 1, 0);
  app.pEngineName = "tessera";
  app.engineVersion = VK_MAKE_API_VERSION(0, 0, 1, 0);
  app.apiVersion = inst->api_version_;

  auto messenger_ci = vk_init<VkDebugUtilsMessengerCreateInfoEXT>(VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT);
  messenger_ci.messageSeverity =
      VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  messenger_ci.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                             VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  messenger_ci.pfnUserCallback = on_debug_message;
  messenger_ci.pUserData = inst->debug_.get();

  const VkValidationFeatureEnableEXT sync_feature = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
  auto features = vk_init<VkValidationFeaturesEXT>(VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT);
  features.enabledValidationFeatureCount = 1;
  features.pEnabledValidationFeatures = &sync_feature;

  auto ci = vk_init<VkInstanceCreateInfo>(VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO);
  ci.pNext = use_debug_utils ? &messenger_ci : nullptr;  // also catches messages from vkCreateInstance
  if (sync) {
    features.pNext = ci.pNext;
    ci.pNext = &features;
  }
  ci.flags = flags;
  ci.pApplicationInfo = &app;
  ci.enabledLayerCount = static_cast<std::uint32_t>(layers.size());
  ci.ppEnabledLayerNames = layers.data();
  ci.enabledExtensionCount = static_cast<std::uint32_t>(exts.size());
  ci.ppEnabledExtensionNames = exts.data();
  const VkResult r = vkCreateInstance(&ci, nullptr, &inst->instance_);
  if (r == VK_ERROR_INCOMPATIBLE_DRIVER || r == VK_ERROR_INITIALIZATION_FAILED)
    throw VulkanUnavailable("[vulkan] vkCreateInstance failed: " + vk_result_name(r) + " (no Vulkan driver installed?)");
  vk_check(r, "vkCreateInstance");
  // Core and loader-known instance commands are loader trampolines that dispatch on the handle,
  // so several live instances can share volk's global pointers.
  volkLoadInstanceOnly(inst->instance_);

  auto get = [&](const char* name) { return vkGetInstanceProcAddr(inst->instance_, name); };
  inst->coopmat_props_ = reinterpret_cast<PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR>(
      get("vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR"));
  if (use_debug_utils) {
    inst->create_messenger_ = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(get("vkCreateDebugUtilsMessengerEXT"));
    inst->destroy_messenger_ = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(get("vkDestroyDebugUtilsMessengerEXT"));
    inst->set_object_name_ = reinterpret_cast<PFN_vkSetDebugUtilsObjectNameEXT>(get("vkSetDebugUtilsObjectNameEXT"));
    if (inst->create_messenger_ && inst->destroy_messenger_) {
      vk_check(inst->create_messenger_(inst->instance_, &messenger_ci, nullptr, &inst->messenger_),
               "vkCreateDebugUtilsMessengerEXT");
      inst->validation_active_ = !layers.empty();
    }
  }
  return inst;
}

Instance::~Instance() {
  if (messenger_ != VK_NULL_HANDLE) destroy_messenger_(instance_, messenger_, nullptr);
  if (instance_ != VK_NULL_HANDLE) vkDestroyInstance(instance_, nullptr);
}

std::vector<VkPhysicalDevice> Instance::physical_devices() const {
  std::uint32_t n = 0;
  vk_check(vkEnumeratePhysicalDevices(instance_, &n, nullptr), "vkEnumeratePhysicalDevices");
  std::vector<VkPhysicalDevice> out(n);
  vk_check(vkEnumeratePhysicalDevices(instance_, &n, out.data()), "vkEnumeratePhysicalDevices");
  out.resize(n);
  return out;
}

std::uint64_t Instance::validation_error_count() const {
  std::lock_guard lock(debug_->mutex);
  return debug_->errors;
}

std::vector<std::string> Instance::validation_messages() const {
  std::lock_guard lock(debug_->mutex);
  return debug_->messages;
}

void Instance::set_object_name(VkDevice device, VkObjectType type, std::uint64_t handle, std::string_view name) const {
  if (!set_object_name_ || name.empty() || handle == 0) return;
  const std::string n(name);
  auto info = vk_init<VkDebugUtilsObjectNameInfoEXT>(VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_NAME_INFO_EXT);
  info.objectType = type;
  info.objectHandle = handle;
  info.pObjectName = n.c_str();
  set_object_name_(device, &info);
}

}  // namespace tessera
