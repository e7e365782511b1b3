// GeGLU activation of the Gemma FFN: gelu_tanh(gate) * up, fp32.
#pragma once
#include <cstdint>

#include "engine/buffer.h"
#include "engine/commands.h"
#include "engine/context.h"

namespace tessera::ops {

// out[r, i] = gelu_tanh(gate[r, i]) * up[r, i] for r < rows, i < n.
// gate: [rows, gate_stride], up: [rows, up_stride], out: [rows, out_stride] f32; a stride of 0
// means n (contiguous); up starts `up_offset` elements into its range (binding offsets must be
// aligned, element offsets need not be).
void geglu(Context& ctx, CommandList& cmd, const BufferRange& gate, const BufferRange& up, const BufferRange& out,
           std::uint32_t rows, std::uint32_t n, std::uint32_t gate_stride = 0, std::uint32_t up_stride = 0,
           std::uint32_t out_stride = 0, std::uint32_t up_offset = 0);

// The fused gate+up projection layout: fused[r] = [gate_r (n) | up_r (n)] -> out: [rows, n].
void geglu_fused(Context& ctx, CommandList& cmd, const BufferRange& fused, const BufferRange& out, std::uint32_t rows,
                 std::uint32_t n);

}  // namespace tessera::ops
