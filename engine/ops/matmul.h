// Matrix multiplication against a (possibly quantized) weight, dequantized inside the kernel
// (never a dequantized copy): every linear layer and the output head. The kernel variant comes
// from the device's plan (engine/plan.h); tests and benchmarks may force one.
#pragma once
#include <cstdint>
#include <span>

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

// The variant matmul() runs for these sizes on ctx's plan (automatic resolved).
MatmulKernel matmul_kernel_for(const KernelPlan& plan, std::uint32_t m, std::uint32_t k);

}  // namespace tessera::ops
