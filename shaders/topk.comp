#version 450
// topk: one pass of the GPU top-k, so sampling reads k logits instead of the whole vocabulary.
// Each workgroup sorts a segment of S candidates in shared memory (bitonic; value descending,
// ties to the lower id, NaN as -inf) and writes its first k as (value bits, id) pairs; passes
// repeat on those until one segment is left. Shared memory, not registers: a register sort is
// miscompiled on one driver (plan.topk_shared_sort).
// Spec constants: 0 = WG, 1 = S (power of two, <= 2 * WG * 64).
//! variant -
//! variant values -DFIRST_PASS=1
#extension GL_GOOGLE_include_directive : require
#include "params.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint S = 1024;

#if defined(FIRST_PASS)
layout(std430, binding = 0) readonly buffer In { float vals[]; };  // [n] f32, ids = positions
#else
layout(std430, binding = 0) readonly buffer In { uvec2 pairs[]; };  // [n] (value bits, id)
#endif
layout(std430, binding = 1) writeonly buffer Out { uvec2 outp[]; };  // [segments * k]
layout(push_constant) uniform PC { TopkParams p; };

shared float sv[S];
shared uint si[S];

bool before(float va, uint ia, float vb, uint ib) { return va > vb || (va == vb && ia < ib); }

void main() {
  const uint seg = gl_WorkGroupID.x, tid = gl_LocalInvocationIndex, wg = gl_WorkGroupSize.x;
  const float neg_inf = uintBitsToFloat(0xff800000u);
  for (uint i = tid; i < S; i += wg) {
    const uint at = seg * S + i;
    float v = neg_inf;
    uint id = 0xffffffffu;  // padding sorts after every real candidate, -inf ones included
    if (at < p.n) {
#if defined(FIRST_PASS)
      v = vals[at];
      id = at;
#else
      v = uintBitsToFloat(pairs[at].x);
      id = pairs[at].y;
#endif
      if (isnan(v)) v = neg_inf;
    }
    sv[i] = v;
    si[i] = id;
  }
  for (uint size = 2u; size <= S; size <<= 1) {
    for (uint stride = size >> 1; stride > 0u; stride >>= 1) {
      barrier();
      for (uint t = tid; t < S / 2u; t += wg) {
        const uint i = 2u * stride * (t / stride) + t % stride, j = i + stride;
        const bool desc = (i & size) == 0u;  // this block sorts descending (the last one always)
        const float vi = sv[i], vj = sv[j];
        const uint ii = si[i], ij = si[j];
        if (desc == before(vj, ij, vi, ii)) {
          sv[i] = vj;
          sv[j] = vi;
          si[i] = ij;
          si[j] = ii;
        }
      }
    }
  }
  barrier();
  for (uint i = tid; i < p.k; i += wg) outp[seg * p.k + i] = uvec2(floatBitsToUint(sv[i]), si[i]);
}
