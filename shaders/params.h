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

#ifdef __cplusplus
static_assert(sizeof(FillParams) == 8);
static_assert(sizeof(ElementwiseParams) == 16);
static_assert(sizeof(RmsNormParams) == 24);
static_assert(sizeof(GegluParams) == 24);
static_assert(sizeof(SoftcapParams) == 8);
static_assert(sizeof(GetRowsParams) == 24);
}  // namespace tessera::shader
#endif

#endif  // TESSERA_SHADER_PARAMS_H
