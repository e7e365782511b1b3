// `tessera bench mm [-m model.gguf --mmproj mmproj.gguf] [--image-tokens 280,1120] [--audio-seconds 30]`:
// the multimodal input path, per case: CPU preprocessing (resize of a 4:3 photo-sized image to the
// budget; resampling 44.1 kHz audio to 16 kHz), the GPU projection (GPU time from timestamps and
// wall time), and the prefill of the resulting prompt (<bos> <|image> N soft tokens <image|>, the
// image one bidirectional block) on the model. Without -m: the factory demo model and mmproj.
// --projection-only: the projector alone at its own width (e.g. a factory 12b mmproj), no model.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>

#include "engine/error.h"
#include "engine/platform/console.h"
#include "runtime/media/audio.h"
#include "runtime/media/image.h"
#include "tools/cli/media_args.h"
#include "tools/cli/model_setup.h"

namespace tessera::cli {
namespace {

struct MmBenchArgs {
  ModelArgs model;
  MediaArgs media;
  std::vector<std::uint32_t> image_tokens{280, 1120};
  double audio_seconds = 30;
  int runs = 3;
  bool json = false;
  bool projection_only = false;
};

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

struct MmCase {
  std::string name;
  std::uint32_t tokens = 0;
  double preprocess_ms = 0, project_gpu_ms = 0, project_ms = 0, prefill_ms = 0;
  std::uint32_t prefill_tokens = 0;
};

double gpu_ms(const MmProjector& p) {
  double s = 0;
  for (const CommandList::Timing& t : p.last_timings()) s += t.ms;
  return s;
}

int bench_mm(MmBenchArgs a, const GlobalOptions& global) {
  std::uint32_t max_tokens = 0;
  for (std::uint32_t t : a.image_tokens) {
    if (t < media::kMinImageTokens || t > media::kMaxImageTokens)
      throw Error("[bench] --image-tokens " + std::to_string(t) + " is outside 70..1120");
    max_tokens = std::max(max_tokens, t);
  }
  const auto audio_tokens = static_cast<std::uint32_t>(std::ceil(a.audio_seconds * 25));
  const std::uint32_t longest = std::max(max_tokens, audio_tokens) + 3;
  // The model (for the prefill) and the projector; --projection-only: the projector alone, at its
  // own width (e.g. a factory 12b mmproj, --zeros, where a 12B prefill is out of reach).
  std::unique_ptr<Context> own_ctx;
  LoadedModel lm;
  std::unique_ptr<MmProjector> proj;
  std::unique_ptr<Gemma4Session> session;
  std::optional<MmTokens> mt;
  if (a.projection_only) {
    own_ctx = Context::create(engine_options(global));
    const std::filesystem::path path = a.media.mmproj.empty() || a.media.mmproj == "demo"
                                           ? demo_mmproj_path()
                                           : path_from_utf8(a.media.mmproj);
    proj = MmProjector::load(*own_ctx, path, 0);
  } else {
    if (a.model.ctx == 0) a.model.ctx = longest;
    a.model.ubatch = std::max(a.model.ubatch, max_tokens);
    if (a.media.mmproj.empty() && !a.model.model.empty())
      throw Error("[bench] mm needs --mmproj with -m (or --projection-only)");
    if (a.media.mmproj.empty()) a.media.mmproj = "demo";
    lm = load_model(global, a.model);
    proj = load_mmproj(lm, a.media, a.model.quiet);
    if (longest > lm.n_ctx)
      throw Error("[bench] the longest case needs " + std::to_string(longest) + " positions but the context is " +
                  std::to_string(lm.n_ctx) + " (raise --ctx)");
    mt = MmTokens::from(*lm.tokenizer);
    session = std::make_unique<Gemma4Session>(*lm.model, lm.session_options(a.model.ubatch));
  }
  Context& ctx = own_ctx ? *own_ctx : *lm.ctx;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);

  // Best of the runs of: preprocess, project, prefill (after a warm-up of each).
  auto run_case = [&](MmCase c, const std::function<media::Image()>& preprocess_image,
                      const std::function<std::vector<float>()>& preprocess_audio, std::uint32_t soft,
                      std::uint32_t open, std::uint32_t close, bool block) {
    c.preprocess_ms = c.project_gpu_ms = c.project_ms = c.prefill_ms = INFINITY;
    for (int r = 0; r <= a.runs; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      media::Image img;
      std::vector<float> pcm;
      if (preprocess_image) img = preprocess_image();
      else pcm = preprocess_audio();
      const double pre = since(t0);
      t0 = std::chrono::steady_clock::now();
      MmRows rows = preprocess_image ? proj->project_image(img.rgb, img.width, img.height) : proj->project_audio(pcm);
      const double proj_ms = since(t0), proj_gpu = gpu_ms(*proj);
      c.tokens = rows.count;
      double prefill = 0;
      if (session) {
        std::vector<std::uint32_t> ids = {2, open};
        ids.insert(ids.end(), rows.count, soft);
        ids.push_back(close);
        const std::vector<TokenBlock> blocks = {{2, 2 + rows.count}};
        const std::vector<InjectedRows> embeds = {{2, rows.count, rows.range()}};
        session->reset();
        t0 = std::chrono::steady_clock::now();
        session->decode(ids, false, DecodeExtras{block ? std::span<const TokenBlock>(blocks) : std::span<const TokenBlock>{}, embeds});
        prefill = since(t0);
        c.prefill_tokens = static_cast<std::uint32_t>(ids.size());
      }
      if (r == 0) continue;  // warm-up: pipelines
      c.preprocess_ms = std::min(c.preprocess_ms, pre);
      c.project_ms = std::min(c.project_ms, proj_ms);
      c.project_gpu_ms = std::min(c.project_gpu_ms, proj_gpu);
      c.prefill_ms = std::min(c.prefill_ms, prefill);
    }
    return c;
  };

