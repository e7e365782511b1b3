#version 450
// vision_norms: the vision embedder between its dense layer and the multimodal projection
// (spec §4.2), fused into one pass per patch row:
//   v = x + bias;  u = LayerNorm(v) * w2 + b2 + POS[gx] + POS[pos_rows + gy]
//   z = LayerNorm(u) * w3 + b3;  y = z * rsqrt(mean(z²) + eps_rms)   (the weight-less RMSNorm)
// Each invocation re-reads only the elements it wrote itself, so no barrier is needed between
// the stages beyond the reductions'.
//! variant - -DSUBGROUP_REDUCE=1
//! variant shared
#extension GL_GOOGLE_include_directive : require
#include "params.h"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };     // [rows, n] dense output (no bias)
layout(std430, binding = 1) readonly buffer V { float vecs[]; };  // [5, n]: bias, w2, b2, w3, b3
layout(std430, binding = 2) readonly buffer P { float pos[]; };   // [2 * pos_rows, n]: x table, y table
layout(std430, binding = 3) buffer Y { float y[]; };              // [rows, n]
layout(push_constant) uniform PC { VisionNormsParams p; };

#include "common/reduce.glsl"

void main() {
  const uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (row >= p.rows) return;  // uniform per workgroup
  const uint n = p.n, base = row * n, tid = gl_LocalInvocationIndex, wg = gl_WorkGroupSize.x;
  const uint px = (row % p.cols) * n, py = (p.pos_rows + row / p.cols) * n;
  const float inv_n = 1.0 / float(n);

  float s = 0.0;
  for (uint i = tid; i < n; i += wg) s += x[base + i] + vecs[i];
  const float mean2 = workgroup_sum(s) * inv_n;
  float ss = 0.0;
  for (uint i = tid; i < n; i += wg) {
    const float d = x[base + i] + vecs[i] - mean2;
    ss += d * d;
  }
  const float r2 = inversesqrt(workgroup_sum(ss) * inv_n + p.eps_ln);
  s = 0.0;
  for (uint i = tid; i < n; i += wg) {
    const float u = (x[base + i] + vecs[i] - mean2) * r2 * vecs[n + i] + vecs[2u * n + i] + pos[px + i] + pos[py + i];
    y[base + i] = u;
    s += u;
  }
  const float mean3 = workgroup_sum(s) * inv_n;
  ss = 0.0;
  for (uint i = tid; i < n; i += wg) {
    const float d = y[base + i] - mean3;
    ss += d * d;
  }
  const float r3 = inversesqrt(workgroup_sum(ss) * inv_n + p.eps_ln);
  ss = 0.0;
  for (uint i = tid; i < n; i += wg) {
    const float z = (y[base + i] - mean3) * r3 * vecs[3u * n + i] + vecs[4u * n + i];
    y[base + i] = z;
    ss += z * z;
  }
  const float rr = inversesqrt(workgroup_sum(ss) * inv_n + p.eps_rms);
  for (uint i = tid; i < n; i += wg) y[base + i] *= rr;
}
