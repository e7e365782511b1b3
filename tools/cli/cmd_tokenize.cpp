// `tessera tokenize -m model.gguf [--no-bos] [--no-special] [--pieces] TEXT|--file F`: the ids the
// model's tokenizer gives TEXT, space-separated on one line, or with --pieces one "id<TAB>piece"
// line per token (pieces escaped so each stays on one line). Any error: stderr and exit code 1.
#include <cstdio>
#include <exception>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/gguf/gguf.h"
#include "runtime/tokenizer/tokenizer.h"
#include "tools/cli/commands.h"

namespace tessera::cli {
namespace {

struct TokenizeOptions {
  std::string model;
  std::string text;
  std::string file;
  bool no_bos = false;
  bool no_special = false;
  bool pieces = false;
};

// Length of the valid UTF-8 sequence at s[i] (0 when s[i] does not start one).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  return n;
}

// A piece on one line: backslash, tab, CR, LF and other control bytes, and bytes that are not
// part of a complete UTF-8 character (byte-fallback tokens), as escapes.
std::string escape_piece(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = utf8_sequence(s, i);
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (n == 0 || c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    ++i;
  }
  return out;
}

int run_tokenize(const TokenizeOptions& o) {
  try {
    std::string text = o.text;
    if (!o.file.empty()) {
      std::ifstream in(o.file, std::ios::binary);
      if (!in) throw std::runtime_error("cannot read '" + o.file + "'");
      text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    const gguf::File f = gguf::File::open(o.model);
    const Tokenizer tok = Tokenizer::from_gguf(f);
    const std::vector<std::int32_t> ids = tok.encode(text, !o.no_bos && tok.add_bos(), !o.no_special);
    std::string out;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (o.pieces) out += std::to_string(ids[i]) + "\t" + escape_piece(tok.token_to_piece(ids[i], true)) + "\n";
      else out += (i ? " " : "") + std::to_string(ids[i]);
    }
    if (!o.pieces) out += "\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    return 0;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "tessera tokenize: error: %s\n", e.what());
    return 1;
  }
}

}  // namespace

void add_tokenize_command(CLI::App& app, const GlobalOptions&, int& exit_code) {
  auto opts = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand("tokenize", "print the token ids of a text under a model's tokenizer");
  cmd->add_option("-m,--model", opts->model, "the model .gguf file (its tokenizer.ggml.* metadata)")->required();
  CLI::Option* text = cmd->add_option("text", opts->text, "the text to tokenize (use -- before text starting with -)");
  CLI::Option* file = cmd->add_option("-f,--file", opts->file, "read the text from a file instead, bytes as they are");
  text->excludes(file);
  cmd->add_flag("--no-bos", opts->no_bos, "do not prepend <bos> (default: as tokenizer.ggml.add_bos_token says)");
  cmd->add_flag("--no-special", opts->no_special,
                "treat control tokens written in the text (<bos>, <|turn>, ...) as plain text");
  cmd->add_flag("--pieces", opts->pieces, "print one 'id<TAB>piece' line per token instead");
  cmd->callback([opts, &exit_code] { exit_code = run_tokenize(*opts); });
}

}  // namespace tessera::cli
