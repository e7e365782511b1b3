#include "engine/quirks.h"

#include "engine/vk.h"

namespace tessera {
namespace {

constexpr QuirkInfo kQuirks[] = {
    {Quirk::int_dot_unreliable, "int_dot_unreliable",
     "Qualcomm Adreno (Qualcomm driver); Intel (Windows driver); AMD RDNA1/2 (AMD Windows driver)",
     "no integer-dot kernels: activations stay f32 and weights are dequantized in the float path",
     "ggml-org/ggml#1601 (Adreno X2-90: Q4_0 x Q8_1 MMVQ wrong, disabled on Qualcomm); llama.cpp#20672 (MMVQ "
     "off on Intel Windows); 0xShug0/audio.cpp#193 (AMD Win RDNA1/2 reports 4x8 accelerated, wrong results)"},
    {Quirk::large_pipelines_fail, "large_pipelines_fail",
     "Qualcomm Adreno (Qualcomm driver, Windows and Android); Adreno X1-85 through Dozen (D3D12)",
     "medium tiles only: large matmul and attention tiles are never planned",
     "llama.cpp#8455, #12421, #9452 (vkCreateComputePipelines ErrorUnknown / ErrorOutOfHostMemory on large "
     "matmul shaders: 'known issue with Qualcomm's shader compiler')"},
    {Quirk::shared_memory_overstated, "shared_memory_overstated", "Qualcomm Adreno (any driver)",
     "tiles plan with at most 16 KiB of shared memory whatever the device reports",
     "llama.cpp#24877 (a q4_0 tile using ~16.9 KB fails under the reported 32 KB at batch > 32)"},
    {Quirk::unpack8_miscompiled, "unpack8_miscompiled", "Adreno X1-85 (Qualcomm Windows driver)",
     "kernels never use 8-bit arithmetic types (unpack8 and friends): bytes are extracted from 32-bit words "
     "with shifts; a test checks that no kernel declares the Int8 capability",
     "llama.cpp#28290 (unpack8() corrupts MUL_MAT + CPY on X1-85, garbage output with Q8_0)"},
    {Quirk::quantized_v_cache_hd256, "quantized_v_cache_hd256", "Adreno X1-85 (Mesa turnip)",
     "the V cache stays F16 where a quantized V cache would meet head dim 256 (sliding layers)",
     "llama.cpp#26195 (flash attention with quantized V cache, head_dim 256: garbled output)"},
    {Quirk::needs_explicit_subgroup_size, "needs_explicit_subgroup_size",
     "Intel Xe/Xe2 (Windows driver and ANV) with subgroup size control",
     "every pipeline is created with the planned subgroup size required (and full subgroups where the "
     "workgroup allows)",
     "llama.cpp PR #17374 (Xe2 needs explicit subgroup size / full subgroups); llama.cpp#17389 (required size "
     "32 + full subgroups fixes the subgroup layout on Intel iGPU); IGCIT#1402 (140V min subgroup 16)"},
    {Quirk::uma_budget_overstated, "uma_budget_overstated", "Intel Lunar Lake and other Intel iGPUs (Windows driver)",
     "the memory plan keeps 20% of the reported device-local budget free",
     "IGCIT#1356 (ErrorOutOfDeviceMemory on Lunar Lake UMA); KhronosGroup/Vulkan-ValidationLayers#11515 "
     "(memory accounting on Lunar Lake)"},
    {Quirk::coopmat_subgroup_multiple, "coopmat_subgroup_multiple", "AMD RDNA3 (RADV) cooperative matrix",
     "cooperative-matrix workgroups are planned as a multiple of the largest subgroup size",
     "nihui/waifu2x-ncnn-vulkan#220 (RADV coopmat: workgroup X must be a multiple of the effective subgroup "
     "size)"},
    {Quirk::register_sort_miscompiled, "register_sort_miscompiled", "NVIDIA (proprietary driver, seen on Turing)",
     "GPU top-k sorts through shared memory",
     "llama.cpp PR #28975 (argsort_large.comp intermittently wrong on the NVIDIA driver; using shared memory "
     "avoids it)"},
};
static_assert(std::size(kQuirks) == static_cast<std::size_t>(Quirk::count));

}  // namespace

std::span<const QuirkInfo> quirk_infos() { return kQuirks; }

const QuirkInfo& quirk_info(Quirk q) { return kQuirks[static_cast<std::size_t>(q)]; }

std::optional<Quirk> find_quirk(std::string_view name) {
  for (const QuirkInfo& q : kQuirks)
    if (q.name == name) return q.quirk;
  return std::nullopt;
}

QuirkSet detect_quirks(const DeviceCaps& c) {
  QuirkSet s;
  const auto driver = static_cast<VkDriverId>(c.driver_id);
  const bool qualcomm = c.vendor_id == static_cast<std::uint32_t>(Vendor::Qualcomm);
  const bool intel = c.vendor_id == static_cast<std::uint32_t>(Vendor::Intel);
  const bool amd = c.vendor_id == static_cast<std::uint32_t>(Vendor::AMD);
  if (qualcomm) s.add(Quirk::shared_memory_overstated);
  if (driver == VK_DRIVER_ID_QUALCOMM_PROPRIETARY) {
    s.add(Quirk::int_dot_unreliable).add(Quirk::large_pipelines_fail).add(Quirk::unpack8_miscompiled);
  }
  if (qualcomm && driver == VK_DRIVER_ID_MESA_DOZEN) s.add(Quirk::large_pipelines_fail);
  if (driver == VK_DRIVER_ID_MESA_TURNIP) s.add(Quirk::quantized_v_cache_hd256);
  if (driver == VK_DRIVER_ID_INTEL_PROPRIETARY_WINDOWS) s.add(Quirk::int_dot_unreliable).add(Quirk::uma_budget_overstated);
  if (intel && c.subgroup_size_control) s.add(Quirk::needs_explicit_subgroup_size);
  // RDNA1/2 and RDNA3 share AMD's Windows driver; only RDNA3 and later expose cooperative matrix
  // there, which is how the two are told apart without a device-id table.
  if (amd && driver == VK_DRIVER_ID_AMD_PROPRIETARY && c.integer_dot_4x8_accelerated && !c.cooperative_matrix)
    s.add(Quirk::int_dot_unreliable);
  if (driver == VK_DRIVER_ID_MESA_RADV && c.cooperative_matrix) s.add(Quirk::coopmat_subgroup_multiple);
  if (driver == VK_DRIVER_ID_NVIDIA_PROPRIETARY) s.add(Quirk::register_sort_miscompiled);
  return s;
}

std::string quirk_names(QuirkSet s) {
  std::string out;
  for (const QuirkInfo& q : kQuirks)
    if (s.has(q.quirk)) out += (out.empty() ? "" : ", ") + std::string(q.name);
  return out;
}

}  // namespace tessera
