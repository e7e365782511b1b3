// End to end through the `tessera` binary on factory models: run --ids/--dump-logits against the
// CPU oracle, streaming generation with speeds, chat keeping its KV cache across turns, bench
// JSON, the demo model, and the errors a user meets (prompt past the context, wrong file kind).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "runtime/model/memory_plan.h"
#include "tests/common/gpu_test.h"
#include "tests/common/reference_forward.h"
#include "tests/common/tools.h"
#include "tools/factory/factory.h"

namespace tessera::test {
namespace {

class RunCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    factory::FactoryOptions fo;
    fo.type = factory::parse_type_choice("F32");
    fo.seed = 5;
    factory::write_files(fo, factory::Kind::all, *dir_ / "tiny.gguf");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  // `tessera run` needs a Vulkan device: skip without one, as GpuTest does (unless required).
  void SetUp() override {
    if (!device_required() && !no_vulkan_reason().empty()) GTEST_SKIP() << no_vulkan_reason();
  }
  static std::string model() { return (*dir_ / "tiny.gguf").string(); }
  static TempDir* dir_;
};
TempDir* RunCliTest::dir_ = nullptr;

TEST_F(RunCliTest, DumpLogitsOfIdsMatchTheOracle) {
  const std::string out = (dir_->path() / "logits.f32").string();
  const ToolResult r = run_tool("tessera", "run -q -m " + model() + " --ids 2,17,99,5,300 -n 0 --dump-logits " + out);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json meta = nlohmann::json::parse(read_all(out + ".json"));
  const std::uint32_t vocab = meta["shape"][1];
  EXPECT_EQ(meta["shape"][0], 1);
  EXPECT_EQ(meta["first_position"], 4);
  EXPECT_EQ(meta["dtype"], "float32");
  const std::string bytes = read_all(out);
  ASSERT_EQ(bytes.size(), 4ull * vocab);
  std::vector<float> got(vocab);
  std::memcpy(got.data(), bytes.data(), bytes.size());

  const std::vector<std::uint32_t> ids = {2, 17, 99, 5, 300};
  const std::vector<float> want = ref::ReferenceModel::load(model()).forward(ids);
  double max_abs = 0;
  for (std::uint32_t i = 0; i < vocab; ++i) max_abs = std::max(max_abs, double(std::fabs(got[i] - want[4 * vocab + i])));
  EXPECT_LT(max_abs, 2e-2);
}

TEST_F(RunCliTest, DumpAllPositions) {
  const std::string out = (dir_->path() / "all.f32").string();
  const ToolResult r = run_tool("tessera", "run -q -m " + model() + " --ids 2,7,8 -n 0 --all --dump-logits " + out);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json meta = nlohmann::json::parse(read_all(out + ".json"));
  EXPECT_EQ(meta["shape"][0], 3);
  EXPECT_EQ(read_all(out).size(), 3ull * 4 * std::uint64_t(meta["shape"][1]));
}

TEST_F(RunCliTest, GenerationStreamsAndReportsSpeeds) {
  const ToolResult r = run_tool("tessera", "run -q -m " + model() + " -p 'Hello there' -n 6 --temp 0");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("prompt: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("tok/s"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("generation: "), std::string::npos) << r.err;
  // Greedy is deterministic: the same text twice.
  const ToolResult again = run_tool("tessera", "run -q -m " + model() + " -p 'Hello there' -n 6 --temp 0");
  EXPECT_EQ(r.out, again.out);
}

TEST_F(RunCliTest, ChatKeepsTheCacheBetweenTurns) {
  const auto input = dir_->path() / "chat.txt";
  std::ofstream(input) << "hi\nand again\n/exit\n";
  const ToolResult r = run_tool("tessera", "chat -q -m " + model() + " -n 3 --temp 0 < " + input.string());
  ASSERT_EQ(r.code, 0) << r.err;
  // Two answers, the second with a longer context than the first (the history stayed).
  const auto first = r.err.find("context "), second = r.err.find("context ", first + 1);
  ASSERT_NE(first, std::string::npos) << r.err;
  ASSERT_NE(second, std::string::npos) << r.err;
  EXPECT_LT(std::stoi(r.err.substr(first + 8)), std::stoi(r.err.substr(second + 8))) << r.err;
}

TEST_F(RunCliTest, BenchJson) {
  const ToolResult r = run_tool("tessera", "bench -q -m " + model() + " -p 16 -n 4 -r 1 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  ASSERT_EQ(doc["results"].size(), 2u);
  EXPECT_EQ(doc["results"][0]["test"], "pp16");
  EXPECT_EQ(doc["results"][1]["test"], "tg4");
  EXPECT_GT(doc["results"][1]["t_per_s"].get<double>(), 0.0);
}

// `bench kernels` on one small shape: a row per runnable variant and batch, one of them the plan's,
// with positive times and rates; batch-1 rows are their own reference; bad names are errors.
TEST_F(RunCliTest, BenchKernelsJson) {
  const ToolResult r = run_tool("tessera", "bench kernels --types Q4_0,Q6_K --batches 1,3 --shapes attn_k -r 1 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  EXPECT_GT(doc["copy_gb_per_s"].get<double>(), 0.0);
  std::map<std::string, int> planned;  // type/m -> rows marked as the plan's kernel
  std::set<std::string> kernels;
  for (const nlohmann::json& row : doc["results"]) {
    EXPECT_EQ(row["shape"], "attn_k");
    EXPECT_EQ(row["k"], 3840);
    EXPECT_EQ(row["n"], 2048);
    ASSERT_FALSE(row["skipped"].get<bool>()) << row.dump();
    EXPECT_GT(row["ms"].get<double>(), 0.0);
    EXPECT_GT(row["weight_gb_per_s"].get<double>(), 0.0);
    EXPECT_GT(row["gflops"].get<double>(), 0.0);
    if (row["m"] == 1) {
      EXPECT_DOUBLE_EQ(row["x_batch1"].get<double>(), 1.0);
    }
    planned[row["type"].get<std::string>() + "/" + std::to_string(row["m"].get<int>())] += row["planned"].get<bool>();
    kernels.insert(row["kernel"].get<std::string>());
  }
  EXPECT_EQ(doc["results"].size(), 2 * 2 * kernels.size());
  EXPECT_TRUE(kernels.contains("matvec") && kernels.contains("simple")) << doc.dump();
  ASSERT_EQ(planned.size(), 4u);
  for (const auto& [key, n] : planned) EXPECT_EQ(n, 1) << key;

  const ToolResult bad = run_tool("tessera", "bench kernels --types Q3_K");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("unknown weight type 'Q3_K'"), std::string::npos) << bad.err;
  const ToolResult shape = run_tool("tessera", "bench kernels --shapes ffn");
  EXPECT_EQ(shape.code, 1);
  EXPECT_NE(shape.err.find("ffn_up"), std::string::npos) << shape.err;
}

// `bench attention` at one short context: both 12B layer shapes, decode and a 2-row batch, both
// cache types, with positive times and rates; an unknown cache type is an error.
TEST_F(RunCliTest, BenchAttentionJson) {
  const ToolResult r = run_tool("tessera", "bench attention --kv 64 --rows 1,2 --kv-type f16,q8_0 -r 1 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  ASSERT_EQ(doc["results"].size(), 2u * 2 * 2);
  std::set<std::string> seen;
  for (const nlohmann::json& row : doc["results"]) {
    ASSERT_FALSE(row["skipped"].get<bool>()) << row.dump();
    EXPECT_EQ(row["kv_len"], 64);
    EXPECT_EQ(row["head_dim"], row["layer"] == "sliding" ? 256 : 512);
    EXPECT_EQ(row["n_kv_head"], row["layer"] == "sliding" ? 8 : 1);
    EXPECT_GT(row["ms"].get<double>(), 0.0);
    EXPECT_GT(row["kv_gb_per_s"].get<double>(), 0.0);
    EXPECT_GT(row["gflops"].get<double>(), 0.0);
    seen.insert(row["layer"].get<std::string>() + "/" + row["kv_type"].get<std::string>() + "/" +
                std::to_string(row["m"].get<int>()));
  }
  EXPECT_EQ(seen.size(), 8u);
  const ToolResult bad = run_tool("tessera", "bench attention --kv-type q4_0");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("unknown KV cache type 'q4_0'"), std::string::npos) << bad.err;
}

TEST_F(RunCliTest, PromptPastTheContextIsAClearError) {
  const ToolResult r = run_tool("tessera", "run -q -m " + model() + " --ctx 8 --ids 2,3,4,5,6,7,8,9,10,11 -n 1");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("10 tokens but the context is 8"), std::string::npos) << r.err;
  const ToolResult b = run_tool("tessera", "bench -q -m " + model() + " --ctx 32 -p 32 -n 4");
  EXPECT_EQ(b.code, 1);
  EXPECT_NE(b.err.find("needs 36 positions but the context is 32"), std::string::npos) << b.err;
}

TEST_F(RunCliTest, WrongFileKindsAreClearErrors) {
  const ToolResult mm = run_tool("tessera", "run -q -m " + (*dir_ / "tiny-mmproj.gguf").string() + " -p hi");
  EXPECT_EQ(mm.code, 1);
  EXPECT_NE(mm.err.find("not a Gemma 4 text model"), std::string::npos) << mm.err;
  EXPECT_NE(mm.err.find("--mmproj"), std::string::npos) << mm.err;
  const ToolResult dr = run_tool("tessera", "run -q -m " + (*dir_ / "tiny-drafter.gguf").string() + " -p hi");
  EXPECT_EQ(dr.code, 1);
  EXPECT_NE(dr.err.find("--drafter"), std::string::npos) << dr.err;
  const ToolResult ids = run_tool("tessera", "run -q -m " + model() + " --ids 2,x -n 1");
  EXPECT_EQ(ids.code, 1);
  EXPECT_NE(ids.err.find("'x' is not a token id"), std::string::npos) << ids.err;
  const ToolResult big = run_tool("tessera", "run -q -m " + model() + " --ids 2,999999 -n 1");
  EXPECT_EQ(big.code, 1);
  EXPECT_NE(big.err.find("outside the vocabulary"), std::string::npos) << big.err;
}

TEST_F(RunCliTest, WithoutAModelTheDemoSaysSo) {
  const ToolResult r = run_tool("tessera", "run -q -p hi -n 2 --temp 0");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("factory demo model"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("RANDOM"), std::string::npos) << r.err;
}

TEST(DeviceMemory, NotEnoughMemorySaysWhatIsNeededAndWhatToChange) {
  MemoryPlan plan;
  plan.options.ctx_len = 4096;
  plan.weight_bytes = 7ull << 30;
  plan.kv.total_bytes = 1ull << 30;
  plan.act.total_bytes = 1ull << 28;
  plan.total_bytes = plan.weight_bytes + plan.kv.total_bytes + plan.act.total_bytes;
  EXPECT_NO_THROW(require_device_memory(plan, 16ull << 30, "m.gguf", "GPU"));
  EXPECT_NO_THROW(require_device_memory(plan, 0, "m.gguf", "GPU"));  // unknown: no check
  try {
    require_device_memory(plan, 6ull << 30, "m.gguf", "Adreno X1-85");
    FAIL() << "no error";
  } catch (const std::exception& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("m.gguf at context 4096 needs"), std::string::npos) << msg;
    EXPECT_NE(msg.find("Adreno X1-85 has 6 GiB"), std::string::npos) << msg;
    EXPECT_NE(msg.find("smaller context (--ctx) or a smaller quantization"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace tessera::test
