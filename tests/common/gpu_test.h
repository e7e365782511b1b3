// GpuTest: the fixture of every GPU test. One Context per test suite (created in
// SetUpTestSuite from EngineOptions::from_env(), so TESSERA_DEVICE / _DEVICE_PROFILE /
// _VALIDATION apply), tests skip with a message when the machine has no Vulkan device, and
// TearDown fails a test that raised any validation error, printing the messages.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/context.h"
#include "engine/options.h"

namespace tessera {

class GpuTest : public ::testing::Test {
 public:
  static void SetUpTestSuite();
  static void TearDownTestSuite();

 protected:
  void SetUp() override;     // GTEST_SKIP without Vulkan; FAIL if the Context could not be created
  void TearDown() override;  // no new validation errors in this test

  // The suite's Context (valid inside tests; they are skipped when there is none).
  static Context& ctx();
  // EngineOptions::from_env(), as the suite's Context was created.
  static EngineOptions env_options();
  // Creates another Context (other cache dir, device, profile...). Its validation errors are
  // the test's to check, e.g. with EXPECT_TRUE(validation_clean(*c)).
  static std::unique_ptr<Context> make_context(const EngineOptions& opts);
  // SetUp for a fixture whose kernel has a fixed workgroup of `invocations`: GpuTest::SetUp(),
  // then GTEST_SKIP when the device allows fewer (e.g. TESSERA_DEVICE_PROFILE=minimal). The
  // caller checks IsSkipped() || HasFailure() before setting up more.
  void set_up_with_workgroup(std::string_view kernel, std::uint32_t invocations);

 private:
  std::uint64_t errors_at_start_ = 0;
};

// Success when `ctx` has no more than `baseline` validation errors; otherwise the messages.
::testing::AssertionResult validation_clean(const Context& ctx, std::uint64_t baseline = 0);

// TESSERA_REQUIRE_DEVICE is set and not "0" (CTest sets 1; 0 for cross builds under an emulator):
// a test that needs a Vulkan device fails without one instead of skipping.
bool device_required();

// Why this process has no Vulkan loader or device ("" when it has one; asked once). For tests of
// programs that need a GPU (`tessera run`), which skip without one as GpuTest does.
const std::string& no_vulkan_reason();

}  // namespace tessera
