#version 450
// matvec: y[t, r] = sum_i x[t, i] * W[r, i] for a few activation rows t (decode: 1; speculative
// verify and small batches: up to 16), W dequantized in the kernel with word loads.
// A workgroup covers ROWS = WG / T weight rows with T invocations each, in one of two layouts:
// - T >= 8 (GPUs): eight invocations share a 32-element chunk, one quad of 4 weights each, so
//   adjacent invocations read adjacent weights and activations; the T / 8 teams of a row walk
//   its chunks T / 8 apart.
// - T = 1 (CPU drivers such as lavapipe, whose invocations are SIMD lanes): one row per
//   invocation, each chunk's scales decoded once for its 32 weights, and the activations, the
//   same for every lane, loaded once per subgroup and broadcast (needs subgroups of 8 or more
//   with ballot; a per-lane load of the same address is a gather there: 2-4x slower).
// Each quad is dequantized once and multiplied with every activation row of the tile (NCOLS,
// unrolled). The T partial sums per (row, column) are added in shared memory after one barrier
// (T = 1: stored directly).
// GEGLU variants fuse the Gemma FFN's gate and up projections and its activation: binding 3 is
// the up weight (same type, shape and chunking as the gate weight in binding 0), both rows are
// read in the same pass over the activations, and y = gelu_tanh(x · gate) * (x · up).
// Q8_1 variants take activations quantized by quantize_q8_1.comp (binding 1: 10 words per 32
// elements, q[8] | d | s) and multiply them with the weights' small integers by packed 4 x 8-bit
// integer dot products (SPV_KHR_integer_dot_product: needs the device's shaderIntegerDotProduct);
// per quad, A * dx * dot(n, q) + B * dx * dot(1, q) for the weight's value = A * n + B.
// Spec constants: 0 = WG, 1 = T (1, or a power of two 8 <= T <= min(WG, 32)), 2 = NCOLS (1..16).
// Variants: every weight type, plain and GEGLU; the quantized types with Q8_1 activations.
//! variant f32 -DDTYPE_F32=1
//! variant f16 -DDTYPE_F16=1
//! variant bf16 -DDTYPE_BF16=1
//! variant q4_0 -DDTYPE_Q4_0=1
//! variant q4_1 -DDTYPE_Q4_1=1
//! variant q5_0 -DDTYPE_Q5_0=1
//! variant q8_0 -DDTYPE_Q8_0=1
//! variant q4_k -DDTYPE_Q4_K=1
//! variant q5_k -DDTYPE_Q5_K=1
//! variant q6_k -DDTYPE_Q6_K=1
//! variant f32_geglu -DDTYPE_F32=1 -DGEGLU=1
//! variant f16_geglu -DDTYPE_F16=1 -DGEGLU=1
//! variant bf16_geglu -DDTYPE_BF16=1 -DGEGLU=1
//! variant q4_0_geglu -DDTYPE_Q4_0=1 -DGEGLU=1
//! variant q4_1_geglu -DDTYPE_Q4_1=1 -DGEGLU=1
//! variant q5_0_geglu -DDTYPE_Q5_0=1 -DGEGLU=1
//! variant q8_0_geglu -DDTYPE_Q8_0=1 -DGEGLU=1
//! variant q4_k_geglu -DDTYPE_Q4_K=1 -DGEGLU=1
//! variant q5_k_geglu -DDTYPE_Q5_K=1 -DGEGLU=1
//! variant q6_k_geglu -DDTYPE_Q6_K=1 -DGEGLU=1
//! variant q4_0_q8_1 -DDTYPE_Q4_0=1 -DACT_Q8_1=1
//! variant q4_1_q8_1 -DDTYPE_Q4_1=1 -DACT_Q8_1=1
//! variant q5_0_q8_1 -DDTYPE_Q5_0=1 -DACT_Q8_1=1
//! variant q8_0_q8_1 -DDTYPE_Q8_0=1 -DACT_Q8_1=1
//! variant q4_k_q8_1 -DDTYPE_Q4_K=1 -DACT_Q8_1=1
//! variant q5_k_q8_1 -DDTYPE_Q5_K=1 -DACT_Q8_1=1
//! variant q6_k_q8_1 -DDTYPE_Q6_K=1 -DACT_Q8_1=1
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_ballot : require
#include "params.h"

#if !defined(DTYPE_F32) && !defined(DTYPE_F16) && !defined(DTYPE_BF16) && !defined(DTYPE_Q4_0) && \
    !defined(DTYPE_Q4_1) && !defined(DTYPE_Q5_0) && !defined(DTYPE_Q8_0) && !defined(DTYPE_Q4_K) && \
    !defined(DTYPE_Q5_K) && !defined(DTYPE_Q6_K)
