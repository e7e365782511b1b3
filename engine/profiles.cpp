// The values of each profile, with their public sources. "?" in ../shared/docs/device-profiles.md
// (no public source) is never filled in by analogy here: unknown features stay unmasked, and an
// unknown limit is not set. Citations: [a1] llama.cpp#22690 (X1-85 under turnip), [gd] ggml#1601
// (Adreno X2-90 Windows: int dot advertised but wrong), [q64] termux-packages#7165 (vulkaninfo of
// Qualcomm's proprietary driver, Adreno 6xx sibling: subgroup 64, size control 64..128),
// [i1] ollama#13153 (Arc 130V Windows), [i3] IGCIT#1402 (140V Windows min subgroup 16),
// [i4] kvark/blade#399 (Xe2 coopmat 8x16x16), [i8] llama.cpp PR #24404 (no bf16 on Intel Win),
// [r1] llama.cpp PR #11595 (780M RADV), [r2] PR #18749, [r4] llama.cpp#17117 (RADV vulkaninfo),
// [r6] kompute#275 (RDNA2 RADV size control 32..64), [r7] PR #2059, [n1] llama.cpp PR #14903
// (RTX 4070 Ada), [r3] AMDVLK#420, [r5] llama.cpp PR #13326 (AMD Windows 32 KiB shared),
// [wmma] AMD GPUOpen "How to accelerate AI applications on RDNA 3 using WMMA" (WMMA is new in RDNA3),
// [vk] Vulkan 1.3 spec, table "Required Limits". Quirk sources: engine/quirks.cpp.
#include "engine/profiles.h"

#include <algorithm>

