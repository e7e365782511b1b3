#version 450
// flash_attn_reduce: combines the n_split partial results of flash_attn (split-K decode). Per
// output row: M = max of the split maxima, w_s = exp(m_s - M) (0 for a split that saw no key),
// o = sum_s w_s o_s / sum_s w_s l_s. One workgroup per row (x + y * groups_x), threads over dims.
#extension GL_GOOGLE_include_directive : require
#include "params.h"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer P { float part[]; };  // [n_split, rows, head_dim + 2]
layout(std430, binding = 1) writeonly buffer O { float o[]; };    // [rows, head_dim]
layout(push_constant) uniform PC { FlashReduceParams p; };

void main() {
  const uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (row >= p.rows) return;  // uniform per workgroup
  const uint hd = p.head_dim, stride = hd + 2u;
  float mx = -3.0e38;
  for (uint s = 0u; s < p.n_split; ++s) {
    const uint b = (s * p.rows + row) * stride;
    if (part[b + hd + 1u] > 0.0) mx = max(mx, part[b + hd]);
  }
  float l = 0.0;
  for (uint s = 0u; s < p.n_split; ++s) {
    const uint b = (s * p.rows + row) * stride;
    const float ls = part[b + hd + 1u];
    if (ls > 0.0) l += exp(part[b + hd] - mx) * ls;
  }
  const float inv = l > 0.0 ? 1.0 / l : 0.0;
  for (uint d = gl_LocalInvocationIndex; d < hd; d += gl_WorkGroupSize.x) {
    float acc = 0.0;
    for (uint s = 0u; s < p.n_split; ++s) {
      const uint b = (s * p.rows + row) * stride;
      const float ls = part[b + hd + 1u];
      if (ls > 0.0) acc += exp(part[b + hd] - mx) * part[b + d];
    }
    o[row * hd + d] = acc * inv;
  }
}