  std::vector<MmCase> cases;
  if (proj->info().vision) {
    media::Image photo{1600, 1200, std::vector<float>(std::size_t{3} * 1600 * 1200)};  // a 1.9 Mpx 4:3 photo
    for (float& v : photo.rgb) v = unit(rng);
    for (std::uint32_t budget : a.image_tokens)
      cases.push_back(run_case({"image 1600x1200 @" + std::to_string(budget)},
                               [&] { return media::prepare_image(photo, budget); }, {}, mt ? mt->image : 0,
                               mt ? mt->boi : 0, mt ? mt->eoi : 0, true));
  }
  if (proj->info().audio && a.audio_seconds > 0 && media::audio_decoding_available()) {
    media::Audio clip{44100, 1, std::vector<float>(static_cast<std::size_t>(a.audio_seconds * 44100))};
    for (float& v : clip.samples) v = unit(rng) - 0.5f;
    char name[64];
    std::snprintf(name, sizeof name, "audio %.0f s @44.1kHz", a.audio_seconds);
    cases.push_back(run_case({name}, {}, [&] { return media::prepare_audio(clip, a.audio_seconds).samples; },
                             mt ? mt->audio : 0, mt ? mt->boa : 0, mt ? mt->eoa : 0, false));
  }

  if (a.json) {
    nlohmann::json j = nlohmann::json::array();
    for (const MmCase& c : cases)
      j.push_back({{"case", c.name}, {"tokens", c.tokens}, {"preprocess_ms", c.preprocess_ms},
                   {"project_gpu_ms", c.project_gpu_ms}, {"project_ms", c.project_ms}, {"prefill_ms", c.prefill_ms},
                   {"prefill_tokens", c.prefill_tokens},
                   {"prefill_tps", c.prefill_tokens > 0 ? 1e3 * c.prefill_tokens / c.prefill_ms : 0.0}});
    nlohmann::json out;
    out["device"] = ctx.caps().name;
    out["model"] = session ? path_to_utf8(lm.path) : "";
    out["mmproj"] = path_to_utf8(proj->path());
    out["cases"] = j;
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("device: %s; model %s, mmproj %s (width %u); best of %d runs after a warm-up\n", ctx.caps().name.c_str(),
              session ? path_to_utf8(lm.path.filename()).c_str() : "(none: --projection-only)",
              path_to_utf8(proj->path().filename()).c_str(), proj->info().n_embd, a.runs);
  std::printf("%-26s %6s %12s %13s %12s %11s %10s\n", "case", "tokens", "preproc ms", "project GPU", "project ms",
              "prefill ms", "prefill t/s");
  for (const MmCase& c : cases) {
    std::printf("%-26s %6u %12.2f %13.2f %12.2f", c.name.c_str(), c.tokens, c.preprocess_ms, c.project_gpu_ms,
                c.project_ms);
    if (session) std::printf(" %11.1f %10.1f\n", c.prefill_ms, 1e3 * c.prefill_tokens / c.prefill_ms);
    else std::printf(" %11s %10s\n", "-", "-");
  }
  return 0;
}

}  // namespace

CLI::App* add_bench_mm_command(CLI::App* bench, const GlobalOptions& global, int& exit_code) {
  auto a = std::make_shared<MmBenchArgs>();
  CLI::App* mm = bench->add_subcommand(
      "mm", "image and audio input: preprocessing, GPU projection and the prefill of their soft tokens");
  add_model_options(mm, a->model);
  mm->add_option("--mmproj", a->media.mmproj, "mmproj GGUF (default with the demo model: the demo mmproj)");
  mm->add_option("--image-tokens", a->image_tokens, "image token budgets")->delimiter(',')->capture_default_str();
  mm->add_option("--audio-seconds", a->audio_seconds, "audio clip length (0: no audio case)")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  mm->add_option("-r,--runs", a->runs, "timed runs per case after a warm-up")->check(CLI::PositiveNumber);
  mm->add_flag("--projection-only", a->projection_only, "time the projector alone at its own width (no model, no prefill)");
  mm->add_flag("--json", a->json, "print JSON");
  mm->callback([a, &global, &exit_code] { exit_code = bench_mm(*a, global); });
  return mm;
}

}  // namespace tessera::cli
