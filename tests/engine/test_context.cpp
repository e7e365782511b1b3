// Context creation, caps sanity (exact values on lavapipe), device selection by index and name,
// profile masking and the errors for bad selectors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "engine/device.h"
#include "engine/profiles.h"
#include "tests/common/gpu_test.h"

namespace tessera {
namespace {

class ContextTest : public GpuTest {};

bool is_lavapipe(const DeviceCaps& c) { return c.driver_name == "llvmpipe" || c.name.rfind("llvmpipe", 0) == 0; }

TEST_F(ContextTest, CapsAreSane) {
  const DeviceCaps& c = ctx().real_caps();
  EXPECT_FALSE(c.name.empty());
  EXPECT_GE(c.api_version, VK_API_VERSION_1_1);
  EXPECT_GT(c.subgroup_size, 0u);
  EXPECT_LE(c.subgroup_min, c.subgroup_size);
  EXPECT_GE(c.subgroup_max, c.subgroup_size);
  EXPECT_GE(c.max_shared_memory, 16384u);
  EXPECT_GE(c.max_workgroup_invocations, 128u);
  EXPECT_GE(c.max_workgroup_count[0], 65535u);
  EXPECT_GE(c.max_push_constants, 128u);
  EXPECT_GE(c.max_storage_buffer_range, 1ull << 27);
  EXPECT_GE(c.max_memory_allocation, 1ull << 30);
  EXPECT_GT(c.min_storage_buffer_offset_alignment, 0u);
  EXPECT_FALSE(c.heaps.empty());
  if (c.timestamps) {
    EXPECT_GT(c.timestamp_period_ns, 0.0f);
  }
  if (c.cooperative_matrix) {
    EXPECT_FALSE(c.coopmat_shapes.empty());
  }
  if (ctx().profile() == nullptr) {
    EXPECT_EQ(ctx().caps().subgroup_size, c.subgroup_size);
    EXPECT_EQ(ctx().caps().fp16_arithmetic, c.fp16_arithmetic);
  }
}

TEST_F(ContextTest, LavapipeValues) {
  const DeviceCaps& c = ctx().real_caps();
  if (!is_lavapipe(c)) GTEST_SKIP() << "not lavapipe: " << c.name;
  EXPECT_EQ(c.type, DeviceType::Cpu);
  EXPECT_EQ(c.vendor, Vendor::Mesa);
  EXPECT_EQ(c.subgroup_size, 8u);
  EXPECT_EQ(c.max_shared_memory, 32768u);
  EXPECT_EQ(c.max_storage_buffer_range, 128ull << 20);
  EXPECT_EQ(c.max_memory_allocation, 0x80000000ull);
  EXPECT_TRUE(c.subgroup_size_control);
  EXPECT_TRUE(c.fp16_arithmetic);
  EXPECT_TRUE(c.int8_arithmetic);
  EXPECT_TRUE(c.storage_16bit);
  EXPECT_TRUE(c.storage_8bit);
  EXPECT_TRUE(c.integer_dot_product);
  EXPECT_FALSE(c.integer_dot_4x8_accelerated);
  EXPECT_TRUE(c.timestamps);
  EXPECT_EQ(c.timestamp_valid_bits, 64u);
  EXPECT_TRUE(c.unified_memory);
}

TEST_F(ContextTest, SelectByIndexAndName) {
  EngineOptions o = env_options();
  o.profile.clear();
  o.device = std::to_string(ctx().device_index());
  auto by_index = make_context(o);
  EXPECT_EQ(by_index->real_caps().name, ctx().real_caps().name);
  EXPECT_TRUE(validation_clean(*by_index));
  by_index.reset();

  // A middle part of the name, upper-cased: substring and case-insensitive.
  std::string part = ctx().real_caps().name.substr(0, std::min<std::size_t>(ctx().real_caps().name.size(), 6));
  for (char& ch : part) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  o.device = part;
  auto by_name = make_context(o);
  EXPECT_NE(by_name->real_caps().name.find(ctx().real_caps().name.substr(0, 6)), std::string::npos);
  EXPECT_TRUE(validation_clean(*by_name));
}

TEST_F(ContextTest, NoMatchingDeviceIsAClearError) {
  EngineOptions o = env_options();
  o.device = "no-such-gpu-xyz";
  try {
    make_context(o);
    FAIL() << "no throw";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("no Vulkan device matches 'no-such-gpu-xyz'"), std::string::npos) << msg;
    EXPECT_NE(msg.find(ctx().real_caps().name), std::string::npos) << msg;  // lists the devices
  }
  o.device = "999";
  EXPECT_THROW(make_context(o), Error);
}

TEST_F(ContextTest, UnknownProfileIsAClearError) {
  EngineOptions o = env_options();
  o.profile = "voodoo2";
  try {
    make_context(o);
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown device profile 'voodoo2'"), std::string::npos) << e.what();
  }
}

TEST_F(ContextTest, ProfileMasksCaps) {
  EngineOptions o = env_options();
  o.profile = "minimal";
  auto c = make_context(o);
  ASSERT_NE(c->profile(), nullptr);
  EXPECT_FALSE(c->caps().fp16_arithmetic);
  EXPECT_FALSE(c->caps().storage_8bit);
  EXPECT_LE(c->caps().max_shared_memory, 16384u);
  EXPECT_EQ(c->real_caps().fp16_arithmetic, ctx().real_caps().fp16_arithmetic);  // real caps untouched
  EXPECT_EQ(c->device().caps().max_shared_memory, c->caps().max_shared_memory);
  // Pipelines are checked against the masked limits: fill's 256 invocations exceed minimal's 128.
  try {
    c->pipeline({.kernel = KernelId::fill, .bindings = 1, .push_constant_bytes = 8});
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds maxComputeWorkGroup"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(validation_clean(*c));
}

}  // namespace
}  // namespace tessera
