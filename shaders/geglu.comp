#version 450
// geglu: out = gelu_tanh(gate) * up, the Gemma FFN activation (gelu_pytorch_tanh).
// Strided rows so gate and up may be two halves of one fused gate+up projection output.
#extension GL_GOOGLE_include_directive : require
#include "params.h"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer G { float gate[]; };
layout(std430, binding = 1) readonly buffer U { float up[]; };
layout(std430, binding = 2) writeonly buffer O { float o[]; };
layout(push_constant) uniform PC { GegluParams p; };

#include "common/math.glsl"

void main() {
  const uint total = p.n * p.rows;
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint idx = gl_GlobalInvocationID.x; idx < total; idx += stride) {
    const uint r = idx / p.n, i = idx % p.n;
    const float g = gate[r * p.gate_stride + i];
    o[r * p.out_stride + i] = gelu_tanh(g) * up[p.up_offset + r * p.up_stride + i];
  }
}
