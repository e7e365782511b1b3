// The kernel plan: which variant and workgroup shape each kernel family uses on a device,
// picked once from DeviceCaps (features, limits and driver quirks) by a pure function, unit-tested
// per device profile without a GPU.
//
// Policies that hold on every device, whatever it reports: kernels accumulate in f32 (fp16
// accumulators overflow: llama.cpp#13607, #21506, #15619), are correct for any subgroup size
// (lavapipe's 8 included: llama.cpp#10809), and never gate on an exact limit value (AMD's Windows
// driver moved its shared memory from 64 to 32 KiB: llama.cpp#26163).
#pragma once
#include <cstdint>

#include "engine/caps.h"

namespace tessera {

// Matmul kernel variants (engine/ops/matmul.h).
enum class MatmulKernel : std::uint8_t {
  automatic,     // the plan's choice for the shape
  matvec,        // matvec.comp, T >= 8 invocations share each weight row (GPUs)
  matvec_lanes,  // matvec.comp, one weight row per invocation (CPU drivers: lanes are SIMD)
  tiled,         // matmul_tiled.comp, shared-memory tiles of activations x weights (prefill)
  simple,        // matmul.comp, one workgroup per weight row (any k: the fallback)
  matvec_int_dot,  // matvec.comp on Q8_1 activations with packed 8-bit integer dot products
                   // (ops::matmul_q8_1; the layout of the plan's matvec)
};
const char* matmul_kernel_name(MatmulKernel k);

struct KernelPlan {
  std::uint32_t elementwise_workgroup = 256;  // threads per workgroup of 1-D elementwise kernels
  std::uint32_t max_groups_x = 65535;         // largest grid width used (grid-stride loops beyond)
  std::uint32_t reduce_workgroup = 256;       // threads per row of row reductions (power of two)
  bool subgroup_reduce = true;                // subgroupAdd reduction, else a shared-memory tree
  std::uint32_t matvec_max_rows = 16;         // matmuls with at most this many activation rows use matvec
  MatmulKernel matvec = MatmulKernel::matvec;  // the mat-vec layout (matvec or matvec_lanes)
  MatmulKernel prefill = MatmulKernel::tiled;  // the kernel for more than matvec_max_rows rows

  // Choices driven by driver quirks (engine/quirks.h) as well as features and limits.
  bool integer_dot = false;                  // int-dot kernels on Q8_1 activations may be used
  bool large_tiles = true;                   // large matmul / attention tiles may be used
  std::uint32_t shared_memory_budget = 0;    // bytes of shared memory one kernel's tiles may use
  bool quantized_v_cache_hd256 = true;       // a quantized V cache may serve head dim 256
  bool attention_large = true;               // flash_attn tiles of 128 keys x 16 rows (25 KiB shared),
                                             // else flash_attn_small: 64 x 8 (11 KiB)
  bool attention_lanes = false;              // flash_attn's LANES variants (CPU drivers: broadcasts
                                             // instead of same-address loads)
  std::uint32_t required_subgroup_size = 0;  // forced on every pipeline; 0 = the driver's choice
  std::uint32_t coopmat_workgroup_multiple = 1;  // cooperative-matrix workgroup X is a multiple of this
  bool topk_shared_sort = false;             // GPU top-k sorts through shared memory
};

KernelPlan plan_kernels(const DeviceCaps& caps);

// Whether the matvec_lanes kernel can run: it broadcasts activations across subgroups of 8 or more.
bool matvec_lanes_supported(const DeviceCaps& caps);

}  // namespace tessera
