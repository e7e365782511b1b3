// Gemma 4 QK-norm + RoPE in one pass over q or k heads (docs/gemma4-spec.md §2.2 steps 3-4, 7).
#pragma once
#include <cstdint>
#include <optional>

#include "engine/buffer.h"
#include "engine/commands.h"
#include "engine/context.h"

namespace tessera::ops {

// In place on x: [tokens, n_head, head_dim] f32. Each head row is RMS-normalised (eps), times w
// ([head_dim] f32, or nullopt for none), then NeoX-rotated: for j < n_rot, the pair
// (j, j + head_dim/2) of token t turns by the angle whose (cos, sin) is cs[t, j]
// (cs: [tokens, n_rot, 2] f32). n_rot = 0 only normalises.
void head_norm_rope(Context& ctx, CommandList& cmd, const BufferRange& x, const std::optional<BufferRange>& w,
                    const BufferRange& cs, std::uint32_t tokens, std::uint32_t n_head, std::uint32_t head_dim,
                    std::uint32_t n_rot, float eps);

}  // namespace tessera::ops
