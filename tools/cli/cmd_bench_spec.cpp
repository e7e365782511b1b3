// `tessera bench spec [-m model.gguf --drafter mtp.gguf] [--noise 0.02] [-p 64] [-n 64] [--drafts 1,2,...,8]`:
// speculative decoding against plain decoding on one device: the cost of a k-row verify batch
// relative to a 1-row decode (the figure that decides whether drafting pays), then greedy decode
// tokens/s without the drafter, with it at each fixed draft length, and with the adaptive length,
// with the acceptance measured in the same runs. Without -m: a factory target/drafter pair whose
// agreement is set by --noise (tessera-factory --markov --drafter-noise), 'small' shapes.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/options.h"
#include "engine/platform/console.h"
#include "runtime/generate/generate.h"
#include "tools/cli/drafter_args.h"
#include "tools/cli/model_setup.h"
#include "tools/factory/factory.h"

namespace tessera::cli {
namespace {

struct SpecBenchArgs {
  ModelArgs model;
  std::string drafter;
  double noise = 0.02;
  std::uint32_t n_prompt = 64, n_gen = 64;
  std::vector<std::uint32_t> drafts{1, 2, 3, 4, 5, 6, 7, 8};
  int runs = 2;
  bool json = false;
};

double since_ms(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// The factory pair for --noise, generated once into the cache directory.
std::pair<std::filesystem::path, std::filesystem::path> pair_paths(double noise) {
  std::filesystem::path dir = default_cache_dir();
  if (dir.empty()) dir = std::filesystem::temp_directory_path() / "tessera";
  char name[64];
  std::snprintf(name, sizeof name, "tessera-pair-small-F16-noise%.2f.gguf", noise);
  const std::filesystem::path model = dir / "demo" / name;
  const std::filesystem::path drafter = factory::companion_path(model, factory::Kind::drafter);
  if (!std::filesystem::exists(model) || !std::filesystem::exists(drafter)) {
    std::filesystem::create_directories(model.parent_path());
    factory::FactoryOptions fo;
    fo.preset = factory::preset_by_name("small");
    fo.type = factory::parse_type_choice("F16");
    fo.seed = 3;
    fo.pair.markov = true;
    fo.pair.drafter_noise = noise;
    factory::write_files(fo, factory::Kind::all, model);
  }
  return {model, drafter};
}

struct SpecRow {
  std::string mode;
  std::uint32_t k = 0;
  double tps = 0, acceptance = 0, accepted_per_step = 0;
};

int bench_spec(SpecBenchArgs a, const GlobalOptions& global) {
  if (a.model.model.empty() != a.drafter.empty()) throw Error("[bench] spec takes -m and --drafter together");
  if (a.model.model.empty()) {
    const auto [m, d] = pair_paths(a.noise);
    a.model.model = path_to_utf8(m);
    a.drafter = path_to_utf8(d);
  }
  for (std::uint32_t k : a.drafts)
    if (k == 0 || k > MtpDraftSession::kMaxDraft)
      throw Error("[bench] --drafts " + std::to_string(k) + ": 1.." + std::to_string(MtpDraftSession::kMaxDraft));
  const std::uint32_t k_top = *std::max_element(a.drafts.begin(), a.drafts.end());
  if (a.model.ctx == 0) a.model.ctx = a.n_prompt + a.n_gen + k_top + 8;
  a.model.ubatch = std::max(a.model.ubatch, k_top + 1);
  LoadedModel lm = load_model(global, a.model);
  DrafterArgs da;
  da.path = a.drafter;
  const std::unique_ptr<MtpDrafter> drafter = load_drafter(lm, da, a.model.quiet);
  Gemma4Session session(*lm.model, lm.session_options(a.model.ubatch, true));
  MtpDraftSession ds(*drafter, session);
  const Gemma4HParams& hp = lm.model->hparams();
  std::vector<std::uint32_t> prompt(std::max<std::uint32_t>(a.n_prompt, 2));
  std::uint64_t s = 12345;
  for (auto& id : prompt) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    id = 8 + static_cast<std::uint32_t>((s >> 33) % (hp.n_vocab - 32));
  }
  prompt[0] = 2;

  // Verify cost: k + 1 rows after the prompt, rolled back each time (best of 5 after a warm-up).
  session.decode(prompt);
  const std::uint32_t base = session.n_past();
  std::vector<double> verify_ms(k_top + 1, 1e30);
  for (std::uint32_t k = 0; k <= k_top; ++k) {
    const std::vector<std::uint32_t> rows(k + 1, prompt[1]);
    for (int r = 0; r < 6; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      session.decode(rows, true);
      if (r > 0) verify_ms[k] = std::min(verify_ms[k], since_ms(t0));
      session.rollback(base);
    }
  }
  // Decoding: plain, each fixed length, adaptive (best tokens/s of the runs).
  std::vector<SpecRow> rows;
  const StopSet none;
  auto decode = [&](const std::string& mode, std::uint32_t k, bool spec) {
    SpecRow row{mode, k, 0, 0, 0};
    for (int r = 0; r <= a.runs; ++r) {
      session.reset();
      Sampler sampler(SamplingParams{}, hp.n_vocab);
      GenerateOptions go;
      go.max_tokens = a.n_gen;
      go.drafter = spec ? &ds : nullptr;
      go.spec.draft_fixed = k;
      go.spec.draft_max = k_top;
      const GenerateStats st = generate(session, *lm.tokenizer, sampler, none, prompt, go, {});
      if (r == 0) continue;  // warm-up
      if (st.generate_tps() > row.tps) {
        row.tps = st.generate_tps();
        row.acceptance = st.spec.acceptance_rate();
        row.accepted_per_step = st.spec.mean_accepted();
      }
    }
    rows.push_back(row);
  };
  decode("plain", 0, false);
  for (std::uint32_t k : a.drafts) decode("fixed", k, true);
  decode("adaptive", 0, true);

  const double plain = rows[0].tps;
  if (a.json) {
    nlohmann::json j;
    j["device"] = lm.ctx->caps().name;
    j["model"] = path_to_utf8(lm.path);
    j["drafter"] = path_to_utf8(drafter->path());
    for (std::uint32_t k = 0; k <= k_top; ++k)
      j["verify"].push_back({{"rows", k + 1}, {"ms", verify_ms[k]}, {"vs_decode", verify_ms[k] / verify_ms[0]}});
    for (const SpecRow& r : rows)
      j["decode"].push_back({{"mode", r.mode}, {"k", r.k}, {"tps", r.tps}, {"speedup", plain > 0 ? r.tps / plain : 0},
                             {"acceptance", r.acceptance}, {"accepted_per_step", r.accepted_per_step}});
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("device: %s; model %s, drafter %s; greedy, %u tokens after a %zu-token prompt, best of %d\n",
              lm.ctx->caps().name.c_str(), path_to_utf8(lm.path.filename()).c_str(),
              path_to_utf8(drafter->path().filename()).c_str(), a.n_gen, prompt.size(), a.runs);
  std::printf("verify batch (last token + k drafts) vs a 1-row decode:\n  rows:");
  for (std::uint32_t k = 0; k <= k_top; ++k) std::printf(" %7u", k + 1);
  std::printf("\n  ms:  ");
  for (std::uint32_t k = 0; k <= k_top; ++k) std::printf(" %7.2f", verify_ms[k]);
  std::printf("\n  x1:  ");
  for (std::uint32_t k = 0; k <= k_top; ++k) std::printf(" %7.2f", verify_ms[k] / verify_ms[0]);
  std::printf("\n%-9s %3s %9s %8s %11s %14s\n", "decode", "k", "tok/s", "speed-up", "acceptance", "accepted/step");
  for (const SpecRow& r : rows) {
    if (r.mode == "plain") {
      std::printf("%-9s %3s %9.2f %7.2fx %11s %14s\n", "plain", "-", r.tps, 1.0, "-", "-");
    } else {
      std::printf("%-9s %3s %9.2f %7.2fx %10.1f%% %14.2f\n", r.mode.c_str(),
                  r.mode == "adaptive" ? "<=" : std::to_string(r.k).c_str(), r.tps, plain > 0 ? r.tps / plain : 0.0,
                  100 * r.acceptance, r.accepted_per_step);
    }
  }
  return 0;
}

}  // namespace

CLI::App* add_bench_spec_command(CLI::App* bench, const GlobalOptions& global, int& exit_code) {
  auto a = std::make_shared<SpecBenchArgs>();
  CLI::App* spec = bench->add_subcommand(
      "spec", "speculative decoding: k-row verify cost, decode tok/s without and with the MTP drafter");
  add_model_options(spec, a->model);
  spec->add_option("--drafter", a->drafter, "MTP drafter GGUF (with -m)");
  spec->add_option("--noise", a->noise, "without -m: the factory pair's drafter noise (0: ~100% agreement)")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  spec->add_option("-p,--n-prompt", a->n_prompt, "prompt tokens")->check(CLI::Range(2u, 1u << 20))->capture_default_str();
  spec->add_option("-n,--n-gen", a->n_gen, "generated tokens per run")->check(CLI::Range(1u, 1u << 20))->capture_default_str();
  spec->add_option("--drafts", a->drafts, "fixed draft lengths to run")->delimiter(',')->capture_default_str();
  spec->add_option("-r,--runs", a->runs, "timed runs after a warm-up")->check(CLI::PositiveNumber);
  spec->add_flag("--json", a->json, "print JSON");
  spec->callback([a, &global, &exit_code] { exit_code = bench_spec(*a, global); });
  return spec;
}

}  // namespace tessera::cli
