// Context creation: instance, device selection, profile masking, pipeline cache (see context.h).
#include "engine/context.h"

#include "engine/caps_query.h"
#include "engine/device.h"
#include "engine/device_select.h"
#include "engine/instance.h"
#include "engine/log.h"
#include "engine/pipeline_cache.h"
#include "engine/profiles.h"
#include "engine/quirks.h"

namespace tessera {

std::unique_ptr<Context> Context::create(const EngineOptions& opts) {
  std::unique_ptr<Context> ctx(new Context());
  ctx->opts_ = opts;
  if (!opts.profile.empty()) {
    ctx->profile_ = find_device_profile(opts.profile);
    if (!ctx->profile_) {
      std::string known;
      for (const DeviceProfile& p : device_profiles()) known += (known.empty() ? "" : ", ") + std::string(p.name);
      throw Error("[vulkan] unknown device profile '" + opts.profile + "' (TESSERA_DEVICE_PROFILE / --profile); known: " +
                  known);
    }
  }

  ctx->instance_ = Instance::create(opts.validation || opts.validation_sync, opts.validation_sync);
  const std::vector<PhysicalDeviceInfo> devices = enumerate_devices(*ctx->instance_);
  const PhysicalDeviceInfo& info = devices[select_device(devices, opts.device)];
  ctx->device_index_ = info.index;
  const DeviceCaps enabled = ctx->profile_ ? apply_device_profile(info.caps, *ctx->profile_) : info.caps;
  ctx->device_ = Device::create(*ctx->instance_, info, enabled, opts.verbose);
  ctx->plan_ = plan_kernels(ctx->device_->caps());
  ctx->device_->log().info("device " + std::to_string(info.index) + ": " + info.caps.name + " (" + info.caps.driver_name + " " +
           info.caps.driver_info + ")" + (ctx->profile_ ? ", profile " + opts.profile : std::string()) +
           (ctx->device_->caps().quirks.empty() ? std::string() : ", quirks: " + quirk_names(ctx->device_->caps().quirks)));

  const std::filesystem::path dir = opts.cache_dir.empty() ? default_cache_dir() : opts.cache_dir;
  ctx->cache_ = PipelineCache::open(*ctx->device_, info.caps, dir);
  return ctx;
}

Context::~Context() {
  pipelines_.clear();
  if (cache_) cache_->save();
  // Members then go in reverse order: cache, device, instance.
}

const DeviceCaps& Context::caps() const { return device_->caps(); }
const DeviceCaps& Context::real_caps() const { return device_->real_caps(); }

const Pipeline& Context::pipeline(const PipelineDesc& desc) {
  PipelineDesc d = desc;
  if (d.required_subgroup_size == 0) d.required_subgroup_size = plan_.required_subgroup_size;
  std::lock_guard lock(pipelines_mutex_);
  auto it = pipelines_.find(d);
  if (it != pipelines_.end()) return *it->second;
  auto p = std::make_unique<Pipeline>(Pipeline::create(*device_, cache_->handle(), d, plan_.shared_memory_budget));
  cache_->mark_dirty();
  device_->log().info("pipeline " + std::string(p->name()) + " created in " + std::to_string(p->create_ms()) + " ms");
  return *pipelines_.emplace(d, std::move(p)).first->second;
}

std::size_t Context::pipeline_count() const {
  std::lock_guard lock(pipelines_mutex_);
  return pipelines_.size();
}

bool Context::validation_enabled() const { return instance_->validation_active(); }
std::uint64_t Context::validation_error_count() const { return instance_->validation_error_count(); }
std::vector<std::string> Context::validation_messages() const { return instance_->validation_messages(); }

void Context::save_pipeline_cache() { cache_->save(); }
std::uint64_t Context::pipeline_cache_loaded_bytes() const { return cache_->loaded_bytes(); }
std::filesystem::path Context::pipeline_cache_path() const { return cache_->path(); }

}  // namespace tessera
