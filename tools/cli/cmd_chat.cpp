// `tessera chat -m model.gguf`: interactive multi-turn chat on stdin/stdout. The KV cache is kept
// between turns: each turn feeds only the new text (the end of the model's turn and the next user
// turn), found as the difference of two renderings of the conversation. /reset starts over,
// /exit (or end of input) quits. With an mmproj, /image PATH, /audio PATH and /video DIR attach media
// to the next message; a file that cannot be read is reported and the chat goes on.
#include <cstdio>
#include <memory>
#include <utility>
#include <iostream>

#include "engine/error.h"
#include "engine/platform/console.h"
#include "runtime/chat/chat_template.h"
#include "runtime/generate/generate.h"
#include "tools/cli/drafter_args.h"
#include "tools/cli/media_args.h"
#include "tools/cli/model_setup.h"

namespace tessera::cli {
namespace {

struct ChatCliOptions {
  ModelArgs model;
  SamplingArgs sampling;
  MediaArgs media;
  DrafterArgs drafter;
  std::string system;
  std::uint32_t n_predict = 1024;
  bool think = false;
};

class Conversation {
 public:
  Conversation(const ChatCliOptions& o, LoadedModel& lm, MmProjector* proj, const MtpDrafter* drafter)
      : o_(o), lm_(lm), proj_(proj),
        session_(*lm.model,
                 lm.session_options(media_ubatch(o.media, o.model.ubatch, proj != nullptr), drafter != nullptr)),
        sampler_(resolve_sampling(o.sampling, lm.model->file()), lm.model->hparams().n_vocab),
        stops_(StopSet::from_tokenizer(*lm.tokenizer)) {
    if (drafter) drafting_ = std::make_unique<MtpDraftSession>(*drafter, session_);
    reset();
  }

  void reset() {
    session_.reset();
    sampler_.reset();
    msgs_.clear();
    media_.clear();
    if (!o_.system.empty()) msgs_.push_back({"system", o_.system});
    pending_.clear();
  }

  // Media for the next message (/image, /audio, /video). Checked when the message is sent.
  void attach(MediaKind kind, const std::string& path) {
    if (!proj_) {
      std::fprintf(stderr, "[no mmproj loaded: start chat with --mmproj FILE to attach %s]\n",
                   std::string(media_kind_name(kind)).c_str());
      return;
    }
    attached_.push_back({kind, path_from_utf8(path)});
    std::fprintf(stderr, "[%s %s attached to the next message]\n", std::string(media_kind_name(kind)).c_str(),
                 path.c_str());
  }

  // One user turn: feeds the new text, streams the answer to stdout.
  // Errors in building the prompt (bad media) come before anything is fed: the conversation is
  // unchanged and the attached media are dropped.
  void turn(const std::string& user) {
    ChatOptions co;
    co.enable_thinking = o_.think;
    std::vector<ChatMessage> next = msgs_;
    const std::vector<MediaInput> attached = std::exchange(attached_, {});
    next.push_back(user_message(user, attached));
    std::vector<MediaInput> media = media_;  // of every message, in order (for a full re-render)
    media.insert(media.end(), attached.begin(), attached.end());
    std::string text = render_chat(next, co);
    bool full = true;
    if (session_.n_past() > 0) {
      // What the cache already holds renders as the conversation so far without a generation
      // prompt; the model's closing <turn|> was sampled but not fed.
      ChatOptions prev = co;
      prev.add_generation_prompt = false;
      const std::string before = render_chat(msgs_, prev);
      if (text.compare(0, before.size(), before) == 0) {
        text = "<turn|>\n" + text.substr(before.size());
        full = false;
      }
    }
    const auto enc = lm_.tokenizer->encode(text, false, true);
    std::vector<std::uint32_t> ids = full ? std::vector<std::uint32_t>{} : pending_;
    ids.insert(ids.end(), enc.begin(), enc.end());
    MmPrompt prompt = expand_prompt(ids, full ? media : attached, proj_, *lm_.tokenizer, o_.media.prompt);
    report_media(prompt);
    if (full || session_.n_past() + prompt.ids.size() >= session_.n_ctx()) {
      if (!full) std::fprintf(stderr, "[context full: starting over]\n");
      if (!full) {
        const auto all = lm_.tokenizer->encode(render_chat(next, co), false, true);
        prompt = expand_prompt(std::vector<std::uint32_t>(all.begin(), all.end()), media, proj_, *lm_.tokenizer,
                               o_.media.prompt);
      }
      session_.reset();
    }
    std::string answer;
    GenerateOptions go;
    go.max_tokens = o_.n_predict;
    go.prompt_extras = prompt.extras();
    go.drafter = drafting_.get();
    go.spec = o_.drafter.spec;
    const GenerateStats st = generate(session_, *lm_.tokenizer, sampler_, stops_, prompt.ids, go,
                                      [&](std::uint32_t, std::string_view piece) {
                                        answer += piece;
                                        std::fwrite(piece.data(), 1, piece.size(), stdout);
                                        std::fflush(stdout);
                                        return true;
                                      });
    pending_.clear();
    if (st.has_unfed) pending_.push_back(st.unfed_token);
    msgs_ = std::move(next);
    media_ = std::move(media);
    msgs_.push_back({"assistant", answer});
    std::fprintf(stderr, "\n[%u tokens, %.2f tok/s; context %u/%u]\n", st.generated, st.generate_tps(),
                 session_.n_past(), session_.n_ctx());
    if (drafting_ && o_.drafter.stats) std::fprintf(stderr, "%s", st.spec.summary(st.generate_tps()).c_str());
  }

