// Elementwise kernels on f32 activations: residual add, broadcast multiply, scalar scale.
#pragma once
#include <cstdint>

#include "engine/buffer.h"
#include "engine/commands.h"
#include "engine/context.h"

namespace tessera::ops {

// out[i] = a[i] + b[i % b_n]; a, out: [n] f32; b: [b_n] f32 (b_n = 0 means n; n % b_n == 0).
void add(Context& ctx, CommandList& cmd, const BufferRange& a, const BufferRange& b, const BufferRange& out,
         std::uint32_t n, std::uint32_t b_n = 0);

// out[i] = a[i] * b[i % b_n]; shapes as add().
void mul(Context& ctx, CommandList& cmd, const BufferRange& a, const BufferRange& b, const BufferRange& out,
         std::uint32_t n, std::uint32_t b_n = 0);

// out[i] = x[i] * s; x, out: [n] f32 (may alias).
void scale(Context& ctx, CommandList& cmd, const BufferRange& x, const BufferRange& out, std::uint32_t n, float s);

}  // namespace tessera::ops
