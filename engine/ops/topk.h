// Top-k of one row of values on the GPU: the k largest (ties to the lower index, NaN as -inf),
// sorted, as (value, index) pairs, so sampling reads k logits instead of the vocabulary.
#pragma once
#include <cstdint>

#include "engine/buffer.h"
#include "engine/commands.h"
#include "engine/context.h"

namespace tessera::ops {

inline constexpr std::uint32_t kTopkMax = 512;  // largest k (half of a pass's 1024-candidate segment)

// One output entry as written: the value's f32 bits, then its index.
struct TopkEntry {
  std::uint32_t value_bits;
  std::uint32_t index;
};

// Bytes of each of the two scratch ranges topk() needs for n values and k.
std::uint64_t topk_scratch_bytes(std::uint32_t n, std::uint32_t k);

// out[0..k): the k largest of values[0..n) in order (value descending, then index ascending);
// when n < k the entries past n are (-inf, 0xffffffff). values: [n] f32; scratch_a/b:
// topk_scratch_bytes(n, k) each; out: k TopkEntry. 1 <= k <= kTopkMax.
// Throws tessera::Error "[topk] ..." on bad sizes.
void topk(Context& ctx, CommandList& cmd, const BufferRange& values, std::uint32_t n, std::uint32_t k,
          const BufferRange& scratch_a, const BufferRange& scratch_b, const BufferRange& out);

}  // namespace tessera::ops
