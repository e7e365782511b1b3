#version 450
// kv_store: appends new K or V rows to a layer's cache as f16: cache[(pos0 + t) % cells, :] =
// f16(src[t, :]). Sliding layers keep a ring of `cells` rows; global layers have cells = context.
// Writes whole 32-bit words (two halves), so no 16-bit storage is needed.
#extension GL_GOOGLE_include_directive : require
#include "params.h"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer Src { float src[]; };  // [m, width] f32
layout(std430, binding = 1) writeonly buffer Dst { uint dst[]; };  // [cells, width] f16 pairs
layout(push_constant) uniform PC { KvStoreParams p; };

void main() {
  const uint words = p.width / 2u;
  const uint total = p.m * words;
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
    const uint t = i / words, c = i % words;
    const uint cell = (p.pos0 + t) % p.cells;
    dst[cell * words + c] = packHalf2x16(vec2(src[t * p.width + 2u * c], src[t * p.width + 2u * c + 1u]));
  }
}
