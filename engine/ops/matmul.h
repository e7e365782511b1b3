// Matrix multiplication against a (possibly quantized) weight, dequantized inside the kernel
// (never a dequantized copy): every linear layer and the output head. The kernel variant comes
// from the device's plan (engine/plan.h); tests and benchmarks may force one.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "engine/buffer.h"
#include "engine/commands.h"
#include "engine/context.h"
#include "engine/dtype.h"
#include "engine/ops/get_rows.h"  // for TableChunk
#include "engine/plan.h"

namespace tessera::ops {

// y[t, r] = sum_i x[t, i] * W[r, i]  for t < m, r < n   (i.e. y = x · Wᵀ, like nn.Linear)
// W: n rows of k elements of `type` (GGUF ne = [k, n]), given as row chunks (TableChunk: rows
//    [row_begin, row_begin+row_count) bound at chunk.range; chunks together cover rows 0..n-1,
//    each chunk's buffer is padded to 4 bytes as get_rows expects).
// x: [m, k] f32 contiguous; y: [m, n] f32 contiguous (row stride n). Types: all 10 DType values
// (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q8_0, Q4_K, Q5_K, Q6_K); k must be a multiple of the block.
// variant: automatic (the plan's choice for m), or a forced kernel; the matvec and tiled variants
// need k % 32 == 0 (every quantized type has it) and tile m as needed.
// Throws tessera::Error "[matmul] ..." on bad shapes, chunks or ranges.
void matmul(Context& ctx, CommandList& cmd, DType type, std::span<const TableChunk> w, const BufferRange& x,
            const BufferRange& y, std::uint32_t m, std::uint32_t k, std::uint32_t n,
            MatmulKernel variant = MatmulKernel::automatic);

// The Gemma FFN's gate and up projections with their activation:
//   y[t, r] = gelu_tanh(x[t] · gate[r]) * (x[t] · up[r])      (y: [m, n] f32)
// One pass over x reading both weights (the matvec kernels) when the two have the same type and
// row chunks (geglu_fusable); otherwise two matmuls, up into `up_scratch` ([m, n] f32), and the
// geglu kernel. Same shapes, checks and variants as matmul.
void matmul_geglu(Context& ctx, CommandList& cmd, DType gate_type, std::span<const TableChunk> gate, DType up_type,
                  std::span<const TableChunk> up, const BufferRange& x, const BufferRange& y,
                  const BufferRange& up_scratch, std::uint32_t m, std::uint32_t k, std::uint32_t n,
                  MatmulKernel variant = MatmulKernel::automatic);
bool geglu_fusable(DType gate_type, std::span<const TableChunk> gate, DType up_type, std::span<const TableChunk> up);

// Integer-dot path: activations quantized once to Q8_1 (per 32 elements: 8 words of int8 q,
// f32 d = max|x| / 127, f32 s = d * sum(q); 40 bytes), then y = x · Wᵀ with packed 4 x 8-bit
// dot products against the weight's integers (matvec_int_dot, the plan's matvec layout).
// Needs DeviceCaps::integer_dot_product, a quantized weight type and k % 32 == 0; m any (tiles
// of up to 16 rows). Throws "[matmul] ..." naming what is missing.
std::uint64_t q8_1_bytes(std::uint32_t m, std::uint32_t k);
void quantize_q8_1(Context& ctx, CommandList& cmd, const BufferRange& x, const BufferRange& xq, std::uint32_t m,
                   std::uint32_t k);
void matmul_q8_1(Context& ctx, CommandList& cmd, DType type, std::span<const TableChunk> w, const BufferRange& xq,
                 const BufferRange& y, std::uint32_t m, std::uint32_t k, std::uint32_t n);
bool matmul_q8_1_supported(const DeviceCaps& caps, DType type);

// The variant matmul() runs for these sizes on ctx's plan (automatic resolved).
MatmulKernel matmul_kernel_for(const KernelPlan& plan, std::uint32_t m, std::uint32_t k);

// The variants matmul() can be forced to on ctx's device for inputs k wide (tests, benchmarks;
// matvec_int_dot is matmul_q8_1's, not listed).
std::vector<MatmulKernel> matmul_kernels(const Context& ctx, std::uint32_t k);

}  // namespace tessera::ops
