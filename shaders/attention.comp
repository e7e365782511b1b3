#version 450
// attention: the simple exact kernel (the flash-attention issue replaces it). One workgroup per
// (query row, head); keys in tiles of one per invocation with an online softmax (running max
// and sum), so no score row is kept: any context length fits. Scores and sums in fp32; K and V
// are read as f16 pairs from 32-bit words (no 16-bit storage needed). GQA: head h reads KV head
// h / (n_head / n_kv_head). Masks: causal, plus the sliding window when p.window != 0.
//! variant - -DSUBGROUP_REDUCE=1
//! variant shared
#extension GL_GOOGLE_include_directive : require
#include "params.h"

#define MAX_HEAD_DIM 1024u
#define DIMS_PER_THREAD 8u  // head_dim <= 8 * workgroup size (checked by the host)

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer Q { float q[]; };   // [m, n_head, head_dim] f32
layout(std430, binding = 1) readonly buffer K { uint kc[]; };   // [cells, n_kv_head * head_dim] f16
layout(std430, binding = 2) readonly buffer V { uint vc[]; };   // [cells, n_kv_head * head_dim] f16
layout(std430, binding = 3) writeonly buffer O { float o[]; };  // [m, n_head, head_dim] f32
layout(push_constant) uniform PC { AttentionParams p; };

#include "common/reduce.glsl"

shared float q_s[MAX_HEAD_DIM];
shared float p_s[256];

float v_at(uint half_index) {
  const vec2 v = unpackHalf2x16(vc[half_index >> 1]);
  return (half_index & 1u) == 0u ? v.x : v.y;
}

void main() {
  const uint qrow = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (qrow >= p.m * p.n_head) return;  // uniform per workgroup
  const uint tid = gl_LocalInvocationIndex, wg = gl_WorkGroupSize.x, hd = p.head_dim;
  const uint t = qrow / p.n_head, h = qrow % p.n_head;
  const uint kvh = h / (p.n_head / p.n_kv_head);
  const uint pq = p.pos0 + t;
  const uint lo = (p.window != 0u && pq + 1u > p.window) ? pq + 1u - p.window : 0u;
  const uint n_keys = pq - lo + 1u;
  const uint row_halves = p.n_kv_head * hd, head_half = kvh * hd;

  for (uint i = tid; i < hd; i += wg) q_s[i] = q[qrow * hd + i] * p.scale;
  barrier();

  float m_run = -3.0e38, l_run = 0.0;
  float acc[DIMS_PER_THREAD];
  for (uint j = 0u; j < DIMS_PER_THREAD; ++j) acc[j] = 0.0;

  for (uint base = 0u; base < n_keys; base += wg) {
    const uint kk = base + tid;
    float s = -3.0e38;
    if (kk < n_keys) {
      const uint w0 = (((lo + kk) % p.cells) * row_halves + head_half) >> 1;
      float d = 0.0;
      for (uint i = 0u; i < hd / 2u; ++i) {
        const vec2 k = unpackHalf2x16(kc[w0 + i]);
        d += q_s[2u * i] * k.x + q_s[2u * i + 1u] * k.y;
      }
      s = d;
    }
    const float m_new = max(m_run, workgroup_max(s));
    const float pr = kk < n_keys ? exp(s - m_new) : 0.0;
    p_s[tid] = pr;
    const float alpha = exp(m_run - m_new);
    l_run = l_run * alpha + workgroup_sum(pr);  // its barriers also publish p_s
    m_run = m_new;
    const uint cnt = min(wg, n_keys - base);
    for (uint j = 0u; j < DIMS_PER_THREAD; ++j) {
      const uint dim = tid + j * wg;
      if (dim >= hd) break;
      float a = acc[j] * alpha;
      for (uint x = 0u; x < cnt; ++x) a += p_s[x] * v_at(((lo + base + x) % p.cells) * row_halves + head_half + dim);
      acc[j] = a;
    }
    barrier();  // p_s is rewritten by the next tile
  }
  for (uint j = 0u; j < DIMS_PER_THREAD; ++j) {
    const uint dim = tid + j * wg;
    if (dim < hd) o[qrow * hd + dim] = acc[j] / l_run;
  }
}
