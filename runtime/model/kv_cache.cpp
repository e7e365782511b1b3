#include "runtime/model/kv_cache.h"

#include <algorithm>
#include <limits>

#include "engine/error.h"

namespace tessera {

KvCache KvCache::create(Context& ctx, const Gemma4HParams& hp, std::uint32_t n_ctx, std::uint32_t n_ubatch,
                        ops::KvType type, std::uint64_t max_binding) {
  const std::uint64_t range = ctx.caps().max_storage_buffer_range;
  if (max_binding == 0 || max_binding > range) max_binding = range;
  if (n_ctx == 0 || n_ubatch == 0) throw Error("[kv_cache] context and ubatch must be positive");
  if (n_ctx > hp.n_ctx_train)
    throw Error("[kv_cache] context " + std::to_string(n_ctx) + " exceeds the model's trained context " +
                std::to_string(hp.n_ctx_train));
  MemoryPlanOptions opt;
  opt.ctx_len = n_ctx;
  opt.n_ubatch = n_ubatch;
  opt.kv_type = ops::kv_dtype(type);
  KvCache c;
  c.plan_ = plan_kv_cache(hp, opt);
  c.n_ctx_ = n_ctx;
  c.n_ubatch_ = n_ubatch;
  c.min_ring_slack_ = std::numeric_limits<std::uint32_t>::max();
  for (std::uint32_t il = 0; il < hp.n_layer; ++il) {
    const LayerHParams l = hp.layer(il);
    Layer& cl = c.layers_.emplace_back();
    cl.width = l.n_kv_heads * l.head_dim;
    cl.head_dim = l.head_dim;
    cl.n_kv_heads = l.n_kv_heads;
    cl.type = type;
    if (type == ops::KvType::q8_0 && l.head_dim == 256 && !ctx.plan().quantized_v_cache_hd256)
      cl.type = ops::KvType::f16;  // garbled on this driver (quirk quantized_v_cache_hd256)
    cl.window = l.is_sliding ? hp.sliding_window : 0;
    cl.cells = l.is_sliding ? c.plan_.sliding_cells : c.plan_.global_cells;
    if (cl.window != 0 && cl.cells < n_ctx) {
      if (cl.cells < cl.window + n_ubatch - 1)
        throw Error("[kv_cache] ring of " + std::to_string(cl.cells) + " cells cannot hold window " +
                    std::to_string(cl.window) + " + ubatch " + std::to_string(n_ubatch));
      c.min_ring_slack_ = std::min(c.min_ring_slack_, cl.cells - cl.window + 1);
    }
    // Attention binds a layer's cache whole, or in two chunks when one binding cannot hold it.
    cl.chunk_cells = ops::kv_chunk_cells(cl.type, cl.cells, cl.width, max_binding);
    if (cl.chunk_cells == 0)
      throw Error("[kv_cache] layer " + std::to_string(il) + ": a " + ops::kv_type_name(cl.type) + " cache of " +
                  std::to_string(cl.cells) + " cells is " +
                  std::to_string(ops::kv_cache_bytes(cl.type, cl.cells, cl.width)) + " bytes, more than two " +
                  "storage bindings of " + ctx.caps().name + " hold (" + std::to_string(max_binding) +
                  " bytes each); use a shorter context or --kv-type q8_0");
    const std::uint64_t bytes = ops::kv_cache_bytes(cl.type, cl.chunk_cells, cl.width);
    const std::string name = "kv." + std::to_string(il);
    cl.k = Buffer::create(ctx.device(), bytes, MemoryKind::Device, name + ".k");
    cl.v = Buffer::create(ctx.device(), bytes, MemoryKind::Device, name + ".v");
    if (cl.chunk_cells < cl.cells) {
      cl.k1 = Buffer::create(ctx.device(), bytes, MemoryKind::Device, name + ".k1");
      cl.v1 = Buffer::create(ctx.device(), bytes, MemoryKind::Device, name + ".v1");
    }
  }
  return c;
}

void KvCache::record_store(Context& ctx, CommandList& cmd, std::uint32_t il, const BufferRange& k_rows,
                           const BufferRange& v_rows, std::uint32_t m, std::uint32_t pos0) const {
  const Layer& l = layers_.at(il);
  if (l.chunk_cells >= l.cells) {
    ops::kv_store(ctx, cmd, k_rows, l.k.range(), m, l.width, pos0, l.cells, l.type);
    ops::kv_store(ctx, cmd, v_rows, l.v.range(), m, l.width, pos0, l.cells, l.type);
    return;
  }
  // Runs of consecutive rows within one chunk (no wrap inside a run), each a plain store.
  const std::uint64_t row = 4ull * l.width;
  for (std::uint32_t t = 0; t < m;) {
    const std::uint32_t cell = (pos0 + t) % l.cells;
    const bool second = cell >= l.chunk_cells;
    const std::uint32_t local = second ? cell - l.chunk_cells : cell;
    const std::uint32_t chunk_end = second ? l.cells - l.chunk_cells : l.chunk_cells;
    const std::uint32_t n = std::min(m - t, chunk_end - local);
    const BufferRange ks{k_rows.buffer, k_rows.offset + t * row, n * row}, vs{v_rows.buffer, v_rows.offset + t * row, n * row};
    ops::kv_store(ctx, cmd, ks, (second ? l.k1 : l.k).range(), n, l.width, local, l.chunk_cells, l.type);
    ops::kv_store(ctx, cmd, vs, (second ? l.v1 : l.v).range(), n, l.width, local, l.chunk_cells, l.type);
    t += n;
  }
}

void KvCache::check_append(std::uint64_t n) const {
  if (n_past_ + n > n_ctx_)
    throw Error("[kv_cache] " + std::to_string(n) + " more tokens after " + std::to_string(n_past_) +
                " exceed the context of " + std::to_string(n_ctx_) + " tokens (raise --ctx, up to the model's " +
                "trained context)");
}

void KvCache::advance(std::uint32_t n) {
  check_append(n);
  n_past_ += n;
  written_ = std::max(written_, n_past_);
}

std::uint32_t KvCache::max_rollback() const { return min_ring_slack_; }

void KvCache::rollback(std::uint32_t n_past) {
  if (n_past > n_past_)
    throw Error("[kv_cache] cannot roll forward: rollback to " + std::to_string(n_past) + " but only " +
                std::to_string(n_past_) + " positions are filled");
  // The next query at n_past needs keys down to n_past - window + 1; the ring still holds
  // positions written_ - cells .. written_ - 1.
  if (written_ - n_past > max_rollback())
    throw Error("[kv_cache] rollback from " + std::to_string(written_) + " to " + std::to_string(n_past) +
                " goes past what the sliding-window ring keeps (" + std::to_string(max_rollback()) + " positions)");
  n_past_ = n_past;
}

}  // namespace tessera
