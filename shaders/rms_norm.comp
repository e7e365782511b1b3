#version 450
// rms_norm: one workgroup per row, fp32 accumulation; y = x * rsqrt(mean(x^2) + eps) (* w).
// Used for the sandwich norms (with weight), QK-norm per head (rows = tokens * heads) and the
// weight-less V-norm. Variants: subgroup reduction or shared-memory tree (plan picks).
//! variant - -DSUBGROUP_REDUCE=1
//! variant shared
#extension GL_GOOGLE_include_directive : require
#include "params.h"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform PC { RmsNormParams p; };

#include "common/reduce.glsl"

void main() {
  const uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (row >= p.rows) return;  // uniform per workgroup
  const uint xb = row * p.x_stride, yb = row * p.y_stride;
  float ss = 0.0;
  for (uint i = gl_LocalInvocationIndex; i < p.n; i += gl_WorkGroupSize.x) ss += x[xb + i] * x[xb + i];
  const float r = inversesqrt(workgroup_sum(ss) / float(p.n) + p.eps);
  for (uint i = gl_LocalInvocationIndex; i < p.n; i += gl_WorkGroupSize.x) {
    const float v = x[xb + i] * r;
    y[yb + i] = p.has_weight != 0u ? v * w[i] : v;
  }
}
