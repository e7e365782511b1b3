// Factory tokenizer metadata (spec §8.4): the synthetic vocabulary keeps Gemma 4's special ids
// and forms a valid BPE; tokenizer.json import; the CLI.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <unordered_set>

#include "engine/error.h"
#include "factory/temp_dir.h"
#include "runtime/gguf/gguf.h"
#include "tools/factory/factory.h"

namespace tessera {
namespace {

using factory::Vocab;

void expect_valid_bpe(const Vocab& v) {
  const std::unordered_set<std::string> set(v.tokens.begin(), v.tokens.end());
  EXPECT_EQ(set.size(), v.tokens.size()) << "duplicate tokens";
  for (const std::string& m : v.merges) {
    const std::size_t sp = m.find(' ');
    ASSERT_NE(sp, std::string::npos) << m;
    const std::string a = m.substr(0, sp), b = m.substr(sp + 1);
    ASSERT_TRUE(set.count(a) && set.count(b) && set.count(a + b)) << "merge '" << m << "'";
  }
}

TEST(FactoryVocab, TinySyntheticVocabKeepsTheRealIds) {
  const Vocab v = factory::synthetic_vocab(512);
  ASSERT_EQ(v.size(), 512u);
  EXPECT_EQ(v.tokens[0], "<pad>");
  EXPECT_EQ(v.tokens[1], "<eos>");
  EXPECT_EQ(v.tokens[2], "<bos>");
  EXPECT_EQ(v.tokens[3], "<unk>");
  EXPECT_EQ(v.tokens[4], "<mask>");
  EXPECT_EQ(v.tokens[105], "<|turn>");
  EXPECT_EQ(v.tokens[106], "<turn|>");
  EXPECT_EQ(v.tokens[107], "\n");
  EXPECT_EQ(v.tokens[238], "<0x00>");
  EXPECT_EQ(v.tokens[238 + 0x41], "<0x41>");
  EXPECT_EQ(v.tokens[493], "<0xFF>");
  for (int b = 238; b <= 493; ++b) EXPECT_EQ(v.types[static_cast<std::size_t>(b)], factory::kTokenByte);
  EXPECT_EQ(v.types[105], factory::kTokenControl);
  EXPECT_EQ(v.types[48], factory::kTokenUserDefined);
  EXPECT_EQ(v.scores[105], -1000.0f);
  // Multimodal markers do not fit at 255999+ and take the last 7 ids.
  EXPECT_EQ(v.tokens[505], "<|image>");
  EXPECT_EQ(v.tokens[507], "<|image|>");
  EXPECT_EQ(v.tokens[511], "<|video|>");
  EXPECT_EQ(v.suppress, (std::vector<std::int32_t>{510, 509}));
  EXPECT_NE(v.find("\xE2\x96\x81"), -1);
  EXPECT_FALSE(v.merges.empty());
  expect_valid_bpe(v);
  EXPECT_THROW(factory::synthetic_vocab(300), Error);
}

TEST(FactoryVocab, FullSyntheticVocabMatchesGemma4Ids) {
  const Vocab v = factory::synthetic_vocab(262144);
  const std::pair<int, const char*> ids[] = {
      {46, "<|tool>"},    {47, "<tool|>"},        {48, "<|tool_call>"}, {49, "<tool_call|>"},
      {50, "<|tool_response>"}, {51, "<tool_response|>"}, {52, "<|\"|>"}, {98, "<|think|>"},
      {100, "<|channel>"}, {101, "<channel|>"},   {105, "<|turn>"},     {106, "<turn|>"},
      {108, "\n\n"},      {109, "\n\n\n"},        {255999, "<|image>"}, {256000, "<|audio>"},
      {258880, "<|image|>"}, {258881, "<|audio|>"}, {258882, "<image|>"}, {258883, "<audio|>"},
      {258884, "<|video|>"}};
  for (const auto& [id, text] : ids) EXPECT_EQ(v.tokens[static_cast<std::size_t>(id)], text) << id;
  std::map<std::int32_t, int> counts;
  for (std::int32_t t : v.types) ++counts[t];
  EXPECT_EQ(counts[factory::kTokenByte], 256);
  EXPECT_EQ(counts[factory::kTokenControl], 16);
  EXPECT_EQ(counts[factory::kTokenUserDefined], 7);
  EXPECT_EQ(v.suppress, (std::vector<std::int32_t>{258883, 258882}));
  expect_valid_bpe(v);
}

TEST(FactoryVocab, ImportsTokenizerJson) {
  const Vocab v = factory::import_hf_tokenizer(test::factory_data_dir() / "tokenizer.json");
  ASSERT_EQ(v.size(), 327u);
  EXPECT_EQ(v.bos, 2);
  EXPECT_EQ(v.eos, 1);
  EXPECT_EQ(v.pad, 0);
  EXPECT_EQ(v.unk, 3);
  EXPECT_EQ(v.eot, 6);
  EXPECT_EQ(v.types[3], factory::kTokenUnknown);
  EXPECT_EQ(v.types[5], factory::kTokenControl);      // <|turn>, special
  EXPECT_EQ(v.types[7], factory::kTokenUserDefined);  // <|tool>, not special
  EXPECT_EQ(v.tokens[9], "<0x00>");
  EXPECT_EQ(v.types[9], factory::kTokenByte);
  EXPECT_EQ(v.tokens[265], "\n");
  EXPECT_EQ(v.types[265], factory::kTokenNormal);
  EXPECT_EQ(v.types[319], factory::kTokenUnused);  // the hole before the multimodal markers
  EXPECT_EQ(v.tokens[321], "<|image|>");
  EXPECT_EQ(v.merges.size(), 19u);
  EXPECT_EQ(v.merges[0], "\xE2\x96\x81 t");
  EXPECT_EQ(v.suppress, (std::vector<std::int32_t>{325, 322}));
  expect_valid_bpe(v);
}

TEST(FactoryVocab, ImportAcceptsPairMergesAndRejectsGarbage) {
  test::TempDir dir;
  std::ofstream(dir / "pairs.json") << R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2},
      "merges": [["a", "b"]]}, "added_tokens": [{"id": 3, "content": "<bos>", "special": true}]})";
  const Vocab v = factory::import_hf_tokenizer(dir / "pairs.json");
  EXPECT_EQ(v.size(), 4u);
  EXPECT_EQ(v.merges, (std::vector<std::string>{"a b"}));
  EXPECT_EQ(v.bos, 3);
  EXPECT_EQ(v.eos, -1);
  std::ofstream(dir / "bad.json") << R"({"model": {"merges": []}})";
  EXPECT_THROW(factory::import_hf_tokenizer(dir / "bad.json"), Error);
  std::ofstream(dir / "broken.json") << "{";
  EXPECT_THROW(factory::import_hf_tokenizer(dir / "broken.json"), Error);
  EXPECT_THROW(factory::import_hf_tokenizer(dir / "missing.json"), Error);
}

