// Workgroup sum reduction. Variants: SUBGROUP_REDUCE (subgroupAdd, then one partial per
// subgroup in shared memory) or a shared-memory tree (devices without subgroup arithmetic).
// Correct for any real subgroup size; the workgroup size must be a power of two <= 256.
#ifndef TESSERA_REDUCE_GLSL
#define TESSERA_REDUCE_GLSL

#ifdef SUBGROUP_REDUCE
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

shared float reduce_buf[256];

float workgroup_sum(float v) {
  const uint tid = gl_LocalInvocationIndex;
#ifdef SUBGROUP_REDUCE
  const float s = subgroupAdd(v);
  if (subgroupElect()) reduce_buf[gl_SubgroupID] = s;
  barrier();
  float total = 0.0;
  for (uint i = 0u; i < gl_NumSubgroups; ++i) total += reduce_buf[i];
  barrier();
  return total;
#else
  reduce_buf[tid] = v;
  barrier();
  for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1) {
    if (tid < s) reduce_buf[tid] += reduce_buf[tid + s];
    barrier();
  }
  const float total = reduce_buf[0];
  barrier();
  return total;
#endif
}

// Workgroup maximum, same variants and requirements as workgroup_sum.
float workgroup_max(float v) {
  const uint tid = gl_LocalInvocationIndex;
#ifdef SUBGROUP_REDUCE
  const float s = subgroupMax(v);
  if (subgroupElect()) reduce_buf[gl_SubgroupID] = s;
  barrier();
  float total = reduce_buf[0];
  for (uint i = 1u; i < gl_NumSubgroups; ++i) total = max(total, reduce_buf[i]);
  barrier();
  return total;
#else
  reduce_buf[tid] = v;
  barrier();
  for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1) {
    if (tid < s) reduce_buf[tid] = max(reduce_buf[tid], reduce_buf[tid + s]);
    barrier();
  }
  const float total = reduce_buf[0];
  barrier();
  return total;
#endif
}

#endif
