// `tessera run -m model.gguf -p "..."`: one prompt (as a user turn of the chat template, or raw
// with --raw, or token ids with --ids), tokens streamed as they come, speeds at the end.
// --dump-logits FILE writes the prompt's final-position logits (all positions with --all) as
// little-endian f32 with a FILE.json sidecar describing the shape, for outside comparisons.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "runtime/chat/chat_template.h"
#include "runtime/generate/generate.h"
#include "tools/cli/drafter_args.h"
#include "tools/cli/media_args.h"
#include "tools/cli/model_setup.h"
#include "engine/platform/console.h"

namespace tessera::cli {
namespace {

struct RunOptions {
  ModelArgs model;
  SamplingArgs sampling;
  MediaArgs media;
  DrafterArgs drafter;
  std::string prompt;
  std::string system;
  std::string ids;
  std::uint32_t n_predict = 256;
  bool raw = false;
  bool think = false;
  std::string dump_logits;
  bool all = false;
};

std::vector<std::uint32_t> to_u32(const std::vector<std::int32_t>& v) { return {v.begin(), v.end()}; }

std::vector<std::uint32_t> prompt_ids(const RunOptions& o, const Tokenizer& tok, std::span<const MediaInput> media) {
  if (!o.ids.empty()) return parse_ids(o.ids);
  const ChatMessage user = user_message(o.prompt, media);
  if (o.raw) {  // placeholders the chat template would add go before the text here too
    std::string text;
    for (int i = 0; i < user.n_images; ++i) text += "<|image|>";
    for (int i = 0; i < user.n_audio; ++i) text += "<|audio|>";
    return to_u32(tok.encode(text + user.content, tok.add_bos(), true));
  }
  std::vector<ChatMessage> msgs;
  if (!o.system.empty()) msgs.push_back({"system", o.system});
  msgs.push_back(user);
  ChatOptions co;
  co.enable_thinking = o.think;
  return to_u32(tok.encode(render_chat(msgs, co), false, true));
}

void dump_logits(const RunOptions& o, const LoadedModel& lm, const MmPrompt& prompt, std::uint32_t ubatch) {
  const std::vector<std::uint32_t>& ids = prompt.ids;
  Gemma4Session session(*lm.model, lm.session_options(ubatch));
  const std::vector<float> logits = session.decode(ids, o.all, prompt.extras());
  const std::size_t rows = o.all ? ids.size() : 1, vocab = lm.model->hparams().n_vocab;
  std::ofstream f(o.dump_logits, std::ios::binary);
  f.write(reinterpret_cast<const char*>(logits.data()), static_cast<std::streamsize>(4 * logits.size()));
  if (!f) throw Error("[run] cannot write " + o.dump_logits);
  nlohmann::json meta = {{"dtype", "float32"},
                         {"byte_order", "little"},
                         {"shape", {rows, vocab}},
                         {"first_position", o.all ? 0 : ids.size() - 1},
                         {"ids", ids},
                         {"model", path_to_utf8(lm.path)},
                         {"softcap_applied", lm.model->hparams().final_logit_softcap > 0}};
  std::ofstream(o.dump_logits + ".json") << meta.dump(2) << "\n";
  std::fprintf(stderr, "wrote logits [%zu, %zu] to %s (+ .json)\n", rows, vocab, o.dump_logits.c_str());
}

int run(const RunOptions& o, const GlobalOptions& global) {
  const bool has_media = !o.media.images.empty() || !o.media.audio.empty() || !o.media.videos.empty();
  if (o.prompt.empty() && o.ids.empty() && !has_media)
    throw Error("[run] give a prompt (-p), token ids (--ids) or media (--image, --audio, --video)");
  LoadedModel lm = load_model(global, o.model);
  const std::unique_ptr<MmProjector> proj = load_mmproj(lm, o.media, o.model.quiet);
  const std::vector<MediaInput> media = media_inputs(o.media);
  const MmPrompt prompt =
      expand_prompt(prompt_ids(o, *lm.tokenizer, media), media, proj.get(), *lm.tokenizer, o.media.prompt);
  report_media(prompt);
  const std::vector<std::uint32_t>& ids = prompt.ids;
  const std::uint32_t ubatch = std::max(media_ubatch(o.media, o.model.ubatch, proj != nullptr), prompt.largest_block());
  if (ids.size() > lm.n_ctx)
    throw Error("[run] the prompt has " + std::to_string(ids.size()) + " tokens but the context is " +
                std::to_string(lm.n_ctx) + " (raise --ctx)");
  if (!o.dump_logits.empty()) dump_logits(o, lm, prompt, ubatch);
  if (o.n_predict == 0) return 0;

  const std::unique_ptr<MtpDrafter> drafter = load_drafter(lm, o.drafter, o.model.quiet);
  Gemma4Session session(*lm.model, lm.session_options(ubatch, drafter != nullptr));
  std::unique_ptr<MtpDraftSession> drafting;
  if (drafter) drafting = std::make_unique<MtpDraftSession>(*drafter, session);
  const SamplingParams sp = resolve_sampling(o.sampling, lm.model->file());
  Sampler sampler(sp, lm.model->hparams().n_vocab);
  const StopSet stops = StopSet::from_tokenizer(*lm.tokenizer);
  GenerateOptions go;
  go.max_tokens = o.n_predict;
  go.prompt_extras = prompt.extras();
  go.drafter = drafting.get();
  go.spec = o.drafter.spec;
  const GenerateStats st = generate(session, *lm.tokenizer, sampler, stops, ids, go,
                                    [](std::uint32_t, std::string_view text) {
                                      std::fwrite(text.data(), 1, text.size(), stdout);
                                      std::fflush(stdout);
                                      return true;
                                    });
  std::printf("\n");
  std::fprintf(stderr, "prompt: %u tokens, %.2f tok/s | generation: %u tokens, %.2f tok/s | stop: %s | seed %llu\n",
               st.prompt_tokens, st.prompt_tps(), st.generated, st.generate_tps(),
               std::string(stop_reason_name(st.stop)).c_str(), static_cast<unsigned long long>(sp.seed));
  if (drafter && o.drafter.stats) std::fprintf(stderr, "%s", st.spec.summary(st.generate_tps()).c_str());
  return 0;
}

}  // namespace

void add_run_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto opts = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "generate from one prompt, streaming the tokens");
  add_model_options(cmd, opts->model);
  add_sampling_options(cmd, opts->sampling);
  add_media_options(cmd, opts->media, true);
  add_drafter_options(cmd, opts->drafter);
  cmd->add_option("-p,--prompt", opts->prompt, "the prompt (a user turn; raw text with --raw)");
  cmd->add_option("--system", opts->system, "system prompt");
  cmd->add_option("--ids", opts->ids, "feed these token ids instead of a prompt, e.g. 2,17,99 (no BOS added)");
  cmd->add_option("-n,--n-predict", opts->n_predict, "tokens to generate at most (0: none, e.g. with --dump-logits)");
  cmd->add_flag("--raw", opts->raw, "no chat template: the prompt is plain text (BOS added)");
  cmd->add_flag("--think", opts->think, "enable thinking in the chat template");
  cmd->add_option("--dump-logits", opts->dump_logits, "write the prompt's final logits as raw f32 (+ FILE.json)");
  cmd->add_flag("--all", opts->all, "with --dump-logits: every position's logits");
  cmd->callback([opts, &global, &exit_code] { exit_code = run(*opts, global); });
}

}  // namespace tessera::cli
