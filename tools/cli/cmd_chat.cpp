// `tessera chat -m model.gguf`: interactive multi-turn chat on stdin/stdout. The KV cache is kept
// between turns: each turn feeds only the new text (the end of the model's turn and the next user
// turn), found as the difference of two renderings of the conversation. /reset starts over,
// /exit (or end of input) quits.
#include <cstdio>
#include <iostream>

#include "engine/error.h"
#include "runtime/chat/chat_template.h"
#include "runtime/generate/generate.h"
#include "tools/cli/model_setup.h"

namespace tessera::cli {
namespace {

struct ChatCliOptions {
  ModelArgs model;
  SamplingArgs sampling;
  std::string system;
  std::uint32_t n_predict = 1024;
  bool think = false;
};

class Conversation {
 public:
  Conversation(const ChatCliOptions& o, LoadedModel& lm)
      : o_(o), lm_(lm), session_(*lm.model, lm.session_options(o.model.ubatch)),
        sampler_(resolve_sampling(o.sampling, lm.model->file()), lm.model->hparams().n_vocab),
        stops_(StopSet::from_tokenizer(*lm.tokenizer)) {
    reset();
  }

  void reset() {
    session_.reset();
    sampler_.reset();
    msgs_.clear();
    if (!o_.system.empty()) msgs_.push_back({"system", o_.system});
    pending_.clear();
  }

  // One user turn: feeds the new text, streams the answer to stdout.
  void turn(const std::string& user) {
    ChatOptions co;
    co.enable_thinking = o_.think;
    std::vector<ChatMessage> next = msgs_;
    next.push_back({"user", user});
    std::string text = render_chat(next, co);
    if (session_.n_past() > 0) {
      // What the cache already holds renders as the conversation so far without a generation
      // prompt; the model's closing <turn|> was sampled but not fed.
      ChatOptions prev = co;
      prev.add_generation_prompt = false;
      const std::string before = render_chat(msgs_, prev);
      if (text.compare(0, before.size(), before) == 0) text = "<turn|>\n" + text.substr(before.size());
      else session_.reset();
    }
    const auto enc = lm_.tokenizer->encode(text, false, true);
    std::vector<std::uint32_t> ids = session_.n_past() > 0 ? pending_ : std::vector<std::uint32_t>{};
    ids.insert(ids.end(), enc.begin(), enc.end());
    if (session_.n_past() + ids.size() >= session_.n_ctx()) {
      std::fprintf(stderr, "[context full: starting over]\n");
      session_.reset();
      const auto full = lm_.tokenizer->encode(render_chat(next, co), false, true);
      ids.assign(full.begin(), full.end());
    }
    std::string answer;
    const GenerateStats st = generate(session_, *lm_.tokenizer, sampler_, stops_, ids, {o_.n_predict},
                                      [&](std::uint32_t, std::string_view piece) {
                                        answer += piece;
                                        std::fwrite(piece.data(), 1, piece.size(), stdout);
                                        std::fflush(stdout);
                                        return true;
                                      });
    pending_.clear();
    if (st.has_unfed) pending_.push_back(st.unfed_token);
    msgs_ = std::move(next);
    msgs_.push_back({"assistant", answer});
    std::fprintf(stderr, "\n[%u tokens, %.2f tok/s; context %u/%u]\n", st.generated, st.generate_tps(),
                 session_.n_past(), session_.n_ctx());
  }

 private:
  const ChatCliOptions& o_;
  LoadedModel& lm_;
  Gemma4Session session_;
  Sampler sampler_;
  StopSet stops_;
  std::vector<ChatMessage> msgs_;
  std::vector<std::uint32_t> pending_;  // a generated token not yet in the cache
};

int chat(const ChatCliOptions& o, const GlobalOptions& global) {
  LoadedModel lm = load_model(global, o.model);
  Conversation conv(o, lm);
  std::fprintf(stderr, "chat: type a message; /reset starts over, /exit quits\n");
  std::string line;
  for (;;) {
    std::fprintf(stderr, "> ");
    if (!std::getline(std::cin, line) || line == "/exit") break;
    if (line == "/reset") {
      conv.reset();
      continue;
    }
    if (line.empty()) continue;
    conv.turn(line);
  }
  return 0;
}

}  // namespace

void add_chat_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto opts = std::make_shared<ChatCliOptions>();
  CLI::App* cmd = app.add_subcommand("chat", "interactive multi-turn chat (keeps the KV cache between turns)");
  add_model_options(cmd, opts->model);
  add_sampling_options(cmd, opts->sampling);
  cmd->add_option("--system", opts->system, "system prompt");
  cmd->add_option("-n,--n-predict", opts->n_predict, "tokens per answer at most");
  cmd->add_flag("--think", opts->think, "enable thinking");
  cmd->callback([opts, &global, &exit_code] { exit_code = chat(*opts, global); });
}

}  // namespace tessera::cli
