#version 450
// flash_attn: tiled attention with an online softmax (no score matrix in memory), for prefill
// (many query rows) and decode (1-16 rows, split-K across the keys). One workgroup takes a tile
// of R query rows that share one KV head (GQA: rows are (token, head-in-group) pairs), and one of
// n_split slices of the keys those rows can see; keys go in tiles of WG, one key per invocation
// for the scores (K read once per workgroup), then one group of 4 output dims per invocation for
// P.V (V read once per workgroup; heads narrower than 4 * WG split the tile's keys among groups
// of invocations, summed at the end). Scores, softmax and sums in fp32 (the spec: unscaled 256/512
// wide heads need fp32 accumulation).
//
// Masks: key position pk is visible to query row t (position pq = pos0 + t) iff
//   lo(t) <= pk <= hi(t), lo = window ? max(0, pq + 1 - window) : 0,
//   hi = has_limits ? limits[t] : pq      (causal; limits extend it over a bidirectional block).
// Keys live in a ring: position pk in cell pk % cells.
//
// KV types (spec constant KV_TYPE): 0 = f16 pairs in 32-bit words; 1 = Q8_0 split layout: the
// int8 quants of all cells, [cells, width] (4 per word), then one f32 scale per 32 values,
// [cells, width / 32]. A cache larger than one binding comes as two chunks (bindings 1 and 7 for K,
// 2 and 8 for V). n_split == 1 writes O; otherwise unnormalised partial O and (max, sum) per row
// and split for flash_attn_reduce. CAPTURE (spec constant) also writes each visible scaled
// score of the heads in cap_heads to the capture buffer (attn_capture turns them into maps).
// LANES variants (CPU drivers, whose invocations are SIMD lanes): a load of one address in every
// lane is a gather there, so the query values (scores) and probabilities (P.V) are loaded 8 at a
// time, one per lane, and broadcast with subgroupBroadcast. Needs subgroups of 8 or more, head dim
// a multiple of 4 x subgroup size (each subgroup within one key group); the host checks.
//! variant - -DWG=128 -DR_MAX=16 -DQ_SHARED=4096
//! variant small -DWG=64 -DR_MAX=8 -DQ_SHARED=2048
//! variant lanes -DWG=128 -DR_MAX=16 -DQ_SHARED=4096 -DLANES=1
//! variant small_lanes -DWG=64 -DR_MAX=8 -DQ_SHARED=2048 -DLANES=1
#extension GL_GOOGLE_include_directive : require
#ifdef LANES
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require
#endif
#include "params.h"

#define NQ (512u / (4u * WG))  // groups of 4 output dims per invocation (head dim <= 512)
#define NEG (-3.0e38)          // a masked score

layout(local_size_x = WG) in;
layout(constant_id = 0) const uint KV_TYPE = 0u;
layout(constant_id = 1) const uint CAPTURE = 0u;
layout(constant_id = 2) const uint R = R_MAX;  // query rows per workgroup (<= R_MAX)

layout(std430, binding = 0) readonly buffer Q { float q[]; };      // [m, n_head, head_dim]
layout(std430, binding = 1) readonly buffer K { uint kc[]; };      // cache, see above
layout(std430, binding = 2) readonly buffer V { uint vc[]; };      // cache, see above
layout(std430, binding = 3) writeonly buffer O { float o[]; };     // [m, n_head, head_dim]
layout(std430, binding = 4) readonly buffer L { uint limits[]; };  // [m] last visible key
layout(std430, binding = 5) writeonly buffer P { float part[]; };  // [n_split, m * n_head, head_dim + 2]
layout(std430, binding = 6) writeonly buffer C { float cap[]; };   // [m, popcount(cap_heads), cap_cols]
layout(std430, binding = 7) readonly buffer K1 { uint kc1[]; };    // cells chunk_cells.. of K, if any
layout(std430, binding = 8) readonly buffer V1 { uint vc1[]; };    // cells chunk_cells.. of V, if any
layout(push_constant) uniform PC { FlashAttnParams p; };

