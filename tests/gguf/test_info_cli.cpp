// `tessera info` end to end: runs the built binary on hand-built files (a sparse 12B-shaped
// file, an mmproj, broken files) and checks its text, its JSON and its exit codes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "common/tools.h"
#include "gguf/gemma4_fixture.h"
#include "gguf/gguf_builder.h"

namespace tessera {
namespace {

using test::GgufBuilder;
using test::TempFile;

test::ToolResult run_info(const std::string& args) { return test::run_tool("tessera", "info " + args); }

class InfoCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(test::tool_path("tessera"))) GTEST_SKIP() << "no tessera binary at " << test::tool_path("tessera");
  }
};

#define EXPECT_HAS(haystack, needle) EXPECT_NE((haystack).find(needle), std::string::npos) << (haystack)

// The 12B's header with all 667 tensors (matrices Q4_K, token_embd Q6_K) as a sparse file.
GgufBuilder model_12b(std::uint64_t& tensor_bytes) {
  GgufBuilder b;
  test::add_gemma4_12b_metadata(b);
  b.kv_str("tokenizer.chat_template", std::string(300, 't'));
  tensor_bytes = 0;
  for (const test::TensorShape& s : test::gemma4_12b_shapes()) {
    std::uint64_t n = 1;
    for (const std::uint64_t d : s.ne) n *= d;
    const bool embd = s.name == "token_embd.weight";
    const std::uint32_t type = !s.matrix ? 0 : embd ? 14 : 12;
    const std::uint64_t bytes = !s.matrix ? n * 4 : embd ? n / 256 * 210 : n / 256 * 144;
    tensor_bytes += bytes;
    b.tensor_sized(s.name, type, s.ne, bytes);
  }
  return b;
}

TEST_F(InfoCli, Gemma4TextAndJson) {
  std::uint64_t tensor_bytes = 0;
  GgufBuilder b = model_12b(tensor_bytes);
  TempFile tmp("info12b");
  const std::string bytes = b.build();
  tmp.write(bytes, b.file_size);

  const test::ToolResult t = run_info("'" + tmp.path().string() + "' --ctx 32768");
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_TRUE(t.err.empty()) << t.err;
  EXPECT_HAS(t.out, "architecture:     gemma4");
  EXPECT_HAS(t.out, "gguf version:     3");
  EXPECT_HAS(t.out, "tensors (667):");
  EXPECT_HAS(t.out, "token_embd.weight");
  EXPECT_HAS(t.out, "Q6_K");
  EXPECT_HAS(t.out, "\"ttttt");  // long strings are cut
  EXPECT_HAS(t.out, "(300 bytes)");
  EXPECT_HAS(t.out, "layers:           48 (40 sliding, 8 global)");
  EXPECT_HAS(t.out, "KV cache:         1,040,187,392 bytes");
  EXPECT_HAS(t.out, "total tensor bytes");
  EXPECT_HAS(t.out, "largest tensor:   token_embd.weight Q6_K [3840, 262144], 825,753,600 bytes: 7 binding chunk(s)");

  const test::ToolResult j = run_info("'" + tmp.path().string() + "' --json --ctx 32768");
  ASSERT_EQ(j.code, 0) << j.err;
  const nlohmann::json doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["architecture"], "gemma4");
  EXPECT_EQ(doc["version"], 3);
  EXPECT_EQ(doc["file_size"], b.file_size);
  EXPECT_EQ(doc["tensors"].size(), 667u);
  EXPECT_EQ(doc["tensor_bytes"], tensor_bytes);
  EXPECT_EQ(doc["metadata"]["gemma4.block_count"]["value"], 48);
  EXPECT_EQ(doc["metadata"]["gemma4.attention.head_count_kv"]["count"], 48);
  EXPECT_EQ(doc["metadata"]["gemma4.attention.head_count_kv"]["head"].size(), 8u);
  EXPECT_EQ(doc["hparams"]["n_layer"], 48);
  EXPECT_EQ(doc["hparams"]["pattern"], "SSSSSGSSSSSGSSSSSGSSSSSGSSSSSGSSSSSGSSSSSGSSSSSG");
  EXPECT_EQ(doc["memory_plan"]["kv_cache"]["total_bytes"], 1040187392u);
  EXPECT_EQ(doc["memory_plan"]["weight_bytes"], tensor_bytes);
  EXPECT_EQ(doc["memory_plan"]["largest_tensor"]["binding_chunks"], 7);
  EXPECT_EQ(doc["totals_by_type"]["F32"]["tensors"], 338);
}

TEST_F(InfoCli, MmprojAndUnknownArchitectures) {
  GgufBuilder clip;
  clip.kv_str("general.architecture", "clip")
      .kv_bool("clip.has_vision_encoder", true)
      .kv_str("clip.vision.projector_type", "gemma4uv")
      .kv_str("bad.utf8", "\xff\xfe ok");
  clip.tensor("mm.input_projection.weight", 30, {16, 4}, std::string(128, '\0'));
  TempFile tmp("infoclip");
  tmp.write(clip.build());
  const test::ToolResult t = run_info("'" + tmp.path().string() + "'");
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_HAS(t.out, "vision encoder:   yes (projector gemma4uv");
  EXPECT_HAS(t.out, "BF16");
  const test::ToolResult j = run_info("'" + tmp.path().string() + "' --json");
  ASSERT_EQ(j.code, 0) << j.err;
  const nlohmann::json doc = nlohmann::json::parse(j.out);  // invalid UTF-8 was replaced, still JSON
  EXPECT_EQ(doc["hparams"]["vision_projector"], "gemma4uv");
  EXPECT_EQ(doc["memory_plan"]["weight_bytes"], 128);

  GgufBuilder other;
  other.kv_str("general.architecture", "llama");
  TempFile tmp2("infollama");
  tmp2.write(other.build());
  const test::ToolResult o = run_info("'" + tmp2.path().string() + "'");
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_HAS(o.out, "(not read for architecture 'llama')");
}

TEST_F(InfoCli, ErrorsExitWithOne) {
  TempFile bad("infobad");
  bad.write("this is not a gguf file at all");
  const test::ToolResult r = run_info("'" + bad.path().string() + "'");
  EXPECT_EQ(r.code, 1);
  EXPECT_HAS(r.err, "bad magic");
  EXPECT_TRUE(r.out.empty()) << r.out;

  const test::ToolResult missing = run_info("/nonexistent/model.gguf --json");
  EXPECT_EQ(missing.code, 1);
  EXPECT_HAS(missing.err, "/nonexistent/model.gguf");

  GgufBuilder broken;
  test::add_gemma4_12b_metadata(broken);
  broken.remove("gemma4.block_count").kv_str_array("tokenizer.ggml.tokens", {"a"});
  TempFile tmp("infohp");
  tmp.write(broken.build());
  const test::ToolResult h = run_info("'" + tmp.path().string() + "'");
  EXPECT_EQ(h.code, 1);
  EXPECT_HAS(h.err, "key 'gemma4.block_count' is missing");
  EXPECT_HAS(h.out, "metadata (");  // everything else is still shown

  const test::ToolResult zero = run_info("'" + tmp.path().string() + "' --ctx 0");
  EXPECT_NE(zero.code, 0);
}

}  // namespace
}  // namespace tessera
