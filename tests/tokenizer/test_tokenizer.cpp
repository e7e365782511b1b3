// Tokenizer on a hand-made vocabulary written to a GGUF (spec §8.4): merge order, newline runs,
// byte fallback, special tokens, BOS, decode round trip, streaming decode, metadata errors.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "common/tools.h"
#include "engine/error.h"
#include "runtime/gguf/gguf.h"
#include "runtime/gguf/gguf_writer.h"
#include "runtime/tokenizer/tokenizer.h"

namespace tessera {
namespace {

using Ids = std::vector<std::int32_t>;

struct SmallVocab {
  std::vector<std::string> tokens;
  std::vector<std::int32_t> types;
  std::vector<std::string> merges;

  std::int32_t add(const std::string& s, TokenType t = TokenType::normal) {
    tokens.push_back(s);
    types.push_back(static_cast<std::int32_t>(t));
    return static_cast<std::int32_t>(tokens.size() - 1);
  }
};

// ids 0..8 specials and newlines, 9..264 byte tokens <0x00>..<0xFF>, then text tokens.
SmallVocab small_vocab() {
  SmallVocab v;
  v.add("<pad>", TokenType::control);
  v.add("<eos>", TokenType::control);
  v.add("<bos>", TokenType::control);
  v.add("<unk>", TokenType::unknown);
  v.add("<|turn>", TokenType::control);
  v.add("<turn|>", TokenType::control);
  v.add("<|tool>", TokenType::user_defined);
  v.add("<|tool>!", TokenType::control);  // shares a prefix with <|tool>
  v.add("\n");
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    v.add(buf, TokenType::byte);
  }
  for (const char* s : {"\xE2\x96\x81", "a", "b", "c", "h", "e", "l", "o", "w", "r", "d", "x", "ab", "bc", "he", "ll",
                        "llo", "hello", "\xE2\x96\x81w", "or", "\xE2\x96\x81wor", "\xE2\x96\x81worl", "\xE2\x96\x81world", "\n\n", "aa",
                        "\xE2\x96\x81\xE2\x96\x81"})
    v.add(s);
  v.merges = {"b c", "a b", "l l", "h e", "ll o", "he llo", "o r", "\xE2\x96\x81 w", "\xE2\x96\x81w or",
              "\xE2\x96\x81wor l", "\xE2\x96\x81worl d", "\n \n", "a a", "\xE2\x96\x81 \xE2\x96\x81"};
  return v;
}

void write_vocab(const std::filesystem::path& path, const SmallVocab& v, const std::string& model = "gemma4") {
  gguf::Writer w;
  w.set_string("general.architecture", "gemma4");
  w.set_string("tokenizer.ggml.model", model);
  w.set_array("tokenizer.ggml.tokens", v.tokens);
  w.set_array("tokenizer.ggml.scores", std::vector<float>(v.tokens.size(), 0.0f));
  w.set_array("tokenizer.ggml.token_type", v.types);
  w.set_array("tokenizer.ggml.merges", v.merges);
  w.set_u32("tokenizer.ggml.bos_token_id", 2);
  w.set_u32("tokenizer.ggml.eos_token_id", 1);
  w.set_u32("tokenizer.ggml.unknown_token_id", 3);
  w.set_u32("tokenizer.ggml.padding_token_id", 0);
  w.set_bool("tokenizer.ggml.add_bos_token", true);
  w.begin(path);
  w.finish();
}

class TokenizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_vocab(dir_ / "small.gguf", small_vocab());
    tok_ = std::make_unique<Tokenizer>(Tokenizer::from_gguf(gguf::File::open(dir_ / "small.gguf")));
  }
  std::int32_t id(const std::string& s) const {
    const std::int32_t i = tok_->find(s);
    EXPECT_GE(i, 0) << s;
    return i;
  }
  std::int32_t byte(int b) const { return 9 + b; }
  Ids enc(std::string_view s, bool special = false) const { return tok_->encode(s, false, special); }

  test::TempDir dir_;
  std::unique_ptr<Tokenizer> tok_;
};

