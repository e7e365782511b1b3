// Push-constant blocks shared by the GLSL kernels and their C++ host code: one definition, read
// by both languages. Scalars only (4-byte uint/int/float), so std430 and C++ layouts agree; the
// engine also checks each size against the SPIR-V at pipeline creation.
#ifndef TESSERA_SHADER_PARAMS_H
#define TESSERA_SHADER_PARAMS_H

#ifdef __cplusplus
#include <cstdint>
namespace tessera::shader {
using uint = std::uint32_t;
#endif

// fill.comp: dst[i] = value for i < n (value as raw 32-bit pattern).
struct FillParams {
  uint n;
  uint value_bits;
};

// elementwise.comp: out[i] = a[i] (+|*) b[i % b_n], or a[i] * scale.
struct ElementwiseParams {
  uint n;      // elements of a and out
  uint b_n;    // elements of b (broadcast over a when smaller; n % b_n == 0)
  float scale; // for the scale variant
  uint pad0;
};

// rms_norm.comp: y[r, :] = x[r, :] * rsqrt(mean(x[r, :]^2) + eps) (* w[:] when has_weight).
struct RmsNormParams {
  uint n;          // row length
  uint rows;
  float eps;
  uint has_weight; // 0 or 1
  uint x_stride;   // elements between rows of x
  uint y_stride;   // elements between rows of y
};

// topk.comp: one pass over n candidates in segments of S, keeping k per segment.
struct TopkParams {
  uint n;  // candidates in the input
  uint k;  // kept per segment (k <= S / 2)
};

// geglu.comp: out[r, i] = gelu_tanh(gate[r, i]) * up[r, i].
struct GegluParams {
  uint n;           // row length of out
  uint rows;
  uint gate_stride; // elements between rows of gate
  uint up_stride;   // elements between rows of up
  uint out_stride;  // elements between rows of out
  uint up_offset;   // first element of up inside its binding
};

// softcap.comp: y[i] = cap * tanh(x[i] / cap).
struct SoftcapParams {
  uint n;
  float cap;
};

// get_rows.comp: out[t, :] = dequant(table[ids[t] - row_begin, :]) * scale for the ids that fall
// in [row_begin, row_begin + row_count) (the table chunk bound), others untouched.
struct GetRowsParams {
  uint n;          // row length in elements (multiple of the block size)
  uint m;          // number of ids
  uint row_begin;  // first table row in this chunk
  uint row_count;  // rows in this chunk
  uint row_bytes;  // bytes per table row
  float scale;
};

// head_norm_rope.comp: per-head RMSNorm (weight optional) then NeoX RoPE, in place on
// x[row, :] (row = token * n_head + head, n = head_dim): pairs (j, j + n/2) for j < n_rot rotate
// by the angle whose (cos, sin) is cs[token, j]; other pairs are only normalised.
struct HeadNormRopeParams {
  uint n;          // head_dim (even)
  uint rows;       // tokens * heads
  uint n_head;     // heads per token (row / n_head = token)
  uint n_rot;      // rotating pairs (<= n / 2); 0 = norm only
  float eps;
  uint has_weight; // 0 or 1
};

// kv_store.comp: cache[(pos0 + t) % cells, :] = src[t, :] for t < m as f16 (width halves a row)
// or, variant q8_0, as Q8_0 (int8 quants [cells, width], then f32 scales [cells, width / 32]).
struct KvStoreParams {
  uint width;      // elements per row (even)
  uint m;          // rows to store
  uint pos0;       // position of row 0
  uint cells;      // rows of the cache (a ring when smaller than the context)
};

// flash_attn.comp: o[t, h, :] = softmax_k(scale * q[t, h, :] . K[k, h / group, :]) V[k, ...] over
// the positions pk that row t sees: lo(t) <= pk <= hi(t), lo = window ? max(0, pq + 1 - window)
// : 0 and hi = has_limits ? limits[t] : pq (pq = pos0 + t). Position pk lives in cache row
// pk % cells. With n_split > 1 each split writes partial results for flash_attn_reduce.
struct FlashAttnParams {
  uint head_dim;    // elements per head (multiple of 4; of 32 for Q8_0)
  uint n_head;      // query heads
  uint n_kv_head;   // KV heads (n_head % n_kv_head == 0)
  uint m;           // query rows (tokens)
  uint pos0;        // position of query row 0
  uint cells;       // cache rows
  uint window;      // sliding window (0 = none)
  float scale;      // score scale (Gemma 4: 1.0)
  uint has_limits;  // 1: limits[t] is row t's last visible key (bidirectional blocks)
  uint n_split;     // key slices (split-K); 1 writes o directly
  uint cap_heads;   // capture: bit h set = head h's scores go to the capture buffer
  uint cap_lo;      // capture: key position of column 0
  uint cap_cols;    // capture: columns per captured row
  uint chunk_cells;  // cache rows in the first binding (= cells unless split over two)
};

// flash_attn_reduce.comp: o[row] = sum_s exp(m_s - M) o_s / sum_s exp(m_s - M) l_s.
struct FlashReduceParams {
  uint head_dim;  // elements per row
  uint rows;      // m * n_head
  uint n_split;   // partial results per row
};

// attn_capture.comp: softmax of each captured row over its visible keys, summed into bins.
struct AttnCaptureParams {
  uint m;           // query rows
  uint n_cap;       // captured heads per row
  uint cols;        // captured key columns (positions cap_lo ..)
  uint bins;        // output columns (bins * cols < 2^32)
  uint pos0;        // position of row 0
  uint window;      // sliding window (0 = none)
  uint has_limits;  // as in FlashAttnParams
  uint cap_lo;      // key position of column 0
};

// matmul.comp: y[t, row_begin + r] = sum_i x[t, i] * dequant(W[r, i]) for the rows r of one weight
// chunk; workgroup (x + z * groups_x, y) takes row r and activation tile tile_base + y.
struct MatmulParams {
  uint k;          // row length of W and x (multiple of the block size)
  uint m;          // activation rows
  uint n;          // row stride of y (total weight rows)
  uint row_begin;  // first weight row in this chunk
  uint row_count;  // rows in this chunk
  uint row_bytes;  // bytes per weight row
  uint tile_base;  // first activation tile of this dispatch
};

// patch_norm.comp: the vision embedder's patchify + first LayerNorm. Merged patch p = gy * cols + gx
// of an HWC f32 image `width` pixels wide becomes y[p, :] = LayerNorm(v) * w + b over its
// patch_px * patch_px * 3 values v in the mmproj's CHW order (spec §4.3).
struct PatchNormParams {
  uint width;     // image width in pixels (height = rows of patches * patch_px)
  uint cols;      // patches per image row
  uint patches;   // patches (rows of y)
  uint patch_px;  // pixels per patch side (48)
  float eps;      // LayerNorm epsilon (1e-5)
  uint pad0;
};

// vision_norms.comp: the vision embedder after the dense layer, one row (patch) per workgroup:
// v = x + bias; u = LN(v) * w2 + b2 + pos[gx] + pos[pos_rows + gy]; z = LN(u) * w3 + b3;
// y = z * rsqrt(mean(z^2) + eps_rms). vecs = [bias, w2, b2, w3, b3], each n floats.
struct VisionNormsParams {
  uint n;         // row width (the model's n_embd)
  uint rows;      // patches
  uint cols;      // patches per image row (gx = row % cols, gy = row / cols)
  uint pos_rows;  // rows per axis of the position table ([2 * pos_rows, n])
  float eps_ln;   // LayerNorm epsilon (1e-5)
  float eps_rms;  // final RMSNorm epsilon (the file's, 1e-6)
};

#ifdef __cplusplus
static_assert(sizeof(PatchNormParams) == 24);
static_assert(sizeof(VisionNormsParams) == 24);
static_assert(sizeof(FillParams) == 8);
static_assert(sizeof(ElementwiseParams) == 16);
static_assert(sizeof(RmsNormParams) == 24);
static_assert(sizeof(GegluParams) == 24);
static_assert(sizeof(SoftcapParams) == 8);
static_assert(sizeof(GetRowsParams) == 24);
static_assert(sizeof(MatmulParams) == 28);
static_assert(sizeof(HeadNormRopeParams) == 24);
static_assert(sizeof(KvStoreParams) == 16);
static_assert(sizeof(TopkParams) == 8);
static_assert(sizeof(FlashAttnParams) == 56);
static_assert(sizeof(FlashReduceParams) == 12);
static_assert(sizeof(AttnCaptureParams) == 32);
}  // namespace tessera::shader
#endif

#endif  // TESSERA_SHADER_PARAMS_H
