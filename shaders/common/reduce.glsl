// Workgroup sum / max reductions. Variants: SUBGROUP_REDUCE (subgroup arithmetic, then one
// partial per subgroup in shared memory) or a shared-memory tree (devices without subgroup
// arithmetic). Correct for any real subgroup size; the workgroup size must be a power of two <= 256.
#ifndef TESSERA_REDUCE_GLSL
#define TESSERA_REDUCE_GLSL

#ifdef SUBGROUP_REDUCE
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

shared float reduce_buf[256];

float reduce_combine(float a, float b, bool take_max) { return take_max ? max(a, b) : a + b; }

// take_max is a constant at every call site, so the compiler folds the branches away.
float workgroup_reduce(float v, bool take_max) {
  const uint tid = gl_LocalInvocationIndex;
#ifdef SUBGROUP_REDUCE
  const float s = take_max ? subgroupMax(v) : subgroupAdd(v);
  if (subgroupElect()) reduce_buf[gl_SubgroupID] = s;
  barrier();
  float total = reduce_buf[0];
  for (uint i = 1u; i < gl_NumSubgroups; ++i) total = reduce_combine(total, reduce_buf[i], take_max);
  barrier();
  return total;
#else
  reduce_buf[tid] = v;
  barrier();
  for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1) {
    if (tid < s) reduce_buf[tid] = reduce_combine(reduce_buf[tid], reduce_buf[tid + s], take_max);
    barrier();
  }
  const float total = reduce_buf[0];
  barrier();
  return total;
#endif
}

float workgroup_sum(float v) { return workgroup_reduce(v, false); }
float workgroup_max(float v) { return workgroup_reduce(v, true); }

#endif