TEST_F(TokenizerTest, ReadsMetadata) {
  EXPECT_EQ(tok_->size(), 9u + 256u + 26u);
  EXPECT_EQ(tok_->bos_id(), 2);
  EXPECT_EQ(tok_->eos_id(), 1);
  EXPECT_EQ(tok_->unk_id(), 3);
  EXPECT_EQ(tok_->pad_id(), 0);
  EXPECT_TRUE(tok_->add_bos());
  EXPECT_EQ(tok_->n_merges(), 14u);
  EXPECT_EQ(tok_->type(byte(0x41)), TokenType::byte);
  EXPECT_THROW(tok_->token(100000), Error);
}

TEST_F(TokenizerTest, MergesApplyLowestRankFirst) {
  // "b c" has rank 0, so "abc" is a + bc even though "a b" comes first in the text.
  EXPECT_EQ(enc("abc"), (Ids{id("a"), id("bc")}));
  EXPECT_EQ(enc("hello world"), (Ids{id("hello"), id("\xE2\x96\x81world")}));
  // Equal ranks merge leftmost first: "aaa" -> aa + a.
  EXPECT_EQ(enc("aaa"), (Ids{id("aa"), id("a")}));
  // The same vocabulary with the two first merges swapped gives ab + c.
  SmallVocab v = small_vocab();
  std::swap(v.merges[0], v.merges[1]);
  write_vocab(dir_ / "swapped.gguf", v);
  const Tokenizer t = Tokenizer::from_gguf(gguf::File::open(dir_ / "swapped.gguf"));
  EXPECT_EQ(t.encode("abc", false, false), (Ids{id("ab"), id("c")}));
}

TEST_F(TokenizerTest, SpacesBecomeMarksWithoutPrefix) {
  EXPECT_EQ(enc(" a"), (Ids{id("\xE2\x96\x81"), id("a")}));
  EXPECT_EQ(enc("a  b"), (Ids{id("a"), id("\xE2\x96\x81\xE2\x96\x81"), id("b")}));
  EXPECT_TRUE(enc("").empty());
}

TEST_F(TokenizerTest, NewlineRuns) {
  EXPECT_EQ(enc("a\n\nb"), (Ids{id("a"), id("\n\n"), id("b")}));
  EXPECT_EQ(enc("\n"), (Ids{id("\n")}));
  // "\n\n\n" is not a token: BPE over the run.
  EXPECT_EQ(enc("\n\n\n"), (Ids{id("\n\n"), id("\n")}));
  EXPECT_EQ(enc("ab\n c"), (Ids{id("ab"), id("\n"), id("\xE2\x96\x81"), id("c")}));
}

TEST_F(TokenizerTest, ByteFallbackForUnknownCharacters) {
  // U+1F600 is F0 9F 98 80; "é" is C3 A9.
  EXPECT_EQ(enc("a\xF0\x9F\x98\x80"), (Ids{id("a"), byte(0xF0), byte(0x9F), byte(0x98), byte(0x80)}));
  EXPECT_EQ(enc("\xC3\xA9"), (Ids{byte(0xC3), byte(0xA9)}));
  // Invalid UTF-8: stray continuation, truncated sequence, 0xFF.
  EXPECT_EQ(enc("\x80" "a\xE2\x96"), (Ids{byte(0x80), id("a"), byte(0xE2), byte(0x96)}));
  EXPECT_EQ(enc("\xFF\xFE"), (Ids{byte(0xFF), byte(0xFE)}));
}

