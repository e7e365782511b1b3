#version 450
// patch_norm: the first step of the encoder-free vision embedder (spec §4.2-4.3) in one pass:
// merged patch p (patch_px x patch_px RGB pixels) is read straight out of the HWC image in the
// GGUF mmproj's CHW order (index c * px² + r * px + col) and LayerNorm'd with weight and bias.
// One workgroup per patch; mean and variance in two passes (pixels are close together, so the
// one-pass E[x²] - E[x]² would cancel).
//! variant - -DSUBGROUP_REDUCE=1
//! variant shared
#extension GL_GOOGLE_include_directive : require
#include "params.h"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer Img { float img[]; };  // [height, width, 3]
layout(std430, binding = 1) readonly buffer W { float w[]; };      // [3 * px²]
layout(std430, binding = 2) readonly buffer B { float b[]; };      // [3 * px²]
layout(std430, binding = 3) writeonly buffer Y { float y[]; };     // [patches, 3 * px²]
layout(push_constant) uniform PC { PatchNormParams p; };

#include "common/reduce.glsl"

float pixel(uint gx, uint gy, uint i) {
  const uint area = p.patch_px * p.patch_px;
  const uint c = i / area, r = (i % area) / p.patch_px, col = i % p.patch_px;
  return img[((gy * p.patch_px + r) * p.width + gx * p.patch_px + col) * 3u + c];
}

void main() {
  const uint pi = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (pi >= p.patches) return;  // uniform per workgroup
  const uint gx = pi % p.cols, gy = pi / p.cols;
  const uint n = 3u * p.patch_px * p.patch_px, yb = pi * n;
  float s = 0.0;
  for (uint i = gl_LocalInvocationIndex; i < n; i += gl_WorkGroupSize.x) s += pixel(gx, gy, i);
  const float mean = workgroup_sum(s) / float(n);
  float ss = 0.0;
  for (uint i = gl_LocalInvocationIndex; i < n; i += gl_WorkGroupSize.x) {
    const float d = pixel(gx, gy, i) - mean;
    ss += d * d;
  }
  const float r = inversesqrt(workgroup_sum(ss) / float(n) + p.eps);
  for (uint i = gl_LocalInvocationIndex; i < n; i += gl_WorkGroupSize.x)
    y[yb + i] = (pixel(gx, gy, i) - mean) * r * w[i] + b[i];
}
