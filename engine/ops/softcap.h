// Logit soft-cap: y = cap * tanh(x / cap) (Gemma 4: cap 30 on the final logits).
#pragma once
#include <cstdint>

#include "engine/buffer.h"
#include "engine/commands.h"
#include "engine/context.h"

namespace tessera::ops {

// x, y: [n] f32 (may be the same range).
void softcap(Context& ctx, CommandList& cmd, const BufferRange& x, const BufferRange& y, std::uint32_t n, float cap);

}  // namespace tessera::ops
