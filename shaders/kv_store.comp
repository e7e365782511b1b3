#version 450
// kv_store: appends new K or V rows to a layer's cache: cache[(pos0 + t) % cells, :] = src[t, :].
// Sliding layers keep a ring of `cells` rows; global layers have cells = context.
// Variant -: f16, whole 32-bit words (two halves) per invocation, so no 16-bit storage is needed.
// Variant q8_0: one block of 32 values per invocation, quantised as Q8_0 (d = max|x| / 127,
// q = round(x / d), half away from zero) into the split layout of flash_attn: int8 quants
// [cells, width] (4 per word), then the f32 scales [cells, width / 32].
//! variant -
//! variant q8_0 -DQ8_0=1
#extension GL_GOOGLE_include_directive : require
#include "params.h"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer Src { float src[]; };  // [m, width] f32
layout(std430, binding = 1) writeonly buffer Dst { uint dst[]; };  // [cells, width] cache
layout(push_constant) uniform PC { KvStoreParams p; };

void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
#ifdef Q8_0
  const uint blocks = p.width / 32u;
  const uint total = p.m * blocks;
  const uint scale_base = p.cells * p.width / 4u;
  for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
    const uint t = i / blocks, b = i % blocks;
    const uint s0 = t * p.width + 32u * b;
    float amax = 0.0;
    for (uint j = 0u; j < 32u; ++j) amax = max(amax, abs(src[s0 + j]));
    const float d = amax / 127.0;
    const float id = d > 0.0 ? 1.0 / d : 0.0;
    const uint cell = (p.pos0 + t) % p.cells;
    const uint w0 = (cell * p.width + 32u * b) / 4u;
    for (uint w = 0u; w < 8u; ++w) {
      uint packed = 0u;
      for (uint j = 0u; j < 4u; ++j) {
        const float x = src[s0 + 4u * w + j] * id;
        const int qv = int(sign(x) * floor(abs(x) + 0.5));
        packed |= (uint(qv) & 0xffu) << (8u * j);
      }
      dst[w0 + w] = packed;
    }
    dst[scale_base + cell * blocks + b] = floatBitsToUint(d);
  }
#else
  const uint words = p.width / 2u;
  const uint total = p.m * words;
  for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
    const uint t = i / words, c = i % words;
    const uint cell = (p.pos0 + t) % p.cells;
    dst[cell * words + c] = packHalf2x16(vec2(src[t * p.width + 2u * c], src[t * p.width + 2u * c + 1u]));
  }
#endif
}
