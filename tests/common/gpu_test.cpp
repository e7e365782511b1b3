// GpuTest fixture (see gpu_test.h).
#include "tests/common/gpu_test.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "engine/vk.h"

namespace tessera {
namespace {

struct SuiteState {
  std::unique_ptr<Context> ctx;
  std::string error;         // why there is no Context
  bool unavailable = false;  // no Vulkan at all: skip rather than fail
};

SuiteState& state() {
  static SuiteState s;  // one suite runs at a time
  return s;
}

}  // namespace

::testing::AssertionResult validation_clean(const Context& ctx, std::uint64_t baseline) {
  const std::uint64_t n = ctx.validation_error_count();
  if (n <= baseline) return ::testing::AssertionSuccess();
  auto r = ::testing::AssertionFailure();
  r << (n - baseline) << " Vulkan validation error(s):";
  for (const std::string& m : ctx.validation_messages())
    if (m.rfind("ERROR ", 0) == 0) r << "\n  " << m;
  return r;
}

bool device_required() {
  const char* v = std::getenv("TESSERA_REQUIRE_DEVICE");
  return v && *v && std::strcmp(v, "0") != 0;
}

const std::string& no_vulkan_reason() {
  static const std::string reason = [] {
    EngineOptions opts = EngineOptions::from_env();
    opts.validation = false;
    try {
      const std::unique_ptr<Context> probe = Context::create(opts);
    } catch (const VulkanUnavailable& e) {
      return std::string(e.what());
    } catch (const std::exception&) {
      // A device exists but failed otherwise: the test runs and reports it.
    }
    return std::string();
  }();
  return reason;
}

void GpuTest::SetUpTestSuite() {
  SuiteState& s = state();
  s = SuiteState{};
  try {
    s.ctx = Context::create(EngineOptions::from_env());
  } catch (const VulkanUnavailable& e) {
    s.error = e.what();
    s.unavailable = true;
  } catch (const std::exception& e) {
    s.error = e.what();
  }
}

void GpuTest::TearDownTestSuite() { state() = SuiteState{}; }

void GpuTest::SetUp() {
  SuiteState& s = state();
  if (!s.ctx) {
    if (s.unavailable) GTEST_SKIP() << "no Vulkan device: " << s.error;
    FAIL() << "Context creation failed: " << s.error;
  }
  static bool warned = false;
  if (!warned && env_options().validation && !s.ctx->validation_enabled()) {
    warned = true;
    std::fprintf(stderr, "note: TESSERA_VALIDATION=1 but the validation layer is not active; errors are not counted\n");
  }
  errors_at_start_ = s.ctx->validation_error_count();
}

void GpuTest::TearDown() {
  SuiteState& s = state();
  if (s.ctx) {
    EXPECT_TRUE(validation_clean(*s.ctx, errors_at_start_));
  }
}

void GpuTest::set_up_with_workgroup(std::string_view kernel, std::uint32_t invocations) {
  GpuTest::SetUp();
  if (IsSkipped() || HasFailure()) return;
  if (ctx().caps().max_workgroup_invocations < invocations)
    GTEST_SKIP() << kernel << " has a fixed " << invocations << "-invocation workgroup; the caps allow "
                 << ctx().caps().max_workgroup_invocations;
}

Context& GpuTest::ctx() { return *state().ctx; }

EngineOptions GpuTest::env_options() { return EngineOptions::from_env(); }

std::unique_ptr<Context> GpuTest::make_context(const EngineOptions& opts) { return Context::create(opts); }

}  // namespace tessera
