#version 450
// get_rows: embedding row gather with dequantization, out[t, :] = table[ids[t], :] * scale.
// The table may be one chunk of a tensor split across bindings (maxStorageBufferRange): only
// ids in [row_begin, row_begin + row_count) are written. Reads bytes from uint words, so no
// 8/16-bit storage is needed.
//! variant f32 -DDTYPE_F32=1
//! variant f16 -DDTYPE_F16=1
//! variant bf16 -DDTYPE_BF16=1
//! variant q4_0 -DDTYPE_Q4_0=1
//! variant q4_1 -DDTYPE_Q4_1=1
//! variant q5_0 -DDTYPE_Q5_0=1
//! variant q8_0 -DDTYPE_Q8_0=1
//! variant q4_k -DDTYPE_Q4_K=1
//! variant q5_k -DDTYPE_Q5_K=1
//! variant q6_k -DDTYPE_Q6_K=1
#extension GL_GOOGLE_include_directive : require
#include "params.h"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer Table { uint table[]; };
layout(std430, binding = 1) readonly buffer Ids { uint ids[]; };
layout(std430, binding = 2) writeonly buffer Out { float o[]; };
layout(push_constant) uniform PC { GetRowsParams p; };

#define WORDS table
#include "common/bytes.glsl"
#include "common/dequant.glsl"

void main() {
  const uint t = gl_WorkGroupID.y + gl_WorkGroupID.z * gl_NumWorkGroups.y;
  if (t >= p.m) return;
  const uint id = ids[t];
  if (id < p.row_begin || id - p.row_begin >= p.row_count) return;
  const uint row_base = (id - p.row_begin) * p.row_bytes;
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
    const uint blk = i / BLOCK_SIZE;
    o[t * p.n + i] = dequant(row_base + blk * BLOCK_BYTES, i % BLOCK_SIZE) * p.scale;
  }
}
