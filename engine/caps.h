// DeviceCaps: what a Vulkan device can do, captured once at start-up into a plain struct.
// Kernel planning reads only this struct (never vendor ids), so device profiles can mask it
// and hand-made snapshots can be tested without a GPU.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tessera {

enum class Vendor : std::uint32_t {
  Unknown = 0,
  AMD = 0x1002,
  Apple = 0x106b,
  ARM = 0x13b5,
  Intel = 0x8086,
  NVIDIA = 0x10de,
  Qualcomm = 0x5143,
  Mesa = 0x10005,  // VK_VENDOR_ID_MESA: lavapipe
};

enum class DeviceType : std::uint32_t { Other = 0, Integrated = 1, Discrete = 2, Virtual = 3, Cpu = 4 };

struct MemoryHeap {
  std::uint64_t size = 0;         // bytes
  std::uint64_t budget = 0;       // bytes, VK_EXT_memory_budget; 0 when unknown
  bool device_local = false;
};

// Cooperative-matrix shape supported by the device (VK_KHR_cooperative_matrix), M x N x K.
struct CoopMatShape {
  std::uint32_t m = 0, n = 0, k = 0;
  std::string a_type, c_type;  // "f16", "f32", "s8", "s32", "bf16"
};

// Known driver bugs that change which kernel variant is safe to run. Each is listed with the devices
// it hits, its workaround and the public report in engine/quirks.cpp; detect_quirks() sets them
// from the driver at start-up, and a device profile adds those of the driver it models.
enum class Quirk : std::uint32_t {
  int_dot_unreliable,            // integer dot product advertised, but int-dot mat-vec results are wrong
  large_pipelines_fail,          // the shader compiler fails on large matmul / attention pipelines
  shared_memory_overstated,      // big shared-memory tiles fail below the reported limit
  unpack8_miscompiled,           // unpack8() of 8-bit vectors corrupts results
  quantized_v_cache_hd256,       // flash attention with a quantized V cache at head dim 256 is garbled
  needs_explicit_subgroup_size,  // subgroup kernels need a required subgroup size and full subgroups
  uma_budget_overstated,         // allocations near the reported UMA budget fail
  coopmat_subgroup_multiple,     // cooperative-matrix workgroups must be a multiple of the subgroup size
  register_sort_miscompiled,     // a large sort without shared memory intermittently miscompiles
  count
};

// A set of quirks (one bit each).
struct QuirkSet {
  std::uint32_t bits = 0;
  constexpr bool has(Quirk q) const { return (bits >> static_cast<std::uint32_t>(q)) & 1u; }
  constexpr QuirkSet& add(Quirk q) {
    bits |= 1u << static_cast<std::uint32_t>(q);
    return *this;
  }
  constexpr QuirkSet& operator|=(QuirkSet o) {
    bits |= o.bits;
    return *this;
  }
  constexpr bool empty() const { return bits == 0; }
  bool operator==(const QuirkSet&) const = default;
};
static_assert(static_cast<std::uint32_t>(Quirk::count) <= 32);

struct DeviceCaps {
  // Identity
  std::string name;              // "llvmpipe (LLVM 15.0.6, 256 bits)"
  std::string driver_name;       // VkPhysicalDeviceDriverProperties::driverName, e.g. "llvmpipe"
  std::string driver_info;       // driverInfo, e.g. "Mesa 25.0.7"
  Vendor vendor = Vendor::Unknown;
  std::uint32_t vendor_id = 0;
  std::uint32_t device_id = 0;
  std::uint32_t driver_id = 0;        // VkDriverId
  std::uint32_t driver_version = 0;
  std::uint32_t api_version = 0;
  DeviceType type = DeviceType::Other;
  std::string profile;           // device profile forced onto these caps; empty = the real device
  std::uint8_t pipeline_cache_uuid[16] = {};

  // Subgroups
  std::uint32_t subgroup_size = 0;      // default size in compute
  std::uint32_t subgroup_min = 0;       // with subgroupSizeControl
  std::uint32_t subgroup_max = 0;
  bool subgroup_size_control = false;   // VK_EXT_subgroup_size_control / 1.3
  bool compute_full_subgroups = false;
  std::uint32_t max_compute_workgroup_subgroups = 0;  // maxComputeWorkgroupSubgroups; 0 when unknown
  bool subgroup_arithmetic = false;     // subgroupAdd etc. in compute
  bool subgroup_shuffle = false;
  bool subgroup_ballot = false;         // subgroupBroadcast etc. in compute
  bool subgroup_clustered = false;

  // Arithmetic and storage
  bool fp16_arithmetic = false;     // shaderFloat16
  bool int8_arithmetic = false;     // shaderInt8
  bool int16_arithmetic = false;    // shaderInt16
  bool int64_arithmetic = false;    // shaderInt64
  bool storage_16bit = false;       // storageBuffer16BitAccess
  bool storage_8bit = false;        // storageBuffer8BitAccess
  bool integer_dot_product = false; // VK_KHR_shader_integer_dot_product present
  bool integer_dot_4x8_accelerated = false;  // integerDotProduct4x8BitPackedSignedAccelerated
  bool cooperative_matrix = false;  // VK_KHR_cooperative_matrix
  std::vector<CoopMatShape> coopmat_shapes;
  bool bfloat16 = false;            // VK_KHR_shader_bfloat16

  // Limits
  std::uint32_t max_shared_memory = 0;          // maxComputeSharedMemorySize, bytes
  std::uint32_t max_workgroup_invocations = 0;  // maxComputeWorkGroupInvocations
  std::uint32_t max_workgroup_size[3] = {};     // maxComputeWorkGroupSize
  std::uint32_t max_workgroup_count[3] = {};    // maxComputeWorkGroupCount
  std::uint32_t max_push_constants = 0;         // bytes
  std::uint64_t max_storage_buffer_range = 0;   // bytes a single binding may cover
  std::uint64_t max_memory_allocation = 0;      // maxMemoryAllocationSize, bytes
  std::uint64_t max_buffer_size = 0;            // maxBufferSize (1.3), bytes; 0 when unknown
  std::uint64_t min_storage_buffer_offset_alignment = 0;
  std::uint64_t non_coherent_atom_size = 0;

  // Memory
  std::vector<MemoryHeap> heaps;
  bool memory_budget = false;       // VK_EXT_memory_budget
  bool unified_memory = false;      // a device-local heap is also host-visible (UMA)

  // Timing
  bool timestamps = false;          // timestampComputeAndGraphics and valid bits on the queue
  float timestamp_period_ns = 0;    // ns per timestamp tick
  std::uint32_t timestamp_valid_bits = 0;

  // Driver bugs to work around (detect_quirks at capture, plus the forced profile's).
  QuirkSet quirks;

  // Extensions the engine may enable (filled when present).
  bool push_descriptor = false;     // VK_KHR_push_descriptor
};

}  // namespace tessera
