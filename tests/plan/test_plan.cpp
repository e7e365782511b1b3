// The kernel plan and device profiles are pure functions of DeviceCaps: tested on hand-made
// snapshots, without a GPU.
#include <gtest/gtest.h>

#include "engine/plan.h"
#include "engine/profiles.h"

namespace tessera {
namespace {

// lavapipe on Mesa 25 as vulkaninfo reports it.
DeviceCaps lavapipe_caps() {
  DeviceCaps c;
  c.name = "llvmpipe (LLVM 15.0.6, 256 bits)";
  c.vendor = Vendor::Mesa;
  c.type = DeviceType::Cpu;
  c.subgroup_size = c.subgroup_min = c.subgroup_max = 8;
  c.subgroup_size_control = c.compute_full_subgroups = true;
  c.subgroup_arithmetic = c.subgroup_shuffle = true;
  c.fp16_arithmetic = c.int8_arithmetic = c.storage_16bit = c.storage_8bit = true;
  c.integer_dot_product = true;
  c.max_shared_memory = 32768;
  c.max_workgroup_invocations = 1024;
  c.max_workgroup_size[0] = c.max_workgroup_size[1] = c.max_workgroup_size[2] = 1024;
  c.max_workgroup_count[0] = c.max_workgroup_count[1] = c.max_workgroup_count[2] = 65535;
  c.max_storage_buffer_range = 128ull << 20;
  c.max_memory_allocation = 2ull << 30;
  return c;
}

// A strong discrete GPU with everything, to see what each profile takes away.
DeviceCaps strong_caps() {
  DeviceCaps c = lavapipe_caps();
  c.subgroup_size = 32;
  c.subgroup_min = 16;
  c.subgroup_max = 64;
  c.subgroup_clustered = true;
  c.integer_dot_4x8_accelerated = true;
  c.cooperative_matrix = true;
  c.coopmat_shapes = {{16, 16, 16, "f16", "f32"}};
  c.bfloat16 = true;
  c.max_shared_memory = 98304;
  c.max_storage_buffer_range = 4ull << 30;
  c.max_memory_allocation = 8ull << 30;
  return c;
}

TEST(DeviceProfiles, AllFiveExistWithSources) {
  for (const char* name : {"adreno-x1-85", "intel-xe2", "amd-rdna3", "nvidia-ampere", "minimal"}) {
    const DeviceProfile* p = find_device_profile(name);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_FALSE(p->sources.empty()) << name << " has no cited source";
    EXPECT_FALSE(p->description.empty()) << name;
  }
  EXPECT_EQ(find_device_profile("no-such-gpu"), nullptr);
  EXPECT_EQ(device_profiles().size(), 5u);
}

TEST(DeviceProfiles, OnlyTakeAwayFeaturesAndLimits) {
  const DeviceCaps real = lavapipe_caps();
  for (const DeviceProfile& p : device_profiles()) {
    const DeviceCaps c = apply_device_profile(real, p);
    EXPECT_EQ(c.profile, p.name);
    EXPECT_LE(c.fp16_arithmetic, real.fp16_arithmetic) << p.name;
    EXPECT_LE(c.storage_8bit, real.storage_8bit) << p.name;
    EXPECT_LE(c.cooperative_matrix, real.cooperative_matrix) << p.name;
    EXPECT_LE(c.max_shared_memory, real.max_shared_memory) << p.name;
    EXPECT_LE(c.max_storage_buffer_range, real.max_storage_buffer_range) << p.name;
    EXPECT_LE(c.max_memory_allocation, real.max_memory_allocation) << p.name;
    EXPECT_LE(c.max_workgroup_invocations, real.max_workgroup_invocations) << p.name;
  }
}

TEST(DeviceProfiles, AdrenoPlansWideSubgroupsAndMasksIntDot) {
  const DeviceCaps c = apply_device_profile(strong_caps(), *find_device_profile("adreno-x1-85"));
  EXPECT_EQ(c.subgroup_size, 64u);
  EXPECT_EQ(c.subgroup_max, 128u);
  EXPECT_EQ(c.max_shared_memory, 32768u);
  EXPECT_FALSE(c.integer_dot_product);
  EXPECT_FALSE(c.integer_dot_4x8_accelerated);
  EXPECT_FALSE(c.cooperative_matrix);
  EXPECT_TRUE(c.coopmat_shapes.empty());
  EXPECT_FALSE(c.bfloat16);
  EXPECT_TRUE(c.fp16_arithmetic);
}

TEST(DeviceProfiles, MinimalTurnsEverythingOff) {
  const DeviceCaps c = apply_device_profile(strong_caps(), *find_device_profile("minimal"));
  EXPECT_FALSE(c.fp16_arithmetic);
  EXPECT_FALSE(c.int8_arithmetic);
  EXPECT_FALSE(c.storage_16bit);
  EXPECT_FALSE(c.storage_8bit);
  EXPECT_FALSE(c.integer_dot_product);
  EXPECT_FALSE(c.subgroup_arithmetic);
  EXPECT_FALSE(c.subgroup_size_control);
  EXPECT_EQ(c.max_shared_memory, 16384u);
  EXPECT_EQ(c.max_workgroup_invocations, 128u);
  EXPECT_EQ(c.max_workgroup_size[0], 128u);
  EXPECT_EQ(c.max_storage_buffer_range, 128ull << 20);
  EXPECT_EQ(c.max_memory_allocation, 1ull << 30);
}

TEST(KernelPlan, EachProfileGetsAWorkingVariant) {
  struct Want {
    const char* profile;
    std::uint32_t workgroup;
    bool subgroup_reduce;
  };
  const Want wants[] = {
      {"adreno-x1-85", 256, true}, {"intel-xe2", 256, true},  {"amd-rdna3", 256, true},
      {"nvidia-ampere", 256, true}, {"minimal", 128, false},
  };
  for (const Want& w : wants) {
    const KernelPlan plan = plan_kernels(apply_device_profile(lavapipe_caps(), *find_device_profile(w.profile)));
    EXPECT_EQ(plan.elementwise_workgroup, w.workgroup) << w.profile;
    EXPECT_EQ(plan.reduce_workgroup, w.workgroup) << w.profile;
    EXPECT_EQ(plan.subgroup_reduce, w.subgroup_reduce) << w.profile;
  }
  const KernelPlan lp = plan_kernels(lavapipe_caps());
  EXPECT_EQ(lp.elementwise_workgroup, 256u);
  EXPECT_TRUE(lp.subgroup_reduce);
}

TEST(KernelPlan, WorkgroupIsAPowerOfTwoWithinTheLimit) {
  DeviceCaps c = lavapipe_caps();
  c.max_workgroup_invocations = 192;
  c.max_workgroup_size[0] = 192;
  const KernelPlan plan = plan_kernels(c);
  EXPECT_EQ(plan.elementwise_workgroup, 128u);
  EXPECT_EQ(plan.reduce_workgroup, 128u);
  c.max_workgroup_count[0] = 1000;
  EXPECT_EQ(plan_kernels(c).max_groups_x, 1000u);
}

}  // namespace
}  // namespace tessera