TEST(FactoryVocab, ImportedVocabShapesTheEmbedding) {
  test::TempDir dir;
  factory::FactoryOptions o;
  o.vocab = test::factory_data_dir() / "tokenizer.json";
  factory::write_files(o, factory::Kind::all, dir / "m.gguf");
  const gguf::File f = gguf::File::open(dir / "m.gguf");
  EXPECT_EQ(f.tensor("token_embd.weight").ne, (std::vector<std::uint64_t>{64, 327}));
  EXPECT_EQ(f.get_string_array("tokenizer.ggml.tokens").size(), 327u);
  EXPECT_EQ(f.get_uint("tokenizer.ggml.eot_token_id"), 6u);
  const gguf::File d = gguf::File::open(dir / "m-drafter.gguf");
  EXPECT_EQ(d.tensor("token_embd.weight").ne, (std::vector<std::uint64_t>{32, 327}));
}

TEST(FactoryVocab, ChatTemplateUsesGemma4Turns) {
  const std::string& t = factory::gemma4_chat_template();
  for (const char* s : {"bos_token", "<|turn>", "<turn|>", "'model'", "<|image|>", "<|audio|>", "add_generation_prompt",
                        "<|channel>thought\\n<channel|>"})
    EXPECT_NE(t.find(s), std::string::npos) << s;
}

TEST(FactoryCli, WritesAllThreeFiles) {
  test::TempDir dir;
  const test::ToolResult r =
      test::run_tool("tessera-factory", "--preset tiny --type Q8_0 --seed 5 --kind all -o '" + (dir / "cli.gguf").string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("86 tensors"), std::string::npos) << r.out;
  EXPECT_EQ(gguf::File::open(dir / "cli-mmproj.gguf").tensors().size(), 11u);
  EXPECT_EQ(gguf::File::open(dir / "cli-drafter.gguf").tensors().size(), 49u);
  const test::ToolResult bad = test::run_tool("tessera-factory", "--preset huge -o '" + (dir / "x.gguf").string() + "'");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("[factory] unknown preset"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace tessera
