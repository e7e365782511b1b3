#version 450
// elementwise: out = a + b, out = a * b (b broadcast: b[i % b_n]), or out = a * scale.
//! variant add -DOP_ADD=1
//! variant mul -DOP_MUL=1
//! variant scale -DOP_SCALE=1
#extension GL_GOOGLE_include_directive : require
#include "params.h"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer Out { float o[]; };
layout(push_constant) uniform PC { ElementwiseParams p; };

void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
#if defined(OP_ADD)
    o[i] = a[i] + b[i % p.b_n];
#elif defined(OP_MUL)
    o[i] = a[i] * b[i % p.b_n];
#else
    o[i] = a[i] * p.scale;
#endif
  }
}
