// `tessera devices` end to end: the built CLI lists the device the engine selects, as text and
// JSON, shows a forced profile, and exits 1 with a clear message when --device matches nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/common/gpu_test.h"
#include "tests/common/tools.h"

namespace tessera {
namespace {

using test::run_tool;
using test::ToolResult;

class CliDevicesTest : public GpuTest {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    if (IsSkipped() || HasFailure()) return;
    if (!std::filesystem::exists(test::tool_path("tessera")))
      GTEST_SKIP() << "tessera CLI not found at '" << test::tool_path("tessera").string() << "'";
  }
};

TEST_F(CliDevicesTest, TextMarksTheSelectedDevice) {
  const ToolResult r = run_tool("tessera", "devices");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("* " + std::to_string(ctx().device_index()) + ": " + ctx().real_caps().name), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("storage buffer range"), std::string::npos) << r.out;
}

TEST_F(CliDevicesTest, JsonWithProfile) {
  const ToolResult r = run_tool("tessera", "devices --json --profile minimal");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_FALSE(j["devices"].empty());
  EXPECT_EQ(j["selected"], ctx().device_index());
  EXPECT_EQ(j["profile"]["name"], "minimal");
  EXPECT_EQ(j["profile"]["caps"]["fp16_arithmetic"], false);
  const auto& dev = j["devices"][ctx().device_index()];
  EXPECT_EQ(dev["selected"], true);
  EXPECT_EQ(dev["caps"]["max_storage_buffer_range"], ctx().real_caps().max_storage_buffer_range);
}

TEST_F(CliDevicesTest, BadSelectorOrProfileExitsOne) {
  const ToolResult r = run_tool("tessera", "devices --device no-such-gpu-xyz");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no Vulkan device matches 'no-such-gpu-xyz'"), std::string::npos) << r.err;
  const ToolResult p = run_tool("tessera", "devices --profile voodoo2");
  EXPECT_EQ(p.code, 1);
  EXPECT_NE(p.err.find("unknown device profile 'voodoo2'"), std::string::npos) << p.err;
}

}  // namespace
}  // namespace tessera
