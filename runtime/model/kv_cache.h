// The KV cache of one sequence: per layer a K and V buffer of [cells, n_kv_heads * head_dim], f16
// or Q8_0 (ops::KvType; a Q8_0 request keeps f16 on head-dim-256 layers of a device with the
// quantized_v_cache_hd256 quirk).
// Global layers hold the whole context; sliding layers a ring of window + ubatch cells (rounded
// to 256), as planned by plan_kv_cache (the same numbers `tessera info --ctx N` reports).
// Positions are consecutive from 0; position p lives in cell p % cells.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/buffer.h"
#include "engine/context.h"
#include "engine/ops/attention.h"
#include "runtime/model/hparams.h"
#include "runtime/model/memory_plan.h"

namespace tessera {

class KvCache {
 public:
  struct Layer {
    Buffer k;                 // [chunk_cells, width] of type
    Buffer v;                 // [chunk_cells, width] of type
    Buffer k1, v1;            // rows chunk_cells.. when one binding cannot hold the layer's cache
    std::uint32_t chunk_cells = 0;  // rows in k / v (= cells unless chunked)
    ops::KvType type = ops::KvType::f16;
    std::uint32_t head_dim = 0, n_kv_heads = 0;
    std::uint32_t cells = 0;  // rows (ring size on sliding layers)
    std::uint32_t width = 0;  // n_kv_heads * head_dim
    std::uint32_t window = 0; // sliding window, 0 on global layers

    // The attention of m query rows at positions pos0.. over this layer (Gemma 4: scale 1.0).
    ops::AttentionShape attention_shape(std::uint32_t n_head, std::uint32_t m, std::uint32_t pos0) const {
      return {head_dim, n_head, n_kv_heads, m, pos0, cells, window, 1.0f, type, chunk_cells};
    }
    // Binds the second chunk of a chunked cache into attention options.
    void bind_chunks(ops::AttentionOptions& o) const {
      if (chunk_cells < cells) o.k_chunk1 = k1.range(), o.v_chunk1 = v1.range();
    }
  };

  // max_binding: bytes one binding may hold (0: the device's maxStorageBufferRange; tests force
  // chunked caches with less).
  static KvCache create(Context& ctx, const Gemma4HParams& hp, std::uint32_t n_ctx, std::uint32_t n_ubatch,
                        ops::KvType type = ops::KvType::f16, std::uint64_t max_binding = 0);

  // Records the writes of m new K and V rows [m, width] f32 at positions pos0.. into layer il.
  void record_store(Context& ctx, CommandList& cmd, std::uint32_t il, const BufferRange& k_rows,
                    const BufferRange& v_rows, std::uint32_t m, std::uint32_t pos0) const;

  const Layer& layer(std::uint32_t il) const { return layers_.at(il); }
  const KvCachePlan& plan() const { return plan_; }
  std::uint32_t n_ctx() const { return n_ctx_; }
  std::uint32_t n_ubatch() const { return n_ubatch_; }
  std::uint32_t n_past() const { return n_past_; }  // positions filled: the next token goes at n_past

  // Checks that `n` more tokens fit the context (throws naming the limit), then, after the
  // forward wrote them, advance() moves n_past.
  void check_append(std::uint64_t n) const;
  void advance(std::uint32_t n);
  // Forgets positions >= n_past (speculative decoding's rejected drafts). Throws when a sliding
  // ring has already overwritten keys the next token would need (see max_rollback()).
  void rollback(std::uint32_t n_past);
  // How many positions back rollback() can go from the newest written one.
  std::uint32_t max_rollback() const;
  void reset() { n_past_ = written_ = 0; }

 private:
  std::vector<Layer> layers_;
  KvCachePlan plan_;
  std::uint32_t n_ctx_ = 0, n_ubatch_ = 0, min_ring_slack_ = 0;
  std::uint32_t n_past_ = 0;
  std::uint32_t written_ = 0;  // newest position written + 1 since reset (>= n_past)
};

}  // namespace tessera
