// Fixture for kernel tests: one Context per test, with a device profile forced (the test's
// parameter; "" = the real device) and the validation layers on; any validation error fails
// (validation_clean from tests/common/gpu_test.h).
#pragma once
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/buffer.h"
#include "engine/commands.h"
#include "engine/context.h"
#include "engine/options.h"
#include "engine/profiles.h"
#include "engine/transfer.h"
#include "tests/common/gpu_test.h"
#include "tests/ops/tolerance.h"

namespace tessera::test {

class OpsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    EngineOptions opts = EngineOptions::from_env();
    opts.profile = GetParam();
    try {
      ctx_ = Context::create(opts);
    } catch (const std::exception& e) {
      if (device_required()) FAIL() << "no Vulkan device: " << e.what();
      GTEST_SKIP() << "no Vulkan device: " << e.what();
    }
    // Under CTest the validation layers must really be on (TESSERA_VALIDATION=1 from tests/CMakeLists.txt).
    if (device_required()) {
      ASSERT_TRUE(ctx_->validation_enabled()) << "validation layers are not loaded";
    }
    cmd_ = std::make_unique<CommandList>(*ctx_);
  }

  void TearDown() override {
    if (ctx_) {
      EXPECT_TRUE(validation_clean(*ctx_));
    }
  }

  // The helpers are public for test-local helper classes (tests/ops/test_attention.cpp's FlashCase).
 public:
  Context& context() { return *ctx_; }
  Buffer make(std::uint64_t bytes) { return Buffer::create(ctx_->device(), bytes, MemoryKind::Device); }

  template <class T>
  Buffer upload_vec(const std::vector<T>& v) {
    // Padded to whole 32-bit words, as the engine allocates weights.
    Buffer b = make(std::max<std::uint64_t>((v.size() * sizeof(T) + 3) / 4 * 4, 4));
    upload(*ctx_, std::as_bytes(std::span(v)), BufferRange{&b, 0, 0});
    return b;
  }

  std::vector<float> download_f32(const Buffer& b, std::size_t n) {
    std::vector<float> v(n);
    download(*ctx_, BufferRange{&b, 0, n * 4}, std::as_writable_bytes(std::span(v)));
    return v;
  }

  // Records, submits and waits for `f(ctx, cmd)`.
  template <class F>
  void run(F&& f) {
    cmd_->begin();
    f(*ctx_, *cmd_);
    cmd_->submit_and_wait();
  }


 public:
  static std::vector<float> random_floats(std::size_t n, std::uint32_t seed, float lo = -2.0f, float hi = 2.0f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
  }


 protected:
  std::unique_ptr<Context> ctx_;
  std::unique_ptr<CommandList> cmd_;
};

// Every kernel test runs on the real device and under each device profile (with its quirks).
inline auto all_profiles() {
  std::vector<std::string> names{""};
  for (const DeviceProfile& p : device_profiles()) names.emplace_back(p.name);
  return ::testing::ValuesIn(names);
}

inline std::string profile_test_name(const ::testing::TestParamInfo<std::string>& info) {
  if (info.param.empty()) return "device";
  std::string s = info.param;
  for (char& c : s)
    if (c == '-') c = '_';
  return s;
}

#define TESSERA_INSTANTIATE_PROFILES(Suite) \
  INSTANTIATE_TEST_SUITE_P(Profiles, Suite, ::tessera::test::all_profiles(), ::tessera::test::profile_test_name)

}  // namespace tessera::test
