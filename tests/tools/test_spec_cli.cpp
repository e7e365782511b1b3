// Speculative decoding through the `tessera` binary on a designed tiny target/drafter pair
// (tessera-factory --markov): greedy `run --drafter` prints exactly what plain `run` prints, --stats
// reports the drafter's figures, chat takes --drafter, `bench spec --json` has every row, and bad
// drafter files are clear errors.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/common/gpu_test.h"
#include "tests/common/tools.h"

namespace tessera::test {
namespace {

class SpecCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const ToolResult r = run_tool("tessera-factory", "--preset tiny --type F16 --seed 4 --kind all --markov "
                                                     "--drafter-noise 0.2 -o " + (*dir_ / "pair.gguf").string());
    ASSERT_EQ(r.code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!device_required() && !no_vulkan_reason().empty()) GTEST_SKIP() << no_vulkan_reason();
  }
  static std::string model() { return (*dir_ / "pair.gguf").string(); }
  static std::string drafter() { return (*dir_ / "pair-drafter.gguf").string(); }
  static TempDir* dir_;
};
TempDir* SpecCliTest::dir_ = nullptr;

TEST_F(SpecCliTest, GreedyRunIsIdenticalWithTheDrafter) {
  const std::string args = "run -q -m " + model() + " --raw -p 'one two three' -n 40 --temp 0";
  const ToolResult plain = run_tool("tessera", args);
  ASSERT_EQ(plain.code, 0) << plain.err;
  for (const char* draft : {"", " --draft 3", " --draft-max 6"}) {
    const ToolResult spec = run_tool("tessera", args + " --drafter " + drafter() + draft + " --stats");
    ASSERT_EQ(spec.code, 0) << spec.err;
    EXPECT_EQ(spec.out, plain.out) << draft;
    EXPECT_NE(spec.err.find("acceptance by draft position"), std::string::npos) << spec.err;
    EXPECT_NE(spec.err.find("vs plain decoding"), std::string::npos) << spec.err;
  }
}

TEST_F(SpecCliTest, ChatTakesTheDrafter) {
  const auto input = dir_->path() / "chat.txt";
  std::ofstream(input) << "hi\nagain\n/exit\n";
  const ToolResult r = run_tool("tessera", "chat -q -m " + model() + " --drafter " + drafter() +
                                               " --draft 2 --stats -n 6 --temp 0 < " + input.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("speculative:"), std::string::npos) << r.err;
}

TEST_F(SpecCliTest, BenchSpecJson) {
  const ToolResult r = run_tool("tessera", "bench spec -q -m " + model() + " --drafter " + drafter() +
                                               " -p 8 -n 24 --drafts 1,3 -r 1 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  ASSERT_EQ(doc["verify"].size(), 4u);  // 1..4 rows
  EXPECT_DOUBLE_EQ(doc["verify"][0]["vs_decode"].get<double>(), 1.0);
  ASSERT_EQ(doc["decode"].size(), 4u);  // plain, k 1, k 3, adaptive
  EXPECT_EQ(doc["decode"][0]["mode"], "plain");
  for (const auto& row : doc["decode"]) EXPECT_GT(row["tps"].get<double>(), 0.0);
  EXPECT_GT(doc["decode"][2]["acceptance"].get<double>(), 0.0);
}

TEST_F(SpecCliTest, BadDrafterFilesAreClearErrors) {
  ToolResult r = run_tool("tessera", "run -q -m " + model() + " --drafter " + model() + " -p hi -n 2");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("not an MTP drafter"), std::string::npos) << r.err;
  r = run_tool("tessera", "run -q -m " + model() + " --drafter " + (*dir_ / "nope.gguf").string() + " -p hi -n 2");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("nope.gguf"), std::string::npos) << r.err;
  r = run_tool("tessera", "run -q -m " + model() + " --drafter demo -p hi -n 2");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("demo model"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tessera::test
