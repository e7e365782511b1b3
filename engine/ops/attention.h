// The KV cache kernels: appending rows to a (ring) cache as f16 or Q8_0, and flash attention over
// it (tiled online softmax; split-K across the keys for decode), with optional capture of the
// attention maps of chosen heads.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

#include "engine/buffer.h"
#include "engine/commands.h"
#include "engine/context.h"
#include "engine/dtype.h"

namespace tessera::ops {

// How the cache stores K and V rows. q8_0: per 32 values an f32 scale and 32 int8 quants (Q8_0's
// rounding), laid out as all int8 quants [cells, width] then all scales [cells, width / 32].
enum class KvType : std::uint8_t { f16, q8_0 };
const char* kv_type_name(KvType t);
std::optional<KvType> parse_kv_type(std::string_view s);  // "f16", "q8_0" (any case)
// The GGUF type the memory plan counts a cache of this type as (its bytes: kv_cache_bytes).
inline DType kv_dtype(KvType t) { return t == KvType::q8_0 ? DType::Q8_0 : DType::F16; }
// Bytes of one K or V cache of `cells` rows of `width` values.
std::uint64_t kv_cache_bytes(KvType t, std::uint32_t cells, std::uint32_t width);

// cache[(pos0 + t) % cells, :] = src[t, :] for t < m, converted to `type`.
// src: [m, width] f32; width even (f16) or a multiple of 32 (q8_0); m <= cells.
void kv_store(Context& ctx, CommandList& cmd, const BufferRange& src, const BufferRange& cache, std::uint32_t m,
              std::uint32_t width, std::uint32_t pos0, std::uint32_t cells, KvType type = KvType::f16);

struct AttentionShape {
  std::uint32_t head_dim = 0;   // K and V width per head: multiple of 4 (of 32 for q8_0), <= 512
  std::uint32_t n_head = 0;     // query heads
  std::uint32_t n_kv_head = 0;  // KV heads; n_head % n_kv_head == 0
  std::uint32_t m = 0;          // query rows, at positions pos0 .. pos0 + m - 1
  std::uint32_t pos0 = 0;
  std::uint32_t cells = 0;      // cache rows: position p lives at row p % cells
  std::uint32_t window = 0;     // sliding window (query sees itself + window-1 before); 0 = none
  float scale = 1.0f;           // score scale (Gemma 4: 1.0)
  KvType kv_type = KvType::f16;
  // Cache rows in the first K/V buffer; 0 = all of them. When smaller, rows chunk_cells.. are in a
  // second buffer (AttentionOptions::k_chunk1 / v_chunk1); each chunk is laid out as a cache of
  // chunk_cells rows. For caches larger than one storage binding: kv_chunk_cells().
  std::uint32_t chunk_cells = 0;
};

// Rows per chunk of a cache of `cells` rows when one binding holds at most max_binding bytes:
// cells when it fits one, else half of them rounded up (two chunks); 0 when two do not suffice.
std::uint32_t kv_chunk_cells(KvType t, std::uint32_t cells, std::uint32_t width, std::uint64_t max_binding);

// The positions [lo, hi] some row of the batch may see: lo of the first row to the last row
// (limits never go past the batch). Capture columns are these positions.
struct KeyRange {
  std::uint32_t lo = 0, hi = 0;
  std::uint32_t count() const { return hi - lo + 1; }
};
KeyRange attention_key_range(const AttentionShape& s);

struct AttentionCapture {
  std::uint32_t heads = 0;  // bit h set: capture head h (n_head <= 32)
  BufferRange scores;       // [m, popcount(heads), key range count] f32, written by attention()
};

struct AttentionOptions {
  // [m] u32: row t sees keys up to limits[t] instead of its own position: the bidirectional image
  // blocks of the sliding layers (pos0 + t <= limits[t] <= pos0 + m - 1), or the MTP drafter's
  // query at P that sees the target's keys up to P - 1 only (limits[t] = pos0 + t - 1).
  std::optional<BufferRange> limits;
  std::optional<BufferRange> k_chunk1, v_chunk1;  // K / V rows chunk_cells.. (shape.chunk_cells < cells)
  std::uint32_t n_split = 0;  // key slices; 0 = attention_splits()
  BufferRange scratch;        // split-K partial results: attention_scratch_bytes()
  const AttentionCapture* capture = nullptr;
};

// Key slices the plan uses for this shape: more when few workgroups would otherwise run (decode).
std::uint32_t attention_splits(const KernelPlan& plan, const AttentionShape& s);
// Scratch attention() needs with n_split slices (0 when n_split == 1).
std::uint64_t attention_scratch_bytes(const AttentionShape& s, std::uint32_t n_split);

// o[t, h, :] = sum_k softmax_k(scale * q[t, h, :] . K[k, h / group]) V[k, h / group] over the
// positions row t sees (causal, the window, and limits); all of them must be in the cache.
// q, o: [m, n_head, head_dim] f32; k_cache, v_cache: [cells, n_kv_head * head_dim] of kv_type.
// Throws tessera::Error "[attention] ..." naming the limit a shape breaks.
void attention(Context& ctx, CommandList& cmd, const AttentionShape& s, const BufferRange& q,
               const BufferRange& k_cache, const BufferRange& v_cache, const BufferRange& o,
               const AttentionOptions& opt = {});

// Attention maps from captured scores: map[t, c, b] = the softmax probability of row t, captured
// head c, summed over key slice b of `bins` equal slices of attention_key_range(s) (bins =
// count(): the probabilities themselves). limits as given to attention(). bins <= 4096.
void attention_capture_maps(Context& ctx, CommandList& cmd, const AttentionShape& s, const AttentionCapture& cap,
                            const std::optional<BufferRange>& limits, std::uint32_t bins, const BufferRange& map);

}  // namespace tessera::ops