TEST_F(TokenizerTest, SpecialTokensOnlyWhenAsked) {
  EXPECT_EQ(enc("<|turn>ab<turn|>", true), (Ids{4, id("ab"), 5}));
  const Ids plain = enc("<|turn>", false);
  EXPECT_EQ(plain.size(), 7u);  // '<' '|' 't' 'u' 'r' 'n' '>' as bytes / letters
  EXPECT_EQ(plain.front(), byte('<'));
  EXPECT_EQ(enc("<bos>", true), (Ids{2}));
  EXPECT_EQ(enc("<unk>", true), (Ids{3}));
  EXPECT_EQ(enc("<unk>", false).size(), 5u);
  // Longest match: <|tool>! (control) wins over <|tool> with parse_special; without it the
  // user-defined <|tool> is still matched.
  EXPECT_EQ(enc("x<|tool>!", true), (Ids{id("x"), 7}));
  EXPECT_EQ(enc("x<|tool>!", false), (Ids{id("x"), 6, byte('!')}));
}

TEST_F(TokenizerTest, BosHandling) {
  EXPECT_EQ(tok_->encode("ab", true, false), (Ids{2, id("ab")}));
  EXPECT_EQ(tok_->encode("", true, false), (Ids{2}));
  EXPECT_EQ(tok_->encode("<bos>ab", false, true), (Ids{2, id("ab")}));
}

TEST_F(TokenizerTest, DecodeRoundTrip) {
  for (const std::string s : {"hello world", "  abc\n\n\nx ", "\xF0\x9F\x98\x80 \xC3\xA9\n", "\xFF\x80" "ab\xE2\x96"}) {
    EXPECT_EQ(tok_->decode(enc(s)), s);
  }
  EXPECT_EQ(tok_->decode(Ids{2, id("ab"), 5}), "ab");
  EXPECT_EQ(tok_->decode(Ids{2, id("ab"), 5}, true), "<bos>ab<turn|>");
  EXPECT_EQ(tok_->decode(Ids{6}), "<|tool>");  // user-defined tokens render as text
  EXPECT_THROW(tok_->decode(Ids{-1}), Error);
}

TEST_F(TokenizerTest, StreamingHoldsPartialCharacters) {
  Detokenizer d(*tok_);
  const Ids ids = enc("a\xF0\x9F\x98\x80!");
  ASSERT_EQ(ids.size(), 6u);
  std::vector<std::string> parts;
  for (std::int32_t i : ids) parts.push_back(d.push(i));
  EXPECT_EQ(parts, (std::vector<std::string>{"a", "", "", "", "\xF0\x9F\x98\x80", "!"}));
  EXPECT_EQ(d.flush(), "");
  // A truncated sequence at the end comes out on flush.
  EXPECT_EQ(d.push(byte(0xE2)), "");
  EXPECT_EQ(d.push(id("\xE2\x96\x81")), "\xE2 ");
  EXPECT_EQ(d.push(byte(0xC3)), "");
  EXPECT_EQ(d.flush(), "\xC3");
  EXPECT_EQ(d.push(5), "");
  Detokenizer special(*tok_, true);
  EXPECT_EQ(special.push(5), "<turn|>");
}

TEST_F(TokenizerTest, LongInputsAreFast) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "hello world abc\n";
  const std::string same(200000, 'a');
  const auto t0 = std::chrono::steady_clock::now();
  const Ids ids = enc(text);
  const Ids as = enc(same);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(ids.size(), 20000u * 6u);  // hello ▁world ▁ a bc \n
  EXPECT_EQ(as.size(), 100000u);
  EXPECT_EQ(tok_->decode(ids), text);
  EXPECT_LT(s, 5.0);
}

