#version 450
// fill: writes one 32-bit pattern to every element of a buffer (zeroing scratch, test setup).
// Variants: none. 1-D grid; covers n elements with gl_NumWorkGroups.x * 256 threads per pass.
#extension GL_GOOGLE_include_directive : require
#include "params.h"

layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer Dst { uint dst[]; };
layout(push_constant) uniform PC { FillParams p; };

void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) dst[i] = p.value_bits;
}
