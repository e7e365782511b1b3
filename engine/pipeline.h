// Pipeline: one compute kernel ready to dispatch: descriptor set layout (storage buffers at set 0,
// bindings 0..n-1), pipeline layout (push-constant range) and VkPipeline. The PipelineDesc is
// checked against the kernel's SPIR-V (push-constant size, bindings, workgroup size) at creation.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/vk.h"
#include "tessera/kernel_id.h"

namespace tessera {

class Device;

struct PipelineDesc {
  KernelId kernel{};
  std::uint32_t bindings = 0;             // storage buffers at set 0, bindings 0..n-1
  std::uint32_t push_constant_bytes = 0;  // must equal the SPIR-V push-constant block size
  std::vector<std::uint32_t> spec_constants = {};  // constant_id 0..n-1, 32-bit each
  std::uint32_t required_subgroup_size = 0;        // 0 = driver default; applied only when caps allow
  bool operator==(const PipelineDesc&) const = default;
};

struct PipelineDescHash {
  std::size_t operator()(const PipelineDesc& d) const noexcept;
};

class Pipeline {
 public:
  // Throws Error "[pipeline] <kernel>: ..." when the desc disagrees with the SPIR-V or the device
  // limits (shared memory: also `shared_memory_budget` when nonzero, the plan's budget), or a
  // [vulkan] error naming the call and kernel.
  static Pipeline create(const Device& dev, VkPipelineCache cache, const PipelineDesc& desc,
                         std::uint32_t shared_memory_budget = 0);

  Pipeline() = default;
  Pipeline(Pipeline&& o) noexcept;
  Pipeline& operator=(Pipeline&& o) noexcept;
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;
  ~Pipeline();

  const PipelineDesc& desc() const { return desc_; }
  std::string_view name() const { return kernel_name(desc_.kernel); }
  VkPipeline handle() const { return pipeline_; }
  VkPipelineLayout layout() const { return layout_; }
  VkDescriptorSetLayout set_layout() const { return set_layout_; }  // null when bindings == 0
  // Subgroup size forced at creation (0 = driver default: none requested or caps do not allow).
  std::uint32_t subgroup_size() const { return subgroup_size_; }
  double create_ms() const { return create_ms_; }  // time vkCreateComputePipelines took
  std::uint32_t shared_memory_bytes() const { return shared_memory_bytes_; }  // reflected Workgroup storage

  std::uint32_t local_size[3] = {1, 1, 1};  // reflected workgroup size, spec-constant overrides applied

 private:
  void reset() noexcept;
  void create_layouts(const std::string& name);  // set layout (when bindings > 0) + pipeline layout

  const Device* dev_ = nullptr;
  PipelineDesc desc_;
  VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  VkPipeline pipeline_ = VK_NULL_HANDLE;
  std::uint32_t subgroup_size_ = 0;
  double create_ms_ = 0;
  std::uint32_t shared_memory_bytes_ = 0;
};

}  // namespace tessera