namespace tessera {
namespace {

constexpr std::uint64_t kMiB = 1024ull * 1024;

constexpr DeviceProfile make_adreno() {
  DeviceProfile p;
  p.name = "adreno-x1-85";
  p.type = DeviceType::Integrated;
  p.description = "Qualcomm Snapdragon X Elite Adreno X1-85, Windows driver";
  p.sources =
      "shared memory 32 KiB [a1]; subgroup 64 with size control 64..128 on Qualcomm's driver [q64], 128 "
      "under turnip [a1]; no coopmat, no bf16 [a1]; int dot masked: advertised but wrong on Adreno "
      "Windows [gd]";
  p.integer_dot_product = false;
  p.cooperative_matrix = false;
  p.bfloat16 = false;
  p.subgroup_size = 64;
  p.subgroup_min = 64;
  p.subgroup_max = 128;
  p.max_shared_memory = 32768;
  p.quirks = QuirkSet{}
                 .add(Quirk::int_dot_unreliable)
                 .add(Quirk::large_pipelines_fail)
                 .add(Quirk::shared_memory_overstated)
                 .add(Quirk::unpack8_miscompiled);
  return p;
}

constexpr DeviceProfile make_adreno_turnip() {
  DeviceProfile p;
  p.name = "adreno-x1-85-turnip";
  p.type = DeviceType::Integrated;
  p.description = "Qualcomm Snapdragon X Elite Adreno X1-85, Mesa turnip (Linux)";
  p.sources = "subgroup 128, shared memory 32 KiB, fp16, no coopmat, no bf16, int dot once enabled [a1]";
  p.cooperative_matrix = false;
  p.bfloat16 = false;
  p.subgroup_size = 128;
  p.subgroup_min = 128;
  p.subgroup_max = 128;
  p.max_shared_memory = 32768;
  p.quirks = QuirkSet{}.add(Quirk::shared_memory_overstated).add(Quirk::quantized_v_cache_hd256);
  return p;
}

constexpr DeviceProfile make_intel() {
  DeviceProfile p;
  p.name = "intel-xe2";
  p.type = DeviceType::Integrated;
  p.description = "Intel Arc 140V (Xe2, Lunar Lake), Windows driver";
  p.sources =
      "subgroup 32 [i1], min 16 on Windows [i3]; shared memory 32 KiB on Windows [i1] (ANV: 128 KiB); "
      "fp16 and int dot [i1]; KHR coopmat 8x16x16 [i1][i4]; no bf16 on Windows [i8]";
  p.bfloat16 = false;
  p.subgroup_size = 32;
  p.subgroup_min = 16;
  p.subgroup_max = 32;
  p.max_shared_memory = 32768;
  p.quirks = QuirkSet{}
                 .add(Quirk::int_dot_unreliable)
                 .add(Quirk::needs_explicit_subgroup_size)
                 .add(Quirk::uma_budget_overstated);
  return p;
}

constexpr DeviceProfile make_amd() {
  DeviceProfile p;
  p.name = "amd-rdna3";
  p.type = DeviceType::Discrete;
  p.description = "AMD Radeon 780M/890M (RDNA3 iGPU), RADV";
  p.sources =
      "subgroup 64 [r1], size control 32..64 (RDNA2 RADV [r6]); shared memory 64 KiB on RADV [r2][r4] "
      "(32 KiB on AMD's Windows driver); 1024 invocations [r4]; fp16, int dot [r2]; KHR coopmat [r1]; "
      "no bf16 [r2]; clustered subgroup ops on RADV [r7]";
  p.bfloat16 = false;
  p.subgroup_size = 64;
  p.subgroup_min = 32;
  p.subgroup_max = 64;
  p.max_shared_memory = 65536;
  p.max_workgroup_invocations = 1024;
  p.max_memory_allocation = 0xFFFFFFFCull;  // [r7]
  p.quirks = QuirkSet{}.add(Quirk::coopmat_subgroup_multiple);
  return p;
}

constexpr DeviceProfile make_amd_rdna2_win() {
  DeviceProfile p;
  p.name = "amd-rdna2-win";
  p.type = DeviceType::Discrete;
  p.description = "AMD Radeon 680M / RX 6000 (RDNA2), AMD's Windows driver";
  p.sources =
      "shared memory 32 KiB on AMD's Windows driver and AMDVLK [r3][r5]; no cooperative matrix (WMMA is "
      "RDNA3's [wmma]); int dot reported accelerated but wrong (quirk int_dot_unreliable)";
  p.cooperative_matrix = false;
  p.max_shared_memory = 32768;
  p.quirks = QuirkSet{}.add(Quirk::int_dot_unreliable);
  return p;
}

constexpr DeviceProfile make_nvidia() {
  DeviceProfile p;
  p.name = "nvidia-ampere";
  p.type = DeviceType::Discrete;
  p.description = "NVIDIA RTX 30/40 laptop GPU (Ampere/Ada), proprietary driver";
  p.sources = "subgroup 32, shared memory 48 KiB, fp16, int dot, bf16 [n1]";
  p.subgroup_size = 32;
  p.subgroup_min = 32;
  p.subgroup_max = 32;
  p.max_shared_memory = 49152;
  p.quirks = QuirkSet{}.add(Quirk::register_sort_miscompiled);
  return p;
}

constexpr DeviceProfile make_minimal() {
  DeviceProfile p;
  p.name = "minimal";
  p.description = "the weakest conformant Vulkan 1.1 device: every optional feature off, minimum limits";
  p.sources = "Vulkan 1.3 spec required limits [vk]: 16 KiB shared, 128 invocations, 2^27 B storage range, 2^30 B allocation";
  p.fp16_arithmetic = false;
  p.int8_arithmetic = false;
  p.storage_16bit = false;
  p.storage_8bit = false;
  p.integer_dot_product = false;
  p.cooperative_matrix = false;
  p.bfloat16 = false;
  p.subgroup_size_control = false;
  p.subgroup_arithmetic = false;
  p.subgroup_shuffle = false;
  p.subgroup_ballot = false;
  p.type = DeviceType::Integrated;
  p.subgroup_clustered = false;
  p.max_shared_memory = 16384;
  p.max_workgroup_invocations = 128;
  p.max_storage_buffer_range = 128 * kMiB;
  p.max_memory_allocation = 1024 * kMiB;
  return p;
}

constexpr DeviceProfile kProfiles[] = {make_adreno(),     make_adreno_turnip(), make_intel(), make_amd(),
                                       make_amd_rdna2_win(), make_nvidia(),        make_minimal()};

template <class T>
T min_limit(T real, T profile) {
  return profile == 0 ? real : std::min(real, profile);
}

}  // namespace

std::span<const DeviceProfile> device_profiles() { return kProfiles; }

const DeviceProfile* find_device_profile(std::string_view name) {
  for (const DeviceProfile& p : kProfiles)
    if (p.name == name) return &p;
  return nullptr;
}

DeviceCaps apply_device_profile(const DeviceCaps& real, const DeviceProfile& p) {
  DeviceCaps c = real;
  c.profile = std::string(p.name);
  if (p.type != DeviceType::Other) c.type = p.type;
  c.fp16_arithmetic &= p.fp16_arithmetic;
  c.int8_arithmetic &= p.int8_arithmetic;
  c.storage_16bit &= p.storage_16bit;
  c.storage_8bit &= p.storage_8bit;
  c.integer_dot_product &= p.integer_dot_product;
  c.integer_dot_4x8_accelerated &= p.integer_dot_product;
  c.cooperative_matrix &= p.cooperative_matrix;
  if (!c.cooperative_matrix) c.coopmat_shapes.clear();
  c.bfloat16 &= p.bfloat16;
  c.subgroup_size_control &= p.subgroup_size_control;
  c.compute_full_subgroups &= p.subgroup_size_control;
  c.subgroup_arithmetic &= p.subgroup_arithmetic;
  c.subgroup_shuffle &= p.subgroup_shuffle;
  c.subgroup_ballot &= p.subgroup_ballot;
  c.subgroup_clustered &= p.subgroup_clustered;
  if (p.subgroup_size != 0) {
    c.subgroup_size = p.subgroup_size;
    c.subgroup_min = p.subgroup_min ? p.subgroup_min : p.subgroup_size;
    c.subgroup_max = p.subgroup_max ? p.subgroup_max : p.subgroup_size;
  }
  c.max_shared_memory = min_limit(c.max_shared_memory, p.max_shared_memory);
  c.max_workgroup_invocations = min_limit(c.max_workgroup_invocations, p.max_workgroup_invocations);
  if (c.max_workgroup_invocations != 0)
    for (std::uint32_t& s : c.max_workgroup_size) s = std::min(s, c.max_workgroup_invocations);
  c.max_storage_buffer_range = min_limit(c.max_storage_buffer_range, p.max_storage_buffer_range);
  c.max_memory_allocation = min_limit(c.max_memory_allocation, p.max_memory_allocation);
  c.quirks |= p.quirks;
  return c;
}

}  // namespace tessera