#define DTYPE_F32 1  // so the file compiles alone
#endif

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint T = 32;       // invocations per weight row
layout(constant_id = 2) const uint NCOLS = 16;   // activation rows per dispatch tile (max 16)

layout(std430, binding = 0) readonly buffer W { uint w[]; };    // [row_count, row_bytes] packed
#if defined(ACT_Q8_1)
#extension GL_EXT_spirv_intrinsics : require
layout(std430, binding = 1) readonly buffer X { uint xq[]; };   // [m, k / 32] Q8_1 blocks of 10 words
// OpSDotKHR (4450) on two words of 4 packed signed bytes (PackedVectorFormat4x8Bit = 0).
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6019, 6018], id = 4450)
int sdot4x8(uint a, uint b, spirv_literal int packed_format);
#define TESSERA_INT_DOT 1
#else
layout(std430, binding = 1) readonly buffer X { vec4 x4[]; };   // [m, k] f32
#endif
layout(std430, binding = 2) writeonly buffer Y { float y[]; };  // [m, n] f32
layout(push_constant) uniform PC { MatmulParams p; };

#define WORDS w
#include "common/dequant32.glsl"
#undef WORDS

#if defined(GEGLU)
layout(std430, binding = 3) readonly buffer U { uint u[]; };  // the up weight, laid out as W
#define WORDS u
#define DQ(name) name##_up
#include "common/dequant32.glsl"
#undef DQ
#undef WORDS
#include "common/math.glsl"
#define NACC 2u  // accumulators per column: gate, up
#else
#define NACC 1u
#endif

#define MAX_WG 128u
#define MAX_COLS 16u
shared float part[NACC * MAX_COLS * MAX_WG];  // [accumulator][column][invocation]

// The output of one row and column from its accumulated dot products.
float result(float g, float up) {
#if defined(GEGLU)
  return gelu_tanh(g) * up;
#else
  return g;
#endif
}

