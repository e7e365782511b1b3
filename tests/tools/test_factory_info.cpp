// The foundations' end-to-end check: the factory writes a 12B-shaped Q4_K_M model and
// `tessera info` reports a size within 2% of the real 12B Q4_K_M files; broken files get a clear
// error from `tessera info`, not a crash.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/tools.h"

namespace tessera::test {
namespace {

// unsloth gemma-4-12b-it UD-Q4_K_XL, the published Q4_K_M-class file (spec §8.6).
constexpr double kReal12bQ4KM = 7'366'423'360.0;

TEST(FactoryInfo, Factory12bQ4KMSizeWithinTwoPercentOfTheRealFile) {
  const TempDir dir;
  const auto model = dir / "gemma4-12b-q4_k_m.gguf";
  const ToolResult f = run_tool("tessera-factory", "--preset 12b --type Q4_K_M --zeros --seed 3 -o '" + model.string() + "'");
  ASSERT_EQ(f.code, 0) << f.err;
  const ToolResult info = run_tool("tessera", "info '" + model.string() + "' --json --ctx 32768");
  ASSERT_EQ(info.code, 0) << info.err;
  const auto doc = nlohmann::json::parse(info.out);
  const double size = doc["file_size"].get<double>();
  EXPECT_LT(std::fabs(size - kReal12bQ4KM) / kReal12bQ4KM, 0.02) << "factory 12b Q4_K_M is " << size << " bytes";
  EXPECT_EQ(doc["tensors"].size(), 667u);
  EXPECT_EQ(doc["architecture"], "gemma4");
  EXPECT_EQ(doc["hparams"]["n_layer"], 48);
  // Spec §9.2: ring SWA cache + 512 slack at 32K context is about 0.97 GiB.
  const double kv = doc["memory_plan"]["kv_cache"]["total_bytes"].get<double>();
  EXPECT_NEAR(kv / (1024.0 * 1024 * 1024), 0.97, 0.01);
}

TEST(FactoryInfo, TruncatedModelGetsAnErrorNamingTheFile) {
  const TempDir dir;
  const auto model = dir / "tiny.gguf";
  ASSERT_EQ(run_tool("tessera-factory", "--preset tiny --type F16 --seed 1 -o '" + model.string() + "'").code, 0);
  const auto cut = dir / "cut.gguf";
  const std::string bytes = read_all(model);
  std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  const ToolResult info = run_tool("tessera", "info '" + cut.string() + "'");
  EXPECT_EQ(info.code, 1);
  EXPECT_NE(info.err.find("cut.gguf"), std::string::npos) << info.err;
  EXPECT_EQ(run_tool("tessera", "info '" + (dir / "missing.gguf").string() + "'").code, 1);
}

}  // namespace
}  // namespace tessera::test
