// The kernel plan and device profiles are pure functions of DeviceCaps: tested on hand-made
// snapshots, without a GPU.
#include <gtest/gtest.h>

#include "engine/ops/matmul.h"
#include "engine/plan.h"
#include "engine/profiles.h"
#include "engine/quirks.h"

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
  c.subgroup_arithmetic = c.subgroup_shuffle = c.subgroup_ballot = true;
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

TEST(DeviceProfiles, AllExistWithSources) {
  for (const char* name : {"adreno-x1-85", "adreno-x1-85-turnip", "intel-xe2", "amd-rdna3", "amd-rdna2-win",
                           "nvidia-ampere", "minimal"}) {
    const DeviceProfile* p = find_device_profile(name);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_FALSE(p->sources.empty()) << name << " has no cited source";
    EXPECT_FALSE(p->description.empty()) << name;
  }
  EXPECT_EQ(find_device_profile("no-such-gpu"), nullptr);
  EXPECT_EQ(device_profiles().size(), 7u);
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
      {"adreno-x1-85", 256, true},  {"adreno-x1-85-turnip", 256, true}, {"intel-xe2", 256, true},
      {"amd-rdna3", 256, true},     {"amd-rdna2-win", 256, true},       {"nvidia-ampere", 256, true},
      {"minimal", 128, false},
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

// Matmul variants: GPUs get lanes on adjacent weights for decode and shared-memory tiles for
// prefill; a CPU driver one row per SIMD lane for both; no ballot or subgroups under 8 fall back.
TEST(KernelPlan, MatmulVariantPerProfile) {
  for (const DeviceProfile& p : device_profiles()) {
    const KernelPlan plan = plan_kernels(apply_device_profile(lavapipe_caps(), p));
    EXPECT_EQ(plan.matvec, MatmulKernel::matvec) << p.name;
    EXPECT_EQ(plan.prefill, MatmulKernel::tiled) << p.name;  // every profile allows 128 invocations
    EXPECT_EQ(plan.matvec_max_rows, 16u) << p.name;
  }
  const KernelPlan lp = plan_kernels(lavapipe_caps());
  EXPECT_EQ(lp.matvec, MatmulKernel::matvec_lanes);
  EXPECT_EQ(lp.prefill, MatmulKernel::matvec_lanes);
  DeviceCaps c = lavapipe_caps();
  c.subgroup_ballot = false;
  EXPECT_FALSE(matvec_lanes_supported(c));
  EXPECT_EQ(plan_kernels(c).matvec, MatmulKernel::matvec);
  EXPECT_EQ(plan_kernels(c).prefill, MatmulKernel::tiled);
  c = lavapipe_caps();
  c.subgroup_size = 4;
  EXPECT_EQ(plan_kernels(c).matvec, MatmulKernel::matvec);
  c.max_workgroup_invocations = 64;
  EXPECT_EQ(plan_kernels(c).prefill, MatmulKernel::simple);
}

TEST(KernelPlan, MatmulKernelForShape) {
  const KernelPlan gpu = plan_kernels(apply_device_profile(lavapipe_caps(), *find_device_profile("amd-rdna3")));
  EXPECT_EQ(ops::matmul_kernel_for(gpu, 1, 3840), MatmulKernel::matvec);
  EXPECT_EQ(ops::matmul_kernel_for(gpu, 16, 3840), MatmulKernel::matvec);
  EXPECT_EQ(ops::matmul_kernel_for(gpu, 17, 3840), MatmulKernel::tiled);
  EXPECT_EQ(ops::matmul_kernel_for(gpu, 512, 3840), MatmulKernel::tiled);
  EXPECT_EQ(ops::matmul_kernel_for(gpu, 1, 33), MatmulKernel::simple);  // plain types with odd k
  EXPECT_STREQ(matmul_kernel_name(MatmulKernel::matvec_lanes), "matvec_lanes");
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

// ---- Driver quirks -------------------------------------------------------------------------

TEST(DriverQuirks, EachHasANameDevicesWorkaroundAndSource) {
  ASSERT_EQ(quirk_infos().size(), static_cast<std::size_t>(Quirk::count));
  for (std::size_t i = 0; i < quirk_infos().size(); ++i) {
    const QuirkInfo& q = quirk_infos()[i];
    EXPECT_EQ(static_cast<std::size_t>(q.quirk), i) << q.name;
    EXPECT_FALSE(q.devices.empty()) << q.name;
    EXPECT_FALSE(q.workaround.empty()) << q.name;
    EXPECT_NE(q.sources.find('#'), std::string_view::npos) << q.name << ": no issue or PR cited";
    ASSERT_TRUE(find_quirk(q.name).has_value()) << q.name;
    EXPECT_EQ(*find_quirk(q.name), q.quirk);
  }
  EXPECT_FALSE(find_quirk("no_such_quirk").has_value());
  EXPECT_EQ(quirk_names(QuirkSet{}), "");
  EXPECT_EQ(quirk_names(QuirkSet{}.add(Quirk::unpack8_miscompiled).add(Quirk::int_dot_unreliable)),
            "int_dot_unreliable, unpack8_miscompiled");
}

// VkDriverId values from the Vulkan specification.
constexpr std::uint32_t kDriverAmdProprietary = 1, kDriverRadv = 3, kDriverNvidia = 4, kDriverIntelWindows = 5,
                        kDriverIntelMesa = 6, kDriverQualcomm = 8, kDriverLlvmpipe = 13, kDriverTurnip = 18,
                        kDriverDozen = 23;

// A driver as vulkaninfo would describe it: vendor, driver id and the features detection reads.
DeviceCaps driver_caps(Vendor vendor, std::uint32_t driver) {
  DeviceCaps c = strong_caps();
  c.vendor = vendor;
  c.vendor_id = static_cast<std::uint32_t>(vendor);
  c.driver_id = driver;
  return c;
}

TEST(DriverQuirks, DetectedFromTheDriver) {
  using Q = Quirk;
  const auto set = [](std::initializer_list<Q> qs) {
    QuirkSet s;
    for (Q q : qs) s.add(q);
    return s;
  };
  struct Case {
    const char* what;
    DeviceCaps caps;
    QuirkSet want;
  };
  DeviceCaps amd_win_rdna2 = driver_caps(Vendor::AMD, kDriverAmdProprietary);
  amd_win_rdna2.cooperative_matrix = false;
  DeviceCaps radv_no_coopmat = driver_caps(Vendor::AMD, kDriverRadv);
  radv_no_coopmat.cooperative_matrix = false;
  DeviceCaps intel_no_size_control = driver_caps(Vendor::Intel, kDriverIntelMesa);
  intel_no_size_control.subgroup_size_control = false;
  const Case cases[] = {
      {"Adreno, Qualcomm driver", driver_caps(Vendor::Qualcomm, kDriverQualcomm),
       set({Q::int_dot_unreliable, Q::large_pipelines_fail, Q::shared_memory_overstated, Q::unpack8_miscompiled})},
      {"Adreno, turnip", driver_caps(Vendor::Qualcomm, kDriverTurnip),
       set({Q::shared_memory_overstated, Q::quantized_v_cache_hd256})},
      {"Adreno, Dozen", driver_caps(Vendor::Qualcomm, kDriverDozen),
       set({Q::shared_memory_overstated, Q::large_pipelines_fail})},
      {"Intel, Windows", driver_caps(Vendor::Intel, kDriverIntelWindows),
       set({Q::int_dot_unreliable, Q::uma_budget_overstated, Q::needs_explicit_subgroup_size})},
      {"Intel, ANV", driver_caps(Vendor::Intel, kDriverIntelMesa), set({Q::needs_explicit_subgroup_size})},
      {"Intel, ANV without size control", intel_no_size_control, set({})},
      {"AMD RDNA2, AMD Windows", amd_win_rdna2, set({Q::int_dot_unreliable})},
      {"AMD RDNA3, AMD Windows", driver_caps(Vendor::AMD, kDriverAmdProprietary), set({})},
      {"AMD RDNA3, RADV", driver_caps(Vendor::AMD, kDriverRadv), set({Q::coopmat_subgroup_multiple})},
      {"AMD RDNA2, RADV", radv_no_coopmat, set({})},
      {"NVIDIA", driver_caps(Vendor::NVIDIA, kDriverNvidia), set({Q::register_sort_miscompiled})},
      {"lavapipe", driver_caps(Vendor::Mesa, kDriverLlvmpipe), set({})},
  };
  for (const Case& c : cases)
    EXPECT_EQ(quirk_names(detect_quirks(c.caps)), quirk_names(c.want)) << c.what;
}

// Each quirk alone flips exactly the plan choice that works around it.
TEST(DriverQuirks, ThePlannerWorksAroundEach) {
  const DeviceCaps base = strong_caps();
  const KernelPlan clean = plan_kernels(base);
  ASSERT_TRUE(clean.integer_dot);
  ASSERT_TRUE(clean.large_tiles);
  ASSERT_TRUE(clean.attention_large);
  ASSERT_EQ(clean.shared_memory_budget, base.max_shared_memory);
  ASSERT_TRUE(clean.quantized_v_cache_hd256);
  ASSERT_EQ(clean.required_subgroup_size, 0u);
  ASSERT_EQ(clean.coopmat_workgroup_multiple, 1u);
  ASSERT_FALSE(clean.topk_shared_sort);
  for (const QuirkInfo& info : quirk_infos()) {
    DeviceCaps c = base;
    c.quirks.add(info.quirk);
    const KernelPlan p = plan_kernels(c);
    KernelPlan want = clean;
    switch (info.quirk) {
      case Quirk::int_dot_unreliable: want.integer_dot = false; break;
      case Quirk::large_pipelines_fail: want.large_tiles = want.attention_large = false; break;
      case Quirk::shared_memory_overstated: want.shared_memory_budget = 16384, want.attention_large = false; break;
      case Quirk::unpack8_miscompiled: break;  // a kernel policy, checked on the SPIR-V (test_engine)
      case Quirk::quantized_v_cache_hd256: want.quantized_v_cache_hd256 = false; break;
      case Quirk::needs_explicit_subgroup_size: want.required_subgroup_size = base.subgroup_size; break;
      case Quirk::uma_budget_overstated: break;  // the memory plan's (test_gguf MemoryPlan tests)
      case Quirk::coopmat_subgroup_multiple: want.coopmat_workgroup_multiple = base.subgroup_max; break;
      case Quirk::register_sort_miscompiled: want.topk_shared_sort = true; break;
      case Quirk::count: break;
    }
    EXPECT_EQ(p.integer_dot, want.integer_dot) << info.name;
    EXPECT_EQ(p.large_tiles, want.large_tiles) << info.name;
    EXPECT_EQ(p.attention_large, want.attention_large) << info.name;
    EXPECT_EQ(p.shared_memory_budget, want.shared_memory_budget) << info.name;
    EXPECT_EQ(p.quantized_v_cache_hd256, want.quantized_v_cache_hd256) << info.name;
    EXPECT_EQ(p.required_subgroup_size, want.required_subgroup_size) << info.name;
    EXPECT_EQ(p.coopmat_workgroup_multiple, want.coopmat_workgroup_multiple) << info.name;
    EXPECT_EQ(p.topk_shared_sort, want.topk_shared_sort) << info.name;
    EXPECT_EQ(p.elementwise_workgroup, clean.elementwise_workgroup) << info.name;
    EXPECT_EQ(p.subgroup_reduce, clean.subgroup_reduce) << info.name;
  }
}

// Under every profile (with its driver's quirks) the plan is one the device can run.
TEST(DriverQuirks, EveryProfilePlansAWorkingVariant) {
  for (const DeviceCaps& real : {lavapipe_caps(), strong_caps()}) {
    for (const DeviceProfile& prof : device_profiles()) {
      const DeviceCaps c = apply_device_profile(real, prof);
      EXPECT_EQ(c.quirks.bits & prof.quirks.bits, prof.quirks.bits) << prof.name;
      const KernelPlan p = plan_kernels(c);
      EXPECT_LE(p.shared_memory_budget, c.max_shared_memory) << prof.name;
      if (c.quirks.has(Quirk::shared_memory_overstated)) {
        EXPECT_LE(p.shared_memory_budget, 16384u) << prof.name;
      }
      if (p.integer_dot) {
        EXPECT_TRUE(c.integer_dot_product && c.integer_dot_4x8_accelerated) << prof.name;
        EXPECT_FALSE(c.quirks.has(Quirk::int_dot_unreliable)) << prof.name;
      }
      if (p.required_subgroup_size != 0) {
        EXPECT_TRUE(c.subgroup_size_control) << prof.name;
        EXPECT_GE(p.required_subgroup_size, c.subgroup_min) << prof.name;
        EXPECT_LE(p.required_subgroup_size, c.subgroup_max) << prof.name;
      }
      EXPECT_EQ(p.elementwise_workgroup % p.coopmat_workgroup_multiple, 0u) << prof.name;
      EXPECT_EQ(p.large_tiles, !c.quirks.has(Quirk::large_pipelines_fail)) << prof.name;
      EXPECT_EQ(p.quantized_v_cache_hd256, !c.quirks.has(Quirk::quantized_v_cache_hd256)) << prof.name;
      // CPU drivers take the LANES attention exactly where they take the lanes matvec.
      EXPECT_EQ(p.attention_lanes, p.matvec == MatmulKernel::matvec_lanes) << prof.name;
      // flash_attn's large tiles (25 KiB of shared memory) only where the budget holds them.
      if (p.attention_large) {
        EXPECT_GE(p.shared_memory_budget, 26u * 1024) << prof.name;
      }
    }
  }
  // The Windows Adreno profile turns off what its driver gets wrong even on a device that has it all.
  const KernelPlan adreno = plan_kernels(apply_device_profile(strong_caps(), *find_device_profile("adreno-x1-85")));
  EXPECT_FALSE(adreno.integer_dot);
  EXPECT_FALSE(adreno.large_tiles);
  EXPECT_EQ(adreno.shared_memory_budget, 16384u);
  EXPECT_FALSE(adreno.attention_large);
  EXPECT_FALSE(plan_kernels(apply_device_profile(strong_caps(), *find_device_profile("minimal"))).attention_large);
  EXPECT_TRUE(plan_kernels(apply_device_profile(strong_caps(), *find_device_profile("nvidia-ampere"))).attention_large);
  const KernelPlan xe2 = plan_kernels(apply_device_profile(strong_caps(), *find_device_profile("intel-xe2")));
  EXPECT_FALSE(xe2.integer_dot);
  EXPECT_EQ(xe2.required_subgroup_size, 32u);
  const KernelPlan rdna3 = plan_kernels(apply_device_profile(strong_caps(), *find_device_profile("amd-rdna3")));
  EXPECT_TRUE(rdna3.integer_dot);
  EXPECT_EQ(rdna3.coopmat_workgroup_multiple, 64u);
  EXPECT_FALSE(plan_kernels(apply_device_profile(strong_caps(), *find_device_profile("amd-rdna2-win"))).integer_dot);
  EXPECT_FALSE(
      plan_kernels(apply_device_profile(strong_caps(), *find_device_profile("adreno-x1-85-turnip"))).quantized_v_cache_hd256);
}

}  // namespace
}  // namespace tessera
