#version 450
// head_norm_rope: Gemma 4 QK-norm then RoPE, fused, in place. One workgroup per head row:
// y = x * rsqrt(mean(x^2) + eps) (* w), then NeoX pairs (j, j + n/2) for j < n_rot rotate by
// the angle of (token, j), whose (cos, sin) the host computed (in double) into cs. Pairs past
// n_rot are only normalised (the global layers' partial rotation). Variants as rms_norm.
//! variant - -DSUBGROUP_REDUCE=1
//! variant shared
#extension GL_GOOGLE_include_directive : require
#include "params.h"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) buffer X { float x[]; };            // [rows, n] f32
layout(std430, binding = 1) readonly buffer W { float w[]; };   // [n] f32
layout(std430, binding = 2) readonly buffer CS { vec2 cs[]; };  // [tokens, n_rot] (cos, sin)
layout(push_constant) uniform PC { HeadNormRopeParams p; };

#include "common/reduce.glsl"

void main() {
  const uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (row >= p.rows) return;  // uniform per workgroup
  const uint base = row * p.n, half_n = p.n / 2u, token = row / p.n_head;
  float ss = 0.0;
  for (uint i = gl_LocalInvocationIndex; i < p.n; i += gl_WorkGroupSize.x) ss += x[base + i] * x[base + i];
  const float r = inversesqrt(workgroup_sum(ss) / float(p.n) + p.eps);
  // Each invocation reads and writes only its own pairs, all reads of the sum done above.
  for (uint j = gl_LocalInvocationIndex; j < half_n; j += gl_WorkGroupSize.x) {
    float a = x[base + j] * r, b = x[base + j + half_n] * r;
    if (p.has_weight != 0u) {
      a *= w[j];
      b *= w[j + half_n];
    }
    if (j < p.n_rot) {
      const vec2 c = cs[token * p.n_rot + j];
      const float ra = a * c.x - b * c.y;
      b = b * c.x + a * c.y;
      a = ra;
    }
    x[base + j] = a;
    x[base + j + half_n] = b;
  }
}