shared float q_s[Q_SHARED];     // [R, head_dim], pre-scaled
shared float s_s[R_MAX * WG];   // [R, WG] scores, then probabilities, of one key tile
shared float m_s[R_MAX];        // running max per row
shared float l_s[R_MAX];        // running sum per row
shared float a_s[R_MAX];        // rescale of the accumulators for this tile
shared uint lo_s[R_MAX], hi_s[R_MAX];

vec4 int8x4(int w) {
  return vec4(bitfieldExtract(w, 0, 8), bitfieldExtract(w, 8, 8), bitfieldExtract(w, 16, 8), bitfieldExtract(w, 24, 8));
}

uint cache_word(bool is_k, uint chunk, uint i) {
  if (is_k) return chunk == 0u ? kc[i] : kc1[i];
  return chunk == 0u ? vc[i] : vc1[i];
}

// 4 consecutive values, from dim `off` (a multiple of 4) of cache row `cell`. A cache too large for
// one binding is two chunks of chunk_cells rows, each laid out as a cache of chunk_cells rows.
vec4 load4(bool is_k, uint cell, uint off) {
  const uint width = p.n_kv_head * p.head_dim;
  const uint chunk = cell >= p.chunk_cells ? 1u : 0u;
  const uint e = (cell - chunk * p.chunk_cells) * width + off;
  if (KV_TYPE == 0u) {
    const uint w = e >> 1;
    return vec4(unpackHalf2x16(cache_word(is_k, chunk, w)), unpackHalf2x16(cache_word(is_k, chunk, w + 1u)));
  }
  const uint scale_base = p.chunk_cells * width / 4u;  // Q8_0: word index of the chunk's first scale
  const float d = uintBitsToFloat(cache_word(is_k, chunk, scale_base + (e >> 5)));
  return d * vec4(int8x4(int(cache_word(is_k, chunk, e >> 2))));
}

