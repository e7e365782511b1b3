// render_chat against the real Gemma 4 chat templates (tests/chat/data, see its README): a set
// of conversations rendered by our C++ and by the templates through @huggingface/jinja (the
// Jinja engine of transformers.js, installed into <build>/npm-cache/hf-jinja when missing;
// skips only when node or the npm registry is unavailable), compared byte for byte. Plus the
// spec §8.5 layout written out by hand, the helpers, errors, tokenization of a rendered prompt,
// and the factory writing the real template.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/tools.h"
#include "engine/error.h"
#include "runtime/chat/chat_template.h"
#include "runtime/gguf/gguf.h"
#include "runtime/tokenizer/tokenizer.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Messages = std::vector<ChatMessage>;

fs::path source_dir() {
  if (const char* src = std::getenv("TESSERA_SOURCE_DIR")) return src;
  return fs::path(__FILE__).parent_path().parent_path().parent_path();
}

fs::path data_dir() { return source_dir() / "tests" / "chat" / "data"; }

ChatMessage msg(std::string role, std::string content, int images = 0, int audio = 0) {
  return {std::move(role), std::move(content), images, audio};
}

std::string render(const Messages& m, bool generation = true, bool thinking = false) {
  return render_chat(m, ChatOptions{generation, thinking});
}

// ---- the layout of spec §8.5, written out ----

TEST(ChatTemplate, SpecLayout) {
  EXPECT_EQ(render({msg("user", "Hi")}),
            "<bos><|turn>user\nHi<turn|>\n<|turn>model\n<|channel>thought\n<channel|>");
  EXPECT_EQ(render({msg("user", "Hi")}, true, true), "<bos><|turn>system\n<|think|>\n<turn|>\n<|turn>user\nHi<turn|>\n<|turn>model\n");
  EXPECT_EQ(render({msg("system", " Be brief.\n"), msg("user", "Hi"), msg("assistant", "Hello!"), msg("user", "2+2?")}, true, true),
            "<bos><|turn>system\n<|think|>\nBe brief.<turn|>\n<|turn>user\nHi<turn|>\n<|turn>model\nHello!<turn|>\n"
            "<|turn>user\n2+2?<turn|>\n<|turn>model\n");
  EXPECT_EQ(render({msg("system", "S"), msg("user", "Hi"), msg("assistant", "Yo")}, false),
            "<bos><|turn>system\nS<turn|>\n<|turn>user\nHi<turn|>\n<|turn>model\nYo<turn|>\n");
  EXPECT_EQ(render({msg("user", "What is this?", 1, 0)}, false), "<bos><|turn>user\n<|image|>What is this?<turn|>\n");
  EXPECT_EQ(render({msg("user", "Both", 2, 1)}, false), "<bos><|turn>user\n<|image|><|image|><|audio|>Both<turn|>\n");
  EXPECT_EQ(render({}, true), "<bos><|turn>model\n<|channel>thought\n<channel|>");
  EXPECT_EQ(render({}, false, true), "<bos><|turn>system\n<|think|>\n<turn|>\n");
}

TEST(ChatTemplate, ModelTextLosesThoughtsAndConsecutiveAssistantsShareATurn) {
  EXPECT_EQ(render({msg("user", "Q"), msg("assistant", "<|channel>thought\nhmm<channel|>  A  ")}, false),
            "<bos><|turn>user\nQ<turn|>\n<|turn>model\nA<turn|>\n");
  EXPECT_EQ(render({msg("user", "Q"), msg("assistant", "A"), msg("assistant", "B")}, false),
            "<bos><|turn>user\nQ<turn|>\n<|turn>model\nAB<turn|>\n");
  // A tool message between them is left out and does not split the turn.
  EXPECT_EQ(render({msg("user", "Q"), msg("assistant", "A"), msg("tool", "42"), msg("assistant", "B")}, false),
            "<bos><|turn>user\nQ<turn|>\n<|turn>model\nAB<turn|>\n");
  // Users' text keeps its literal markers (only trimmed).
  EXPECT_EQ(render({msg("user", " <|channel>x<channel|> ")}, false), "<bos><|turn>user\n<|channel>x<channel|><turn|>\n");
}

