// KV-cache kernels of the simple attention path: appending rows to a (ring) cache and exact
// attention over it. The flash-attention issue replaces attention() with tiled/split kernels.
#pragma once
#include <cstdint>

#include "engine/buffer.h"
#include "engine/commands.h"
#include "engine/context.h"

namespace tessera::ops {

// cache[(pos0 + t) % cells, :] = f16(src[t, :]) for t < m.
// src: [m, width] f32; cache: [cells, width] f16; width even; m <= cells.
void kv_store(Context& ctx, CommandList& cmd, const BufferRange& src, const BufferRange& cache, std::uint32_t m,
              std::uint32_t width, std::uint32_t pos0, std::uint32_t cells);

struct AttentionShape {
  std::uint32_t head_dim = 0;   // K and V width per head
  std::uint32_t n_head = 0;     // query heads
  std::uint32_t n_kv_head = 0;  // KV heads; n_head % n_kv_head == 0
  std::uint32_t m = 0;          // query rows, at positions pos0 .. pos0 + m - 1
  std::uint32_t pos0 = 0;
  std::uint32_t cells = 0;      // cache rows: position p lives at row p % cells
  std::uint32_t window = 0;     // sliding window (query sees itself + window-1 before); 0 = none
  float scale = 1.0f;           // score scale (Gemma 4: 1.0)
};

// o[t, h, :] = sum_k softmax(scale * q[t, h, :] . K[k]) V[k] over the positions the causal (and
// window) mask lets query t see; all of them must be in the cache: pos0 + m - 1 - lo < cells.
// q, o: [m, n_head, head_dim] f32; k_cache, v_cache: [cells, n_kv_head, head_dim] f16.
void attention(Context& ctx, CommandList& cmd, const AttentionShape& s, const BufferRange& q,
               const BufferRange& k_cache, const BufferRange& v_cache, const BufferRange& o);

}  // namespace tessera::ops