void main() {
  const uint tid = gl_LocalInvocationIndex, hd = p.head_dim;
  const uint group = p.n_head / p.n_kv_head, kvh = gl_WorkGroupID.y, split = gl_WorkGroupID.z;
  const uint rows = p.m * group;           // query rows of this KV head
  const uint r0 = gl_WorkGroupID.x * R;    // first row of the tile

  if (tid < R) {
    uint lo = 0xffffffffu, hi = 0u;  // an empty range for rows past the end
    if (r0 + tid < rows) {
      const uint t = (r0 + tid) / group, pq = p.pos0 + t;
      lo = (p.window != 0u && pq + 1u > p.window) ? pq + 1u - p.window : 0u;
      hi = p.has_limits != 0u ? limits[t] : pq;
    }
    lo_s[tid] = lo;
    hi_s[tid] = hi;
    m_s[tid] = NEG;
    l_s[tid] = 0.0;
  }
  for (uint i = tid; i < R * hd; i += WG) {
    const uint r = i / hd, rg = r0 + r;
    float v = 0.0;
    if (rg < rows) v = q[(((rg / group) * p.n_head) + kvh * group + rg % group) * hd + i % hd] * p.scale;
    q_s[i] = v;
  }
  barrier();

  // The keys this workgroup handles: its split of the union of its rows' ranges.
  uint lo = 0xffffffffu, hi = 0u;
  for (uint r = 0u; r < R; ++r) {
    if (r0 + r < rows) {
      lo = min(lo, lo_s[r]);
      hi = max(hi, hi_s[r]);
    }
  }
  const uint span = hi + 1u - lo;
  const uint chunk = (span + p.n_split - 1u) / p.n_split;
  const uint k_begin = lo + split * chunk, k_end = min(hi + 1u, k_begin + chunk);

  // P.V layout: dim quads of the head, and key groups sharing them (see the P.V loop).
  const uint quads = hd / 4u;
  const uint groups = quads >= WG ? 1u : WG / quads;
  const uint g = tid / quads, qd = tid % quads;
  float acc[R_MAX * NQ * 4u];
  for (uint i = 0u; i < R_MAX * NQ * 4u; ++i) acc[i] = 0.0;
  const uint cap_n = bitCount(p.cap_heads);

  for (uint base = k_begin; base < k_end; base += WG) {
    // Scores: invocation tid takes key base + tid against every row of the tile.
    const uint pk = base + tid;
    float sc[R_MAX];
    for (uint r = 0u; r < R_MAX; ++r) sc[r] = 0.0;
#ifdef LANES
    {  // every lane runs the loop (broadcasts need them all); a key past k_end reads some cell
      const uint cell = pk % p.cells, lane = gl_SubgroupInvocationID & 7u;
      for (uint i0 = 0u; i0 < hd; i0 += 32u) {
        vec4 qb[R_MAX];  // lane l: dims i0 + 4l .. + 3 of every row
        for (uint r = 0u; r < R; ++r) {
          const uint qi = r * hd + i0 + 4u * lane;
          qb[r] = vec4(q_s[qi], q_s[qi + 1u], q_s[qi + 2u], q_s[qi + 3u]);
        }
#define TESSERA_QUAD(QX)                                           \
  {                                                                \
    const vec4 k = load4(true, cell, kvh * hd + i0 + 4u * QX);     \
    for (uint r = 0u; r < R; ++r) sc[r] += dot(k, subgroupBroadcast(qb[r], QX)); \
  }
        TESSERA_QUAD(0u) TESSERA_QUAD(1u) TESSERA_QUAD(2u) TESSERA_QUAD(3u)
        TESSERA_QUAD(4u) TESSERA_QUAD(5u) TESSERA_QUAD(6u) TESSERA_QUAD(7u)
#undef TESSERA_QUAD
      }
    }
#else
    if (pk < k_end) {
      const uint cell = pk % p.cells;
      for (uint i = 0u; i < hd; i += 4u) {
        const vec4 k = load4(true, cell, kvh * hd + i);
        for (uint r = 0u; r < R; ++r) {
          const uint qi = r * hd + i;
          sc[r] += q_s[qi] * k.x + q_s[qi + 1u] * k.y + q_s[qi + 2u] * k.z + q_s[qi + 3u] * k.w;
        }
      }
    }
#endif
    for (uint r = 0u; r < R; ++r) {
      const bool visible = pk < k_end && pk >= lo_s[r] && pk <= hi_s[r];
      s_s[r * WG + tid] = visible ? sc[r] : NEG;
      if (CAPTURE != 0u && visible) {
        const uint rg = r0 + r, h = kvh * group + rg % group;
        if ((p.cap_heads & (1u << h)) != 0u) {
          const uint ci = bitCount(p.cap_heads & ((1u << h) - 1u));
          cap[((rg / group) * cap_n + ci) * p.cap_cols + (pk - p.cap_lo)] = sc[r];
        }
      }
    }
    barrier();
    // Online softmax: the new running max of each row, and how much the old sums shrink.
    if (tid < R) {
      const float m_old = m_s[tid];
      float mx = m_old;
      for (uint c = 0u; c < WG; ++c) mx = max(mx, s_s[tid * WG + c]);
      a_s[tid] = exp(m_old - mx);
      m_s[tid] = mx;
    }
    barrier();
    for (uint r = 0u; r < R; ++r) {
      const float s = s_s[r * WG + tid];
      s_s[r * WG + tid] = s == NEG ? 0.0 : exp(s - m_s[r]);
    }
    barrier();
    if (tid < R) {
      float sum = 0.0;
      for (uint c = 0u; c < WG; ++c) sum += s_s[tid * WG + c];
      l_s[tid] = l_s[tid] * a_s[tid] + sum;
    }
    // P.V: invocation tid owns output dims d = 4 * (qd + j * WG) .. + 3 of every row, for the keys
    // c = g, g + groups, ... of the tile (several key groups when the head has fewer dim quads
    // than the workgroup has invocations: no idle invocations at head dim 256).
    const uint cnt = min(WG, k_end - base);
    if (g < groups) {
      for (uint j = 0u; j < NQ; ++j) {
        const uint d = 4u * (qd + j * WG);
        if (d >= hd) break;
        for (uint r = 0u; r < R; ++r) {
          const uint ai = (r * NQ + j) * 4u;
          const float a = a_s[r];
          acc[ai] *= a;
          acc[ai + 1u] *= a;
          acc[ai + 2u] *= a;
          acc[ai + 3u] *= a;
        }
#ifdef LANES
        // Blocks of 8 keys (8b .. 8b + 7, b = g, g + groups, ...): lane l loads key 8b + l's
        // probabilities, broadcast key by key.
        const uint lane = gl_SubgroupInvocationID & 7u;
        for (uint c0 = 8u * g; c0 < cnt; c0 += 8u * groups) {
          float pb[R_MAX];
          for (uint r = 0u; r < R; ++r) pb[r] = s_s[r * WG + c0 + lane];
          // Keys past cnt are skipped (uniformly): unwritten cells may hold NaN.
#define TESSERA_KEY(KX)                                                        \
  if (c0 + KX < cnt) {                                                       \
    const vec4 v = load4(false, (base + c0 + KX) % p.cells, kvh * hd + d);   \
    for (uint r = 0u; r < R; ++r) {                                          \
      const uint ai = (r * NQ + j) * 4u;                                     \
      const float pr = subgroupBroadcast(pb[r], KX);                         \
      acc[ai] += pr * v.x;                                                   \
      acc[ai + 1u] += pr * v.y;                                              \
      acc[ai + 2u] += pr * v.z;                                              \
      acc[ai + 3u] += pr * v.w;                                              \
    }                                                                        \
  }
          TESSERA_KEY(0u) TESSERA_KEY(1u) TESSERA_KEY(2u) TESSERA_KEY(3u)
          TESSERA_KEY(4u) TESSERA_KEY(5u) TESSERA_KEY(6u) TESSERA_KEY(7u)
#undef TESSERA_KEY
        }
#else
        for (uint c = g; c < cnt; c += groups) {
          const vec4 v = load4(false, (base + c) % p.cells, kvh * hd + d);
          for (uint r = 0u; r < R; ++r) {
            const uint ai = (r * NQ + j) * 4u;
            const float pr = s_s[r * WG + c];
            acc[ai] += pr * v.x;
            acc[ai + 1u] += pr * v.y;
            acc[ai + 2u] += pr * v.z;
            acc[ai + 3u] += pr * v.w;
          }
        }
#endif
      }
    }
    barrier();  // s_s, a_s and l_s are rewritten by the next tile
  }

  // Key groups 1.. add their accumulators into group 0's, one group at a time through q_s (free now:
  // R * head_dim floats, one group's share).
  for (uint gg = 1u; gg < groups; ++gg) {
    barrier();
    if (g == gg) {
      for (uint r = 0u; r < R; ++r)
        for (uint x = 0u; x < 4u; ++x) q_s[r * hd + 4u * qd + x] = acc[r * NQ * 4u + x];
    }
    barrier();
    if (g == 0u) {
      for (uint r = 0u; r < R; ++r)
        for (uint x = 0u; x < 4u; ++x) acc[r * NQ * 4u + x] += q_s[r * hd + 4u * qd + x];
    }
  }
  if (g != 0u) return;

  for (uint r = 0u; r < R; ++r) {
    const uint rg = r0 + r;
    if (rg >= rows) break;
    const uint orow = (rg / group) * p.n_head + kvh * group + rg % group;
    const float l = l_s[r];
    for (uint j = 0u; j < NQ; ++j) {
      const uint d = 4u * (qd + j * WG);
      if (d >= hd) break;
      const uint ai = (r * NQ + j) * 4u;
      if (p.n_split == 1u) {
        const float inv = l > 0.0 ? 1.0 / l : 0.0;
        for (uint x = 0u; x < 4u; ++x) o[orow * hd + d + x] = acc[ai + x] * inv;
      } else {
        const uint pb = (split * p.m * p.n_head + orow) * (hd + 2u);
        for (uint x = 0u; x < 4u; ++x) part[pb + d + x] = acc[ai + x];
      }
    }
    if (p.n_split != 1u && tid == 0u) {
      const uint pb = (split * p.m * p.n_head + orow) * (hd + 2u);
      part[pb + hd] = m_s[r];
      part[pb + hd + 1u] = l;
    }
  }
}
