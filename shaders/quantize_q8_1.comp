#version 450
// quantize_q8_1: f32 activations to Q8_1 blocks for the integer-dot kernels. Per 32 elements:
// d = max|x| / 127, q = round(x / d) as int8 (packed 4 per word), s = d * sum(q). Block layout
// (10 words): q[8] | d f32 | s f32. One invocation per block, grid-stride.
#extension GL_GOOGLE_include_directive : require
#include "params.h"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { vec4 x4[]; };   // [blocks * 8] f32 quads
layout(std430, binding = 1) writeonly buffer Q { uint q[]; };   // [blocks * 10] words
layout(push_constant) uniform PC { ElementwiseParams p; };     // n = number of blocks

void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint b = gl_GlobalInvocationID.x; b < p.n; b += stride) {
    vec4 v[8];
    float amax = 0.0;
    for (uint i = 0u; i < 8u; ++i) {
      v[i] = x4[b * 8u + i];
      const vec4 a = abs(v[i]);
      amax = max(amax, max(max(a.x, a.y), max(a.z, a.w)));
    }
    const float d = amax / 127.0;
    const float inv = d > 0.0 ? 1.0 / d : 0.0;
    int sum = 0;
    for (uint i = 0u; i < 8u; ++i) {
      const ivec4 n = clamp(ivec4(round(v[i] * inv)), -127, 127);
      sum += n.x + n.y + n.z + n.w;
      q[b * 10u + i] = (uint(n.x) & 0xffu) | ((uint(n.y) & 0xffu) << 8) | ((uint(n.z) & 0xffu) << 16) | (uint(n.w) << 24);
    }
    q[b * 10u + 8u] = floatBitsToUint(d);
    q[b * 10u + 9u] = floatBitsToUint(d * float(sum));
  }
}
