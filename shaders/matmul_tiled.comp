#version 450
// matmul_tiled: y[t, r] = sum_i x[t, i] * W[r, i] for many activation rows (prefill), with W
// dequantized once per tile into shared memory. A workgroup computes a tile of BM activation
// rows x BN = 64 weight rows, walking k one 32-element chunk at a time: its invocations load the
// chunk's activations (BM x 32) and dequantize its weights (64 x 32, word loads, 8 invocations
// per chunk row) into shared memory, then each invocation adds a 2 x 4 block of products, rows
// ty + TY i and weight rows tx + 16 j (tx = tid % 16, ty = tid / 16, TY = WG / 16, BM = 2 TY).
// Tiles are padded by one float per k row so neither the stores nor the reads share a bank.
// Rows past m or past the chunk re-read the last row (in bounds) and are never stored.
// Spec constant 0 = WG (128 or 256: BM = 16 or 32). Shared memory: 12.3 KiB at WG 256.
// Variants: every weight type.
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
#extension GL_GOOGLE_include_directive : require
#include "params.h"

#if !defined(DTYPE_F32) && !defined(DTYPE_F16) && !defined(DTYPE_BF16) && !defined(DTYPE_Q4_0) && \
    !defined(DTYPE_Q4_1) && !defined(DTYPE_Q5_0) && !defined(DTYPE_Q8_0) && !defined(DTYPE_Q4_K) && \
    !defined(DTYPE_Q5_K) && !defined(DTYPE_Q6_K)
#define DTYPE_F32 1  // so the file compiles alone
#endif

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer W { uint w[]; };    // [row_count, row_bytes] packed
layout(std430, binding = 1) readonly buffer X { vec4 x4[]; };   // [m, k] f32
layout(std430, binding = 2) writeonly buffer Y { float y[]; };  // [m, n] f32
layout(push_constant) uniform PC { MatmulParams p; };

#define WORDS w
#include "common/dequant32.glsl"

#define BN 64u
#define MAX_BM 32u
shared float xs[32u * (MAX_BM + 1u)];  // [kk][activation row]
shared float ws[32u * (BN + 1u)];      // [kk][weight row]

void main() {
  const uint WG = gl_WorkGroupSize.x, TY = WG / 16u, BM = 2u * TY;
  const uint tid = gl_LocalInvocationIndex, tx = tid % 16u, ty = tid / 16u;
  const uint group = gl_WorkGroupID.x + gl_WorkGroupID.z * gl_NumWorkGroups.x;
  const uint n0 = group * BN;                                  // first weight row of the tile
  const uint t0 = (p.tile_base + gl_WorkGroupID.y) * BM;       // first activation row
  const uint chunks = p.k / 32u, k4 = p.k / 4u;

  float acc[2][4];
  for (uint i = 0u; i < 2u; ++i)
    for (uint j = 0u; j < 4u; ++j) acc[i][j] = 0.0;

  for (uint c = 0u; c < chunks; ++c) {
    for (uint e = tid; e < BM * 8u; e += WG) {  // activations: quad e % 8 of row e / 8
      const uint r = e / 8u, q = e % 8u;
      const vec4 v = x4[min(t0 + r, p.m - 1u) * k4 + c * 8u + q];
      for (uint l = 0u; l < 4u; ++l) xs[(4u * q + l) * (MAX_BM + 1u) + r] = v[l];
    }
    for (uint e = tid; e < BN * 8u; e += WG) {  // weights: quad e % 8 of row e / 8
      const uint r = e / 8u, q = e % 8u;
      const vec4 v = dequant4(min(n0 + r, p.row_count - 1u) * p.row_bytes, c, q);
      for (uint l = 0u; l < 4u; ++l) ws[(4u * q + l) * (BN + 1u) + r] = v[l];
    }
    barrier();
    for (uint kk = 0u; kk < 32u; ++kk) {
      const float a0 = xs[kk * (MAX_BM + 1u) + ty], a1 = xs[kk * (MAX_BM + 1u) + ty + TY];
      for (uint j = 0u; j < 4u; ++j) {
        const float b = ws[kk * (BN + 1u) + tx + 16u * j];
        acc[0][j] += a0 * b;
        acc[1][j] += a1 * b;
      }
    }
    barrier();
  }
  for (uint i = 0u; i < 2u; ++i) {
    const uint t = t0 + ty + TY * i;
    if (t >= p.m) continue;
    for (uint j = 0u; j < 4u; ++j) {
      const uint r = n0 + tx + 16u * j;
      if (r < p.row_count) y[t * p.n + p.row_begin + r] = acc[i][j];
    }
  }
}
