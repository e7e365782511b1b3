// RMSNorm over the rows of an f32 matrix, with or without a weight (Gemma 4: weight used as is,
// no 1 + w). Also QK-norm per head (rows = tokens * heads, n = head_dim) and the weight-less V-norm.
#pragma once
#include <cstdint>
#include <optional>

#include "engine/buffer.h"
#include "engine/commands.h"
#include "engine/context.h"

namespace tessera::ops {

// y[r, :] = x[r, :] * rsqrt(mean(x[r, :]^2) + eps) * w[:]
// x, y: [rows, n] f32 (may alias); w: [n] f32 or nullopt for no weight.
void rms_norm(Context& ctx, CommandList& cmd, const BufferRange& x, const std::optional<BufferRange>& w,
              const BufferRange& y, std::uint32_t rows, std::uint32_t n, float eps);

}  // namespace tessera::ops
