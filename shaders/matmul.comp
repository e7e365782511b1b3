#version 450
// matmul: y[t, r] = sum_i x[t, i] * W[r, i] (y = x · Wᵀ) with W dequantized in the kernel, the
// simple portable path. One workgroup per weight row r of the bound chunk and per tile of up to
// TILE_M activation rows: each invocation strides over k, dequantizes each weight element once,
// multiplies it with the tile's x values (fp32); the TILE_M partial sums are then reduced
// together (subgroupAdd and one barrier, else two shared-memory passes).
// Variants: every weight type × subgroup or shared-memory reduction (plan.subgroup_reduce picks).
//! variant f32 -DDTYPE_F32=1 -DSUBGROUP_REDUCE=1
//! variant f32_shared -DDTYPE_F32=1
//! variant f16 -DDTYPE_F16=1 -DSUBGROUP_REDUCE=1
//! variant f16_shared -DDTYPE_F16=1
//! variant bf16 -DDTYPE_BF16=1 -DSUBGROUP_REDUCE=1
//! variant bf16_shared -DDTYPE_BF16=1
//! variant q4_0 -DDTYPE_Q4_0=1 -DSUBGROUP_REDUCE=1
//! variant q4_0_shared -DDTYPE_Q4_0=1
//! variant q4_1 -DDTYPE_Q4_1=1 -DSUBGROUP_REDUCE=1
//! variant q4_1_shared -DDTYPE_Q4_1=1
//! variant q5_0 -DDTYPE_Q5_0=1 -DSUBGROUP_REDUCE=1
//! variant q5_0_shared -DDTYPE_Q5_0=1
//! variant q8_0 -DDTYPE_Q8_0=1 -DSUBGROUP_REDUCE=1
//! variant q8_0_shared -DDTYPE_Q8_0=1
//! variant q4_k -DDTYPE_Q4_K=1 -DSUBGROUP_REDUCE=1
//! variant q4_k_shared -DDTYPE_Q4_K=1
//! variant q5_k -DDTYPE_Q5_K=1 -DSUBGROUP_REDUCE=1
//! variant q5_k_shared -DDTYPE_Q5_K=1
//! variant q6_k -DDTYPE_Q6_K=1 -DSUBGROUP_REDUCE=1
//! variant q6_k_shared -DDTYPE_Q6_K=1
#extension GL_GOOGLE_include_directive : require
#ifdef SUBGROUP_REDUCE
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#include "params.h"

// Activation rows per workgroup; must match kMatmulTileM in engine/ops/matmul.cpp.
#ifndef TILE_M
#define TILE_M 8u
#endif

#if !defined(DTYPE_F32) && !defined(DTYPE_F16) && !defined(DTYPE_BF16) && !defined(DTYPE_Q4_0) && \
    !defined(DTYPE_Q4_1) && !defined(DTYPE_Q5_0) && !defined(DTYPE_Q8_0) && !defined(DTYPE_Q4_K) && \
    !defined(DTYPE_Q5_K) && !defined(DTYPE_Q6_K)
#define DTYPE_F32 1  // so the file compiles alone
#endif

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer W { uint w[]; };     // [row_count, row_bytes] packed
layout(std430, binding = 1) readonly buffer X { float x[]; };    // [m, k] f32
layout(std430, binding = 2) writeonly buffer Y { float y[]; };   // [m, n] f32
layout(push_constant) uniform PC { MatmulParams p; };

#define WORDS w
#include "common/bytes.glsl"
#include "common/dequant.glsl"

// Partial sums, [TILE_M][256]: per subgroup (subgroup variant) or per invocation. The workgroup
// size is a power of two, TILE_M <= it <= 256.
#define MAX_WG 256u
shared float part[TILE_M * MAX_WG];
#ifndef SUBGROUP_REDUCE
shared float part2[MAX_WG];  // [TILE_M][WG / TILE_M] sums of TILE_M partials
#endif

void main() {
  // Rows are folded over x and z (a chunk may hold more rows than one grid dimension).
  const uint r = gl_WorkGroupID.x + gl_WorkGroupID.z * gl_NumWorkGroups.x;
  if (r >= p.row_count) return;  // uniform per workgroup
  const uint t0 = (p.tile_base + gl_WorkGroupID.y) * TILE_M;
  if (t0 >= p.m) return;  // uniform per workgroup
  const uint mt = min(TILE_M, p.m - t0);  // activation rows in this tile
  const uint row_base = r * p.row_bytes;
  const uint tid = gl_LocalInvocationIndex;

  float acc[TILE_M];
  for (uint j = 0u; j < TILE_M; ++j) acc[j] = 0.0;
  if (mt == 1u) {
    // Decode (one activation row): one accumulator, each x element read once.
    const uint xb = t0 * p.k;
    for (uint i = tid; i < p.k; i += gl_WorkGroupSize.x)
      acc[0] += dequant(row_base + (i / BLOCK_SIZE) * BLOCK_BYTES, i % BLOCK_SIZE) * x[xb + i];
  } else {
    for (uint i = tid; i < p.k; i += gl_WorkGroupSize.x) {
      const float wv = dequant(row_base + (i / BLOCK_SIZE) * BLOCK_BYTES, i % BLOCK_SIZE);
      // Rows past m re-read the tile's last row (in bounds); their sums are never written.
      for (uint j = 0u; j < TILE_M; ++j) acc[j] += wv * x[min(t0 + j, p.m - 1u) * p.k + i];
    }
  }
#ifdef SUBGROUP_REDUCE
  for (uint j = 0u; j < mt; ++j) {  // mt is uniform: every invocation takes the same trips
    const float s = subgroupAdd(acc[j]);
    if (subgroupElect()) part[j * MAX_WG + gl_SubgroupID] = s;
  }
  barrier();
  if (tid < mt) {
    float s = 0.0;
    for (uint g = 0u; g < gl_NumSubgroups; ++g) s += part[tid * MAX_WG + g];
    y[(t0 + tid) * p.n + p.row_begin + r] = s;
  }
#else
  // Two barriers (each one is costly on CPU drivers): every invocation stores its partials, then
  // sums TILE_M of them for one row (WG / TILE_M invocations per row), then TILE_M invocations
  // each add up their row's WG / TILE_M sums.
  for (uint j = 0u; j < TILE_M; ++j) part[j * MAX_WG + tid] = acc[j];
  barrier();
  const uint per_row = gl_WorkGroupSize.x / TILE_M;
  const uint row = tid / per_row, seg = tid % per_row;
  float s = 0.0;
  for (uint q = 0u; q < TILE_M; ++q) s += part[row * MAX_WG + seg * TILE_M + q];
  part2[tid] = s;
  barrier();
  if (tid < mt) {
    float total = 0.0;
    for (uint g = 0u; g < per_row; ++g) total += part2[tid * per_row + g];
    y[(t0 + tid) * p.n + p.row_begin + r] = total;
  }
#endif
}
