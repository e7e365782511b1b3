// Compute pipeline creation with SPIR-V checks (see pipeline.h).
#include "engine/pipeline.h"

#include <array>
#include <chrono>
#include <string>
#include <utility>

#include "engine/device.h"
#include "engine/log.h"
#include "engine/spirv_reflect.h"

namespace tessera {
namespace {

bool power_of_two(std::uint32_t v) { return v && !(v & (v - 1)); }

// Owns a handle until released; keeps create() exception-safe without nesting.
template <class H, class D>
struct Guard {
  H h = VK_NULL_HANDLE;
  D destroy;
  ~Guard() {
    if (h != VK_NULL_HANDLE) destroy(h);
  }
  H release() { return std::exchange(h, VK_NULL_HANDLE); }
};
template <class H, class D>
Guard(H, D) -> Guard<H, D>;

}  // namespace

std::size_t PipelineDescHash::operator()(const PipelineDesc& d) const noexcept {
  std::size_t h = static_cast<std::size_t>(d.kernel) * 0x9e3779b97f4a7c15ull;
  auto mix = [&h](std::uint64_t v) { h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); };
  mix(d.bindings);
  mix(d.push_constant_bytes);
  mix(d.required_subgroup_size);
  for (std::uint32_t s : d.spec_constants) mix(s);
  return h;
}

namespace {

// Throws when the desc disagrees with the SPIR-V or the (masked) device limits; returns the
// workgroup size with spec-constant overrides.
std::array<std::uint32_t, 3> check_desc(const PipelineDesc& d, const SpirvReflection& refl, const DeviceCaps& caps,
                                        std::uint32_t shared_budget, const std::string& who) {
  if (refl.shared_memory_bytes > caps.max_shared_memory)
    throw Error(who + "uses " + std::to_string(refl.shared_memory_bytes) +
                " bytes of shared memory, more than maxComputeSharedMemorySize (" + std::to_string(caps.max_shared_memory) +
                ")");
  if (shared_budget != 0 && refl.shared_memory_bytes > shared_budget)
    throw Error(who + "uses " + std::to_string(refl.shared_memory_bytes) + " bytes of shared memory, more than the " +
                std::to_string(shared_budget) + " the kernel plan allows on this device (quirk shared_memory_overstated)");
  if (d.push_constant_bytes != refl.push_constant_bytes)
    throw Error(who + "push_constant_bytes is " + std::to_string(d.push_constant_bytes) +
                " but the SPIR-V push-constant block is " + std::to_string(refl.push_constant_bytes) + " bytes");
  if (d.push_constant_bytes > caps.max_push_constants)
    throw Error(who + "push constants of " + std::to_string(d.push_constant_bytes) + " bytes exceed maxPushConstantsSize (" +
                std::to_string(caps.max_push_constants) + ")");
  for (const SpirvBinding& b : refl.bindings) {
    if (b.set != 0 || !b.storage_buffer || b.binding >= d.bindings)
      throw Error(who + "the SPIR-V declares " + (b.storage_buffer ? "a storage buffer" : "a non-storage-buffer resource") +
                  " at set " + std::to_string(b.set) + " binding " + std::to_string(b.binding) + " but the desc has " +
                  std::to_string(d.bindings) + " storage buffers at set 0");
  }
  const auto ls = refl.resolve_local_size(d.spec_constants);
  for (int i = 0; i < 3; ++i)
    if (ls[i] == 0 || ls[i] > caps.max_workgroup_size[i])
      throw Error(who + "workgroup size " + std::to_string(ls[0]) + "x" + std::to_string(ls[1]) + "x" +
                  std::to_string(ls[2]) + " exceeds maxComputeWorkGroupSize[" + std::to_string(i) +
                  "] = " + std::to_string(caps.max_workgroup_size[i]));
  const std::uint64_t invocations = std::uint64_t{ls[0]} * ls[1] * ls[2];
  if (invocations > caps.max_workgroup_invocations)
    throw Error(who + "workgroup of " + std::to_string(invocations) + " invocations exceeds maxComputeWorkGroupInvocations (" +
                std::to_string(caps.max_workgroup_invocations) + ")");
  return ls;
}

// Required subgroup size to apply (0 = none): only when the (masked) caps allow size control,
// within the real hardware range (a profile plans with other sizes), and only if the workgroup
// fits in maxComputeWorkgroupSubgroups subgroups of that size. *full: also require full subgroups.
std::uint32_t usable_subgroup_size(const Device& dev, const PipelineDesc& d, const std::array<std::uint32_t, 3>& ls,
                                   const std::string& who, bool* full) {
  const std::uint32_t s = d.required_subgroup_size;
  *full = false;
  if (s == 0) return 0;
  const DeviceCaps& caps = dev.caps();
  const DeviceCaps& hw = dev.real_caps();
  const std::uint64_t invocations = std::uint64_t{ls[0]} * ls[1] * ls[2];
  const bool fits = hw.max_compute_workgroup_subgroups == 0 || invocations <= std::uint64_t{s} * hw.max_compute_workgroup_subgroups;
  if (!(caps.subgroup_size_control && hw.subgroup_size_control && power_of_two(s) && s >= hw.subgroup_min &&
        s <= hw.subgroup_max && fits)) {
    dev.log().info(who + "required subgroup size " + std::to_string(s) + " not applied (device range " +
             std::to_string(hw.subgroup_min) + ".." + std::to_string(hw.subgroup_max) + ")");
    return 0;
  }
  *full = caps.compute_full_subgroups && hw.compute_full_subgroups && ls[0] % s == 0;
  return s;
}

}  // namespace