TEST(ChatTemplate, Helpers) {
  EXPECT_EQ(chat_trim(" \t\n a b \r\n"), "a b");
  EXPECT_EQ(chat_trim("\xC2\xA0x\xE3\x80\x80"), "x");           // U+00A0, U+3000
  EXPECT_EQ(chat_trim("\xE2\x80\x8Bx"), "\xE2\x80\x8Bx");        // U+200B is not whitespace
  EXPECT_EQ(chat_trim("\xE2\x80\xAF\xE2\x80\x8A"), "");          // U+202F, U+200A
  EXPECT_EQ(chat_trim(""), "");
  EXPECT_EQ(chat_strip_thinking("a<|channel>t<channel|>b<|channel>u<channel|> c "), "ab c");
  EXPECT_EQ(chat_strip_thinking("keep<|channel>never closed"), "keep");
  EXPECT_EQ(chat_strip_thinking("x<channel|>y"), "xy");
  EXPECT_EQ(chat_strip_thinking("<|channel>only"), "");
}

TEST(ChatTemplate, Errors) {
  EXPECT_THROW(render({msg("robot", "x")}), Error);
  EXPECT_THROW(render({msg("user", "x", -1)}), Error);
  EXPECT_THROW(render({msg("system", "x", 1)}), Error);
  try {
    render({msg("user", "x"), msg("admin", "y")});
    ADD_FAILURE() << "no throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[chat] message 1 has role 'admin'"), std::string::npos) << e.what();
  }
}

// ---- the oracle ----

struct Case {
  std::string name;
  Messages messages;
  ChatOptions options;
};

std::vector<Case> cases() {
  const ChatOptions gen{true, false}, think{true, true}, full{false, false}, full_think{false, true};
  const std::string long_text =
      "Line one.\n\nLine three with \ttabs\t and trailing spaces   \n    indented code();\n\n\n";
  return {
      {"system + user", {msg("system", "You are a helpful assistant."), msg("user", "Hello!")}, gen},
      {"system + user, thinking", {msg("system", "You are a helpful assistant."), msg("user", "Hello!")}, think},
      {"user only", {msg("user", "Why is the sky blue?")}, gen},
      {"user only, thinking", {msg("user", "Why is the sky blue?")}, think},
      {"user only, no generation prompt", {msg("user", "Hi")}, full},
      {"multi-turn",
       {msg("system", "Answer in one word."), msg("user", "Capital of France?"), msg("assistant", "Paris."),
        msg("user", "And of Italy?"), msg("assistant", "Rome."), msg("user", "Spain?")},
       gen},
      {"multi-turn, thinking, thoughts in the history",
       {msg("user", "2+2?"), msg("assistant", "<|channel>thought\nTwo and two.<channel|>4"), msg("user", "3+3?"),
        msg("assistant", "<|channel>thought\nThree and three.<channel|>\n\n6\n")},
       think},
      {"multi-turn, complete, no system", {msg("user", "Hi"), msg("assistant", "Hello! How can I help?")}, full},
      {"multi-turn, complete, thinking", {msg("user", "Hi"), msg("assistant", "Hello!")}, full_think},
      {"image", {msg("user", "Describe this image.", 1)}, gen},
      {"two images and thinking", {msg("system", "Be precise."), msg("user", "Compare them.", 2)}, think},
      {"audio", {msg("user", "Transcribe this.", 0, 1)}, gen},
      {"image and audio", {msg("user", "What do you see and hear?", 1, 1)}, gen},
      {"image only", {msg("user", "", 1)}, gen},
      {"images across turns",
       {msg("user", "First picture.", 1), msg("assistant", "A cat."), msg("user", "Second picture.", 1)}, gen},
      {"whitespace and newlines", {msg("system", "\n\n  sys  \n"), msg("user", long_text), msg("assistant", long_text)}, full},
      {"non-breaking spaces and ideographic space", {msg("user", "\xC2\xA0\xC2\xA0text\xE3\x80\x80")}, gen},
      {"unicode", {msg("user", "我爱自然语言处理。 Привет 👍🏽 مرحبا")}, gen},
      {"literal markers in user text", {msg("user", "Write <|turn> and <channel|> and <|image|> literally.")}, gen},
      {"whitespace-only user text", {msg("user", " \n\t ")}, gen},
      {"unclosed thought in the history", {msg("user", "Q"), msg("assistant", "Partial<|channel>thought\nnever closed"), msg("user", "Q2")},
       gen},
      {"developer as system", {msg("developer", "Dev rules."), msg("user", "Hi")}, gen},
      {"developer later", {msg("user", "Hi"), msg("developer", "Note."), msg("user", "Again")}, gen},
      {"model role", {msg("user", "Hi"), msg("model", "Hey."), msg("user", "Bye")}, gen},
      {"system only", {msg("system", "Only a system prompt.")}, gen},
      {"system only, thinking", {msg("system", "Only a system prompt.")}, think},
      {"tool message left out", {msg("user", "Q"), msg("assistant", "A"), msg("tool", "result"), msg("user", "Q2")}, gen},
      // Where the 2026-06 revision differs (see data/README.md):
      {"consecutive assistant messages", {msg("user", "Q"), msg("assistant", "Part one."), msg("assistant", "Part two.")}, full},
      {"consecutive assistant messages, then user",
       {msg("user", "Q"), msg("assistant", "A"), msg("tool", "t"), msg("assistant", "B"), msg("user", "Q2")}, gen},
      {"model then assistant", {msg("user", "Q"), msg("model", "A"), msg("assistant", "B")}, full},
      {"empty conversation", {}, gen},
      {"empty conversation, thinking", {}, think},
  };
}