void expect_error(const std::filesystem::path& path, const std::string& what) {
  try {
    (void)Tokenizer::from_gguf(gguf::File::open(path));
    ADD_FAILURE() << "no error for " << path << ", expected " << what;
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("[tokenizer]"), std::string::npos) << msg;
    EXPECT_NE(msg.find(path.filename().string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
  }
}

TEST_F(TokenizerTest, BrokenMetadataNamesFileAndKey) {
  {
    gguf::Writer w;
    w.set_string("tokenizer.ggml.model", "gemma4");
    w.set_array("tokenizer.ggml.tokens", std::vector<std::string>{"a", "b"});
    w.set_array("tokenizer.ggml.token_type", std::vector<std::int32_t>{1, 1});
    w.begin(dir_ / "no_merges.gguf");
    w.finish();
    expect_error(dir_ / "no_merges.gguf", "'tokenizer.ggml.merges' is missing");
  }
  {
    gguf::Writer w;
    w.set_string("tokenizer.ggml.model", "gemma4");
    w.set_array("tokenizer.ggml.tokens", std::vector<std::string>{"a", "b"});
    w.set_array("tokenizer.ggml.token_type", std::vector<std::int32_t>{1});
    w.set_array("tokenizer.ggml.merges", std::vector<std::string>{});
    w.begin(dir_ / "short_types.gguf");
    w.finish();
    expect_error(dir_ / "short_types.gguf", "'tokenizer.ggml.token_type' has 1 entries but 'tokenizer.ggml.tokens' has 2");
  }
  SmallVocab v = small_vocab();
  write_vocab(dir_ / "bert.gguf", v, "bert");
  expect_error(dir_ / "bert.gguf", "'tokenizer.ggml.model' is 'bert'");
  {
    gguf::Writer w;
    w.set_string("general.architecture", "gemma4");
    w.begin(dir_ / "empty.gguf");
    w.finish();
    expect_error(dir_ / "empty.gguf", "'tokenizer.ggml.model' is missing");
  }
  {
    gguf::Writer w;
    w.set_string("tokenizer.ggml.model", "llama");
    w.set_array("tokenizer.ggml.tokens", std::vector<std::string>{"a", "b"});
    w.set_array("tokenizer.ggml.token_type", std::vector<std::int32_t>{1, 1});
    w.set_array("tokenizer.ggml.merges", std::vector<std::string>{});
    w.set_u32("tokenizer.ggml.bos_token_id", 7);
    w.begin(dir_ / "bad_bos.gguf");
    w.finish();
    expect_error(dir_ / "bad_bos.gguf", "'tokenizer.ggml.bos_token_id' is 7");
  }
}

TEST(TokenizerVocab, FromPlainArrays) {
  const SmallVocab v = small_vocab();
  const Tokenizer t = Tokenizer::from_vocab(v.tokens, {}, v.types, v.merges, "small");
  EXPECT_EQ(t.bos_id(), 2);
  EXPECT_EQ(t.unk_id(), 3);
  EXPECT_EQ(t.encode("hello world", true, false), (Ids{2, t.find("hello"), t.find("\xE2\x96\x81world")}));
  try {
    (void)Tokenizer::from_vocab({"a", "b"}, {}, {1}, {}, "short");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[tokenizer] short:"), std::string::npos) << e.what();
  }
}

TEST(TokenizerFactory, ImportedTokenizerJsonRoundTrips) {
  const test::TempDir dir;
  const char* src = std::getenv("TESSERA_SOURCE_DIR");
  const std::filesystem::path json = src ? std::filesystem::path(src) / "tests/factory/data/tokenizer.json"
                                         : std::filesystem::path(__FILE__).parent_path().parent_path() / "factory/data/tokenizer.json";
  const test::ToolResult r = test::run_tool(
      "tessera-factory", "--preset tiny --zeros --vocab '" + json.string() + "' -o '" + (dir / "v.gguf").string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const Tokenizer t = Tokenizer::from_gguf(gguf::File::open(dir / "v.gguf"));
  EXPECT_EQ(t.bos_id(), t.find("<bos>"));
  const std::string text = "the cat in the hat \xF0\x9F\x98\x80\n\n<|turn>";
  const Ids ids = t.encode(text, true, true);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), t.bos_id());
  EXPECT_EQ(t.decode(ids, true), "<bos>" + text);
  // "▁ t" is merge 0: " t" is one token.
  EXPECT_EQ(t.encode(" t", false, false), (Ids{t.find("\xE2\x96\x81t")}));
}

}  // namespace
}  // namespace tessera
