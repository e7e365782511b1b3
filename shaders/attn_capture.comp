#version 450
// attn_capture: turns the scaled scores flash_attn captured ([m, n_cap, cols], keys cap_lo ..
// cap_lo + cols - 1; only the visible ones were written) into attention maps: the softmax of
// each row over its visible keys (the mask of flash_attn: lo(t) <= pk <= hi(t)), summed into
// `bins` equal slices of the key range (bins = cols: the probabilities themselves). One
// workgroup per (row, captured head).
//! variant - -DSUBGROUP_REDUCE=1
//! variant shared
#extension GL_GOOGLE_include_directive : require
#include "params.h"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer S { float sc[]; };     // [m, n_cap, cols]
layout(std430, binding = 1) readonly buffer L { uint limits[]; };  // [m] last visible key
layout(std430, binding = 2) writeonly buffer M { float map[]; };   // [m, n_cap, bins]
layout(push_constant) uniform PC { AttnCaptureParams p; };

#include "common/reduce.glsl"

void main() {
  const uint item = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (item >= p.m * p.n_cap) return;  // uniform per workgroup
  const uint t = item / p.n_cap, tid = gl_LocalInvocationIndex, wg = gl_WorkGroupSize.x;
  const uint pq = p.pos0 + t;
  const uint lo = (p.window != 0u && pq + 1u > p.window) ? pq + 1u - p.window : 0u;
  const uint hi = p.has_limits != 0u ? limits[t] : pq;
  const uint row = item * p.cols;
  // Visible columns: [c_lo, c_hi] (the host made the capture range cover every visible key).
  const uint c_lo = lo - p.cap_lo, c_hi = hi - p.cap_lo;

  float mx = -3.0e38;
  for (uint c = c_lo + tid; c <= c_hi; c += wg) mx = max(mx, sc[row + c]);
  mx = workgroup_max(mx);
  float sum = 0.0;
  for (uint c = c_lo + tid; c <= c_hi; c += wg) sum += exp(sc[row + c] - mx);
  const float inv = 1.0 / workgroup_sum(sum);
  for (uint b = tid; b < p.bins; b += wg) {
    // Bin b covers columns [b * cols / bins, (b + 1) * cols / bins).
    const uint b0 = b * p.cols / p.bins, b1 = (b + 1u) * p.cols / p.bins;  // bins * cols < 2^32
    float acc = 0.0;
    for (uint c = max(b0, c_lo); c < min(b1, c_hi + 1u); ++c) acc += exp(sc[row + c] - mx);
    map[item * p.bins + b] = acc * inv;
  }
}
