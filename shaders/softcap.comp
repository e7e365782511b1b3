#version 450
// softcap: y = cap * tanh(x / cap) (Gemma's final logit soft-cap, cap = 30). May run in place.
#extension GL_GOOGLE_include_directive : require
#include "params.h"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform PC { SoftcapParams p; };

#include "common/math.glsl"

void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride)
    y[i] = p.cap * stable_tanh(x[i] / p.cap);
}