 private:
  const ChatCliOptions& o_;
  LoadedModel& lm_;
  MmProjector* proj_;
  Gemma4Session session_;
  std::unique_ptr<MtpDraftSession> drafting_;  // with --drafter
  Sampler sampler_;
  StopSet stops_;
  std::vector<ChatMessage> msgs_;
  std::vector<std::uint32_t> pending_;  // a generated token not yet in the cache
  std::vector<MediaInput> media_;        // the media of msgs_, in order
  std::vector<MediaInput> attached_;     // for the next message
};

int chat(const ChatCliOptions& o, const GlobalOptions& global) {
  LoadedModel lm = load_model(global, o.model);
  MediaArgs media = o.media;
  if (lm.demo && media.mmproj.empty()) media.mmproj = "demo";  // the demo takes /image and /audio too
  const std::unique_ptr<MmProjector> proj = load_mmproj(lm, media, o.model.quiet);
  const std::unique_ptr<MtpDrafter> drafter = load_drafter(lm, o.drafter, o.model.quiet);
  Conversation conv(o, lm, proj.get(), drafter.get());
  std::fprintf(stderr, "chat: type a message; /reset starts over, /exit quits%s\n",
               proj ? "; /image PATH, /audio PATH, /video DIR attach media to the next message" : "");
  std::string line;
  for (;;) {
    std::fprintf(stderr, "> ");
    if (!std::getline(std::cin, line) || line == "/exit") break;
    if (line == "/reset") {
      conv.reset();
      continue;
    }
    if (line.empty()) continue;
    bool attached = false;
    for (const MediaKind k : {MediaKind::image, MediaKind::audio, MediaKind::video}) {
      const std::string cmd = "/" + std::string(media_kind_name(k)) + " ";
      if (line.rfind(cmd, 0) == 0) {
        conv.attach(k, line.substr(cmd.size()));
        attached = true;
      }
    }
    if (attached) continue;
    try {
      conv.turn(line);
    } catch (const Error& e) {  // bad media or a prompt past the context: report, keep chatting
      std::fprintf(stderr, "error: %s\n", e.what());
    }
  }
  return 0;
}

}  // namespace

void add_chat_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto opts = std::make_shared<ChatCliOptions>();
  CLI::App* cmd = app.add_subcommand("chat", "interactive multi-turn chat (keeps the KV cache between turns)");
  add_model_options(cmd, opts->model);
  add_sampling_options(cmd, opts->sampling);
  add_media_options(cmd, opts->media, false);
  add_drafter_options(cmd, opts->drafter);
  cmd->add_option("--system", opts->system, "system prompt");
  cmd->add_option("-n,--n-predict", opts->n_predict, "tokens per answer at most");
  cmd->add_flag("--think", opts->think, "enable thinking");
  cmd->callback([opts, &global, &exit_code] { exit_code = chat(*opts, global); });
}

}  // namespace tessera::cli
