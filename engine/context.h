// Context: everything one engine needs on one GPU: Instance, the selected Device (caps masked by
// the forced device profile, if any), the persistent pipeline cache and the memoized pipelines.
// One per engine; no global state. Created through create(), owned by unique_ptr.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/caps.h"
#include "engine/options.h"
#include "engine/pipeline.h"
#include "engine/plan.h"

namespace tessera {

class Device;
class Instance;
class PipelineCache;
struct DeviceProfile;

class Context {
 public:
  // Throws VulkanUnavailable when there is no Vulkan loader or device, Error when
  // opts.device matches nothing or opts.profile is unknown.
  static std::unique_ptr<Context> create(const EngineOptions& opts);

  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  ~Context();  // saves the pipeline cache

  const DeviceCaps& caps() const;       // after profile masking
  const DeviceCaps& real_caps() const;  // before
  const KernelPlan& plan() const { return plan_; }  // kernel variants, picked once from caps()
  const DeviceProfile* profile() const { return profile_; }  // null when none forced
  const EngineOptions& options() const { return opts_; }
  Device& device() { return *device_; }
  const Device& device() const { return *device_; }
  Instance& instance() { return *instance_; }
  std::uint32_t device_index() const { return device_index_; }  // vkEnumeratePhysicalDevices position

  // Created on first use through the persistent VkPipelineCache, then memoized. Thread-safe.
  // A desc without a required subgroup size gets the plan's (quirk needs_explicit_subgroup_size).
  const Pipeline& pipeline(const PipelineDesc& d);
  std::size_t pipeline_count() const;

  bool validation_enabled() const;  // the layer is loaded and its messages are counted
  std::uint64_t validation_error_count() const;
  std::vector<std::string> validation_messages() const;

  void save_pipeline_cache();
  std::uint64_t pipeline_cache_loaded_bytes() const;  // bytes accepted from disk at start
  std::filesystem::path pipeline_cache_path() const;  // empty when not persisted

 private:
  Context() = default;

  EngineOptions opts_;
  const DeviceProfile* profile_ = nullptr;
  KernelPlan plan_;
  std::uint32_t device_index_ = 0;
  std::unique_ptr<Instance> instance_;
  std::unique_ptr<Device> device_;
  std::unique_ptr<PipelineCache> cache_;
  mutable std::mutex pipelines_mutex_;
  std::unordered_map<PipelineDesc, std::unique_ptr<Pipeline>, PipelineDescHash> pipelines_;
};

}  // namespace tessera
