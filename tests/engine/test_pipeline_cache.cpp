// The on-disk pipeline cache: saved at Context destruction, loaded by the next Context on the
// same device, and a corrupt or foreign file ignored gracefully (then overwritten).
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <vector>

#include "engine/pipeline_cache.h"
#include "shaders/params.h"
#include "tests/common/gpu_test.h"

namespace tessera {
namespace {

class PipelineCacheTest : public GpuTest {
 protected:
  void SetUp() override {
    set_up_with_workgroup("fill.comp", 256);
    if (IsSkipped() || HasFailure()) return;
    dir_ = std::filesystem::temp_directory_path() / ("tessera-pcache-test-" + std::to_string(std::random_device{}()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
    GpuTest::TearDown();
  }
  EngineOptions opts() const {
    EngineOptions o = env_options();
    o.cache_dir = dir_;
    return o;
  }
  static void make_fill(Context& c) {
    c.pipeline({.kernel = KernelId::fill, .bindings = 1, .push_constant_bytes = sizeof(shader::FillParams)});
  }
  static std::vector<std::byte> read_all(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::vector<char> v((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<std::byte> out(v.size());
    std::memcpy(out.data(), v.data(), v.size());
    return out;
  }
  std::filesystem::path dir_;
};

TEST_F(PipelineCacheTest, FileNameNamesDeviceAndDriver) {
  const std::string n = PipelineCache::file_name(ctx().real_caps());
  // pipelines-<vendor>-<device>-<driver version>-<pipelineCacheUUID>.bin, all hex.
  EXPECT_TRUE(std::regex_match(n, std::regex("pipelines-[0-9a-f]{4,8}-[0-9a-f]{4,8}-[0-9a-f]{8}-[0-9a-f]{32}\\.bin"))) << n;
}

TEST_F(PipelineCacheTest, PersistsAcrossContexts) {
  std::filesystem::path file;
  {
    auto c1 = make_context(opts());
    EXPECT_EQ(c1->pipeline_cache_loaded_bytes(), 0u);
    make_fill(*c1);
    file = c1->pipeline_cache_path();
    EXPECT_TRUE(validation_clean(*c1));
  }  // saved here
  ASSERT_FALSE(file.empty());
  ASSERT_TRUE(std::filesystem::exists(file)) << file;
  EXPECT_EQ(PipelineCache::check_header(read_all(file), ctx().real_caps()), "");

  // Backdate the file: a context whose pipelines all came from it must not rewrite it.
  const auto old = std::filesystem::last_write_time(file) - std::chrono::hours(1);
  std::filesystem::last_write_time(file, old);
  {
    auto c2 = make_context(opts());
    EXPECT_GT(c2->pipeline_cache_loaded_bytes(), 0u);
    EXPECT_EQ(c2->pipeline_cache_path(), file);
    make_fill(*c2);
    EXPECT_TRUE(validation_clean(*c2));
  }
  EXPECT_EQ(std::filesystem::last_write_time(file), old) << "an unchanged pipeline cache was rewritten";
}

TEST_F(PipelineCacheTest, CorruptOrForeignFileIsIgnoredAndOverwritten) {
  std::filesystem::create_directories(dir_);
  const std::filesystem::path file = dir_ / PipelineCache::file_name(ctx().real_caps());
  for (int variant = 0; variant < 2; ++variant) {
    SCOPED_TRACE(variant);
    {
      std::ofstream f(file, std::ios::binary | std::ios::trunc);
      if (variant == 0) {
        f << "this is not a pipeline cache";
      } else {  // a well-formed header of another device
        const std::uint32_t header[4] = {32, 1, 0x1234, 0x5678};
        f.write(reinterpret_cast<const char*>(header), sizeof header);
        f.write(reinterpret_cast<const char*>(ctx().real_caps().pipeline_cache_uuid), 16);
      }
    }
    {
      auto c = make_context(opts());
      EXPECT_EQ(c->pipeline_cache_loaded_bytes(), 0u);
      make_fill(*c);
      EXPECT_TRUE(validation_clean(*c));
    }
    EXPECT_EQ(PipelineCache::check_header(read_all(file), ctx().real_caps()), "");  // rewritten
  }
}

TEST_F(PipelineCacheTest, HeaderChecks) {
  const DeviceCaps& c = ctx().real_caps();
  std::vector<std::byte> h(32);
  const std::uint32_t words[4] = {32, 1, c.vendor_id, c.device_id};
  std::memcpy(h.data(), words, 16);
  std::memcpy(h.data() + 16, c.pipeline_cache_uuid, 16);
  EXPECT_EQ(PipelineCache::check_header(h, c), "");
  EXPECT_NE(PipelineCache::check_header(std::span(h).first(20), c), "");
  h[4] = std::byte{2};
  EXPECT_NE(PipelineCache::check_header(h, c), "");
  h[4] = std::byte{1};
  h[20] ^= std::byte{0xff};
  EXPECT_NE(PipelineCache::check_header(h, c).find("UUID"), std::string::npos);
}

}  // namespace
}  // namespace tessera