void main() {
  const uint tid = gl_LocalInvocationIndex;
  const uint rows = gl_WorkGroupSize.x / T;
  // Row groups are folded over x and z (a chunk may hold more rows than one grid dimension).
  const uint group = gl_WorkGroupID.x + gl_WorkGroupID.z * gl_NumWorkGroups.x;
  const uint r = group * rows + tid / T, lane = tid % T;
  const uint t0 = (p.tile_base + gl_WorkGroupID.y) * NCOLS;
  const uint mt = min(NCOLS, p.m - t0);  // activation rows of this tile (t0 < m by the grid)

  float acc[NCOLS], accu[NCOLS];  // accu: the up projection (GEGLU; unused otherwise)
  for (uint j = 0u; j < NCOLS; ++j) acc[j] = 0.0, accu[j] = 0.0;
  {
    // Rows past the chunk re-read its last row (never stored), so control flow stays uniform:
    // every lane of a subgroup runs the same chunk loop, as the broadcasts below need.
    const uint row = min(r, p.row_count - 1u) * p.row_bytes;
    const uint chunks = p.k / 32u, k4 = p.k / 4u;
    if (T == 1u) {
      // One row per lane: lane l loads activation quad l % 8 of the chunk for every column (one
      // contiguous load instead of 8 per-lane gathers) and the 8 quads are broadcast in turn.
      const uint xq_lane = gl_SubgroupInvocationID & 7u;
#if defined(ACT_Q8_1)
      for (uint c = 0u; c < chunks; ++c) {
        const Chunk ch = chunk_at(row, c);
        uint xs[NCOLS];
        vec2 ds[NCOLS];  // the block's d and s (the same address in every lane)
        for (uint j = 0u; j < NCOLS; ++j) {
          const uint blk = (min(t0 + j, p.m - 1u) * chunks + c) * 10u;
          xs[j] = xq[blk + xq_lane];
          ds[j] = vec2(uintBitsToFloat(xq[blk + 8u]), uintBitsToFloat(xq[blk + 9u]));
        }
#define TESSERA_QUAD(q)                                                                             \
  {                                                                                                 \
    const uint wq = quad_packed(ch, q);                                                             \
    const vec2 ab = quad_affine(ch, q);                                                             \
    for (uint j = 0u; j < NCOLS; ++j) {                                                             \
      const uint xb = subgroupBroadcast(xs[j], q);                                                  \
      acc[j] += ds[j].x * (ab.x * float(sdot4x8(wq, xb, 0)) + ab.y * float(sdot4x8(0x01010101u, xb, 0))); \
    }                                                                                               \
  }
        TESSERA_QUAD(0u) TESSERA_QUAD(1u) TESSERA_QUAD(2u) TESSERA_QUAD(3u)
        TESSERA_QUAD(4u) TESSERA_QUAD(5u) TESSERA_QUAD(6u) TESSERA_QUAD(7u)
#undef TESSERA_QUAD
      }
#else
      for (uint c = 0u; c < chunks; ++c) {
        const Chunk ch = chunk_at(row, c);
#if defined(GEGLU)
        const Chunk chu = chunk_at_up(row, c);
#endif
        vec4 xs[NCOLS];
        for (uint j = 0u; j < NCOLS; ++j) xs[j] = x4[min(t0 + j, p.m - 1u) * k4 + c * 8u + xq_lane];
        // subgroupBroadcast needs a constant lane: one block per quad.
#if defined(GEGLU)
#define TESSERA_QUAD(q)                                        \
  {                                                            \
    const vec4 wv = chunk_quad(ch, q), uv = chunk_quad_up(chu, q); \
    for (uint j = 0u; j < NCOLS; ++j) {                        \
      const vec4 xb = subgroupBroadcast(xs[j], q);             \
      acc[j] += dot(wv, xb);                                   \
      accu[j] += dot(uv, xb);                                  \
    }                                                          \
  }
#else
#define TESSERA_QUAD(q)                                                                 \
  {                                                                                     \
    const vec4 wv = chunk_quad(ch, q);                                                  \
    for (uint j = 0u; j < NCOLS; ++j) acc[j] += dot(wv, subgroupBroadcast(xs[j], q));  \
  }
#endif
        TESSERA_QUAD(0u) TESSERA_QUAD(1u) TESSERA_QUAD(2u) TESSERA_QUAD(3u)
        TESSERA_QUAD(4u) TESSERA_QUAD(5u) TESSERA_QUAD(6u) TESSERA_QUAD(7u)
#undef TESSERA_QUAD
      }
#endif
    } else {
      const uint quad = lane & 7u;
      for (uint c = lane >> 3; c < chunks; c += T >> 3) {
#if defined(ACT_Q8_1)
        const Chunk ch = chunk_at(row, c);
        const uint wq = quad_packed(ch, quad);
        const vec2 ab = quad_affine(ch, quad);
        for (uint j = 0u; j < NCOLS; ++j) {
          const uint blk = (min(t0 + j, p.m - 1u) * chunks + c) * 10u;
          const uint xb = xq[blk + quad];
          acc[j] += uintBitsToFloat(xq[blk + 8u]) *
                    (ab.x * float(sdot4x8(wq, xb, 0)) + ab.y * float(sdot4x8(0x01010101u, xb, 0)));
        }
#else
        const vec4 wv = dequant4(row, c, quad);
#if defined(GEGLU)
        const vec4 uv = dequant4_up(row, c, quad);
#endif
        // NCOLS is a constant, so the loop unrolls and acc stays in registers; columns past m
        // re-read the tile's last row (in bounds) and are never stored.
        for (uint j = 0u; j < NCOLS; ++j) {
          const vec4 xv = x4[min(t0 + j, p.m - 1u) * k4 + c * 8u + quad];
          acc[j] += dot(wv, xv);
#if defined(GEGLU)
          accu[j] += dot(uv, xv);
#endif
        }
#endif
      }
    }
  }
  if (T == 1u) {  // one invocation per row: no partial sums to add
    if (r < p.row_count)
      for (uint j = 0u; j < NCOLS; ++j)
        if (j < mt) y[(t0 + j) * p.n + p.row_begin + r] = result(acc[j], accu[j]);
    return;
  }
  for (uint j = 0u; j < NCOLS; ++j)
    if (j < mt) {
      part[j * MAX_WG + tid] = acc[j];
      if (NACC == 2u) part[(MAX_COLS + j) * MAX_WG + tid] = accu[j];
    }
  barrier();
  // One invocation per (row, column) adds up the row's T partials.
  for (uint o = tid; o < rows * mt; o += gl_WorkGroupSize.x) {
    const uint rr = o / mt, j = o % mt;
    const uint out_r = group * rows + rr;
    if (out_r < p.row_count) {
      float s = 0.0, su = 0.0;
      for (uint l = 0u; l < T; ++l) {
        s += part[j * MAX_WG + rr * T + l];
        if (NACC == 2u) su += part[(MAX_COLS + j) * MAX_WG + rr * T + l];
      }
      y[(t0 + j) * p.n + p.row_begin + out_r] = result(s, su);
    }
  }
}