// True when the 2026-06 revision renders the case differently (or fails): an assistant or model
// message followed by an assistant message, or no messages at all.
bool differs_in_2026_06(const Case& c) {
  if (c.messages.empty()) return true;
  for (std::size_t i = 0; i < c.messages.size(); ++i) {
    const std::string& r = c.messages[i].role;
    if (r != "assistant" && r != "model") continue;
    for (std::size_t j = i + 1; j < c.messages.size(); ++j) {
      if (c.messages[j].role == "tool") continue;
      if (c.messages[j].role == "assistant") return true;
      break;
    }
  }
  return false;
}

// The HF message format: a content list when there are placeholders, else a string.
json case_json(const Case& c) {
  json messages = json::array();
  for (const ChatMessage& m : c.messages) {
    if (m.n_images == 0 && m.n_audio == 0) {
      messages.push_back({{"role", m.role}, {"content", m.content}});
      continue;
    }
    json content = json::array();
    for (int i = 0; i < m.n_images; ++i) content.push_back({{"type", "image"}});
    for (int i = 0; i < m.n_audio; ++i) content.push_back({{"type", "audio"}});
    content.push_back({{"type", "text"}, {"text", m.content}});
    messages.push_back({{"role", m.role}, {"content", content}});
  }
  return {{"messages", messages},
          {"add_generation_prompt", c.options.add_generation_prompt},
          {"enable_thinking", c.options.enable_thinking}};
}

std::string shown(const std::string& s) { return json(s).dump(); }

// Renders `cs` with a template through node; empty on failure (with the reason in *err).
std::vector<std::string> render_js(const fs::path& prefix, const fs::path& tpl, const std::vector<Case>& cs,
                                   const test::TempDir& dir, std::string* err) {
  json all = json::array();
  for (const Case& c : cs) all.push_back(case_json(c));
  std::ofstream(dir / "cases.json") << all.dump();
  const std::string cmd = "node '" + (source_dir() / "tests/chat/render.mjs").string() + "' '" + prefix.string() + "' '" +
                          tpl.string() + "' '" + (dir / "cases.json").string() + "' >'" + (dir / "js.json").string() +
                          "' 2>'" + (dir / "js.err").string() + "'";
  if (std::system(cmd.c_str()) != 0) {
    *err = test::read_all(dir / "js.err").substr(0, 4000);
    return {};
  }
  return json::parse(test::read_all(dir / "js.json")).get<std::vector<std::string>>();
}