Pipeline Pipeline::create(const Device& dev, VkPipelineCache cache, const PipelineDesc& d,
                          std::uint32_t shared_memory_budget) {
  const std::string name(kernel_name(d.kernel));
  const std::string who = "[pipeline] " + name + ": ";
  const std::span<const std::uint32_t> words = kernel_spirv(d.kernel);
  const SpirvReflection refl = reflect_spirv(words, name);
  const auto ls = check_desc(d, refl, dev.caps(), shared_memory_budget, who);

  const VolkDeviceTable& fn = dev.fn();
  const VkDevice vd = dev.handle();
  Pipeline p;
  p.dev_ = &dev;
  p.desc_ = d;
  for (int i = 0; i < 3; ++i) p.local_size[i] = ls[i];
  p.shared_memory_bytes_ = refl.shared_memory_bytes;

  auto smci = vk_init<VkShaderModuleCreateInfo>(VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO);
  smci.codeSize = words.size_bytes();
  smci.pCode = words.data();
  Guard module{VkShaderModule{VK_NULL_HANDLE}, [&](VkShaderModule m) { fn.vkDestroyShaderModule(vd, m, nullptr); }};
  vk_check(fn.vkCreateShaderModule(vd, &smci, nullptr, &module.h), "vkCreateShaderModule", name);

  p.create_layouts(name);

  std::vector<VkSpecializationMapEntry> entries(d.spec_constants.size());
  for (std::uint32_t i = 0; i < entries.size(); ++i) entries[i] = {i, i * 4u, 4};
  VkSpecializationInfo spec{static_cast<std::uint32_t>(entries.size()), entries.data(),
                            d.spec_constants.size() * 4, d.spec_constants.data()};

  auto stage = vk_init<VkPipelineShaderStageCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO);
  stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  stage.module = module.h;
  stage.pName = "main";
  stage.pSpecializationInfo = entries.empty() ? nullptr : &spec;

  auto sgci = vk_init<VkPipelineShaderStageRequiredSubgroupSizeCreateInfo>(
      VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_REQUIRED_SUBGROUP_SIZE_CREATE_INFO);
  bool full = false;
  if ((p.subgroup_size_ = usable_subgroup_size(dev, d, ls, who, &full)) != 0) {
    sgci.requiredSubgroupSize = p.subgroup_size_;
    stage.pNext = &sgci;
    if (full) stage.flags |= VK_PIPELINE_SHADER_STAGE_CREATE_REQUIRE_FULL_SUBGROUPS_BIT;
  }

  auto pci = vk_init<VkComputePipelineCreateInfo>(VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO);
  pci.stage = stage;
  pci.layout = p.layout_;
  const auto t0 = std::chrono::steady_clock::now();
  vk_check(fn.vkCreateComputePipelines(vd, cache, 1, &pci, nullptr, &p.pipeline_), "vkCreateComputePipelines", name);
  p.create_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  dev.set_name(VK_OBJECT_TYPE_PIPELINE, reinterpret_cast<std::uint64_t>(p.pipeline_), name);
  return p;
}