TEST(ChatTemplateOracle, MatchesTheRealTemplatesThroughJinja) {
  const auto t0 = std::chrono::steady_clock::now();
  if (std::system("node --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "node is not installed";
  // Its own prefix, so that npm runs of test_tokenizer's oracle and this one never share a folder.
  const fs::path prefix = test::tool_path("tessera").parent_path().parent_path() / "npm-cache" / "hf-jinja";
  const fs::path pkg = prefix / "node_modules" / "@huggingface" / "jinja";
  if (!fs::exists(pkg / "package.json")) {
    fs::create_directories(prefix);
    const std::string cmd = "timeout 180 npm install --prefix '" + prefix.string() +
                            "' --no-audit --no-fund @huggingface/jinja@0.5.11 >'" + (prefix / "install.log").string() + "' 2>&1";
    if (std::system(cmd.c_str()) != 0 || !fs::exists(pkg / "package.json"))
      GTEST_SKIP() << "npm install @huggingface/jinja failed (registry unreachable?); see " << (prefix / "install.log").string()
                   << ":\n" << test::read_all(prefix / "install.log");
  }
  const auto t_install = std::chrono::steady_clock::now();

  const test::TempDir dir;
  const std::vector<Case> all = cases();
  std::string err;

  // The GGUF template: every case, byte for byte.
  const fs::path gguf_tpl = data_dir() / "gemma4_chat_template.jinja";
  ASSERT_EQ(fs::file_size(gguf_tpl), 18922u);
  const std::vector<std::string> want = render_js(prefix, gguf_tpl, all, dir, &err);
  ASSERT_EQ(want.size(), all.size()) << "render.mjs failed:\n" << err;
  std::size_t matched = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const std::string ours = render_chat(all[i].messages, all[i].options);
    if (ours == want[i]) ++matched;
    else ADD_FAILURE() << "case '" << all[i].name << "'\n  ours:     " << shown(ours) << "\n  template: " << shown(want[i]);
  }

  // The 2026-06 revision: the same text wherever it does not differ by design, and different
  // where it does (so the list of differences above stays true).
  const fs::path old_tpl = data_dir() / "gemma4_chat_template_2026-06.jinja";
  ASSERT_EQ(fs::file_size(old_tpl), 17466u);
  std::vector<Case> old_cases;
  for (const Case& c : all)
    if (!c.messages.empty()) old_cases.push_back(c);
  const std::vector<std::string> old_want = render_js(prefix, old_tpl, old_cases, dir, &err);
  ASSERT_EQ(old_want.size(), old_cases.size()) << "render.mjs failed on the 2026-06 template:\n" << err;
  std::size_t old_same = 0;
  for (std::size_t i = 0; i < old_cases.size(); ++i) {
    const std::string ours = render_chat(old_cases[i].messages, old_cases[i].options);
    if (differs_in_2026_06(old_cases[i])) {
      EXPECT_NE(ours, old_want[i]) << "case '" << old_cases[i].name << "' was expected to differ in the 2026-06 revision";
    } else if (ours == old_want[i]) {
      ++old_same;
    } else {
      ADD_FAILURE() << "2026-06 template, case '" << old_cases[i].name << "'\n  ours:     " << shown(ours)
                    << "\n  template: " << shown(old_want[i]);
    }
  }
  const double s_install = std::chrono::duration<double>(t_install - t0).count();
  const double s_total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "[chat oracle] " << matched << "/" << all.size() << " cases match the GGUF template, " << old_same
            << " match the 2026-06 revision (the others differ there by design); install " << s_install << " s, total "
            << s_total << " s\n";
}

// ---- the prompt as tokens, and the factory's template ----

TEST(ChatTemplate, FactoryWritesTheRealTemplateAndPromptsTokenizeWithOneBos) {
  const test::TempDir dir;
  const test::ToolResult made =
      test::run_tool("tessera-factory", "--preset tiny --zeros -o '" + (dir / "m.gguf").string() + "'");
  ASSERT_EQ(made.code, 0) << made.err;
  const gguf::File f = gguf::File::open(dir / "m.gguf");
  EXPECT_EQ(f.get_string("tokenizer.chat_template"), test::read_all(data_dir() / "gemma4_chat_template.jinja"));

  const Tokenizer tok = Tokenizer::from_gguf(f);
  const std::string prompt = render({msg("system", "S"), msg("user", "Hi", 1)});
  const std::vector<std::int32_t> ids = tok.encode(prompt, /*add_bos=*/false, /*parse_special=*/true);
  ASSERT_GE(ids.size(), 4u);
  EXPECT_EQ(ids[0], tok.bos_id());
  EXPECT_EQ(std::count(ids.begin(), ids.end(), tok.bos_id()), 1);
  EXPECT_EQ(ids[1], tok.find("<|turn>"));
  for (const char* special : {"<|turn>", "<turn|>", "<|image|>", "<|channel>", "<channel|>"}) {
    const std::int32_t id = tok.find(special);
    ASSERT_GE(id, 0) << special;
    EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end()) << special << " is not one token of the prompt";
  }
  EXPECT_EQ(tok.decode(ids, /*render_special=*/true), prompt);
}

}  // namespace
}  // namespace tessera