void Pipeline::create_layouts(const std::string& name) {
  const VolkDeviceTable& fn = dev_->fn();
  const VkDevice vd = dev_->handle();
  if (desc_.bindings > 0) {
    std::vector<VkDescriptorSetLayoutBinding> binds(desc_.bindings);
    for (std::uint32_t i = 0; i < desc_.bindings; ++i)
      binds[i] = {i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
    auto dci = vk_init<VkDescriptorSetLayoutCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO);
    dci.bindingCount = desc_.bindings;
    dci.pBindings = binds.data();
    vk_check(fn.vkCreateDescriptorSetLayout(vd, &dci, nullptr, &set_layout_), "vkCreateDescriptorSetLayout", name);
    dev_->set_name(VK_OBJECT_TYPE_DESCRIPTOR_SET_LAYOUT, reinterpret_cast<std::uint64_t>(set_layout_), name);
  }
  VkPushConstantRange pcr{VK_SHADER_STAGE_COMPUTE_BIT, 0, desc_.push_constant_bytes};
  auto lci = vk_init<VkPipelineLayoutCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO);
  lci.setLayoutCount = set_layout_ ? 1 : 0;
  lci.pSetLayouts = &set_layout_;
  lci.pushConstantRangeCount = desc_.push_constant_bytes ? 1 : 0;
  lci.pPushConstantRanges = &pcr;
  vk_check(fn.vkCreatePipelineLayout(vd, &lci, nullptr, &layout_), "vkCreatePipelineLayout", name);
  dev_->set_name(VK_OBJECT_TYPE_PIPELINE_LAYOUT, reinterpret_cast<std::uint64_t>(layout_), name);

}

Pipeline::Pipeline(Pipeline&& o) noexcept { *this = std::move(o); }

Pipeline& Pipeline::operator=(Pipeline&& o) noexcept {
  if (this != &o) {
    reset();
    dev_ = std::exchange(o.dev_, nullptr);
    desc_ = std::move(o.desc_);
    set_layout_ = std::exchange(o.set_layout_, VK_NULL_HANDLE);
    layout_ = std::exchange(o.layout_, VK_NULL_HANDLE);
    pipeline_ = std::exchange(o.pipeline_, VK_NULL_HANDLE);
    subgroup_size_ = o.subgroup_size_;
    create_ms_ = o.create_ms_;
    shared_memory_bytes_ = o.shared_memory_bytes_;
    for (int i = 0; i < 3; ++i) local_size[i] = o.local_size[i];
  }
  return *this;
}

Pipeline::~Pipeline() { reset(); }

void Pipeline::reset() noexcept {
  if (!dev_) return;
  const VolkDeviceTable& fn = dev_->fn();
  if (pipeline_) fn.vkDestroyPipeline(dev_->handle(), pipeline_, nullptr);
  if (layout_) fn.vkDestroyPipelineLayout(dev_->handle(), layout_, nullptr);
  if (set_layout_) fn.vkDestroyDescriptorSetLayout(dev_->handle(), set_layout_, nullptr);
  dev_ = nullptr;
  pipeline_ = VK_NULL_HANDLE;
  layout_ = VK_NULL_HANDLE;
  set_layout_ = VK_NULL_HANDLE;
}

}  // namespace tessera
