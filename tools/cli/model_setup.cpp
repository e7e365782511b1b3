#include "tools/cli/model_setup.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "engine/error.h"
#include "engine/log.h"
#include "engine/options.h"
#include "engine/platform/console.h"
#include "tools/factory/factory.h"

namespace tessera::cli {

void add_model_options(CLI::App* cmd, ModelArgs& a) {
  cmd->add_option("-m,--model", a.model, "Gemma 4 GGUF file (default: a factory demo model with random weights)");
  cmd->add_option("-c,--ctx", a.ctx, "context length in tokens (default: 4096 or the model's, if smaller)")
      ->check(CLI::Range(1u, 1u << 30));
  cmd->add_option("--ubatch", a.ubatch, "tokens per forward pass during prefill")->check(CLI::Range(1u, 8192u));
  cmd->add_option("--kv-type", a.kv_type, "KV cache type: f16 or q8_0 (half the memory)")->capture_default_str();
  cmd->add_flag("-q,--quiet", a.quiet, "no loading progress");
}

void add_sampling_options(CLI::App* cmd, SamplingArgs& a) {
  cmd->add_option("--temp", a.temperature, "temperature (0 = greedy)");
  cmd->add_option("--top-k", a.top_k, "keep the k most likely tokens (0 = off)");
  cmd->add_option("--top-p", a.top_p, "nucleus sampling threshold (1 = off)");
  cmd->add_option("--min-p", a.min_p, "drop tokens below min-p times the top probability (0 = off)");
  cmd->add_option("--repeat-penalty", a.repeat_penalty, "penalty for recently seen tokens (1 = off)");
  cmd->add_option("--repeat-last-n", a.repeat_last_n, "tokens the repetition penalty looks back");
  cmd->add_option("--seed", a.seed, "random seed (default: from the clock)");
}

SamplingParams resolve_sampling(const SamplingArgs& a, const gguf::File& file) {
  SamplingParams p;
  auto file_float = [&](const char* key, float def) {
    return file.has(key) ? static_cast<float>(file.get_float(key)) : def;
  };
  p.temperature = a.temperature.value_or(file_float("general.sampling.temp", 1.0f));
  p.top_p = a.top_p.value_or(file_float("general.sampling.top_p", 0.95f));
  p.top_k = a.top_k.value_or(file.has("general.sampling.top_k")
                                 ? static_cast<int>(file.get_int("general.sampling.top_k"))
                                 : 64);
  p.min_p = a.min_p.value_or(0.0f);
  p.repeat_penalty = a.repeat_penalty.value_or(1.0f);
  p.repeat_last_n = a.repeat_last_n.value_or(64);
  p.seed = a.seed.value_or(static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  return p;
}

EngineOptions engine_options(const GlobalOptions& global) {
  EngineOptions o = EngineOptions::from_env();
  if (!global.device.empty()) o.device = global.device;
  if (!global.profile.empty()) o.profile = global.profile;
  if (global.validation) o.validation = true;
  return o;
}

namespace {

// The factory's demo files (the 'small' preset, seed 1), generated once into the cache directory.
std::filesystem::path demo_file(const char* name, factory::Kind kind) {
  std::filesystem::path dir = default_cache_dir();
  if (dir.empty()) dir = std::filesystem::temp_directory_path() / "tessera";
  const std::filesystem::path path = dir / "demo" / name;
  if (std::filesystem::exists(path)) return path;
  std::filesystem::create_directories(path.parent_path());
  factory::FactoryOptions fo;
  fo.preset = factory::preset_by_name("small");
  fo.type = factory::parse_type_choice("Q4_K_M");
  fo.seed = 1;
  std::filesystem::path tmp = path;
  tmp += ".part";
  if (kind == factory::Kind::model) factory::write_model(fo, tmp);
  else if (kind == factory::Kind::mmproj) factory::write_mmproj(fo, tmp);
  else factory::write_drafter(fo, tmp);
  std::filesystem::rename(tmp, path);
  return path;
}

std::filesystem::path demo_model_path() { return demo_file("tessera-demo-small-Q4_K_M.gguf", factory::Kind::model); }

}  // namespace

std::filesystem::path demo_mmproj_path() {
  return demo_file("tessera-demo-small-mmproj.gguf", factory::Kind::mmproj);
}

std::filesystem::path demo_drafter_path() {
  return demo_file("tessera-demo-small-drafter.gguf", factory::Kind::drafter);
}

LoadedModel load_model(const GlobalOptions& global, const ModelArgs& args) {
  LoadedModel lm;
  lm.demo = args.model.empty();
  lm.path = lm.demo ? demo_model_path() : path_from_utf8(args.model);
  if (lm.demo)
    std::fprintf(stderr,
                 "tessera: no -m given: using the factory demo model %s (Gemma 4 layout, 'small' shapes, RANDOM "
                 "weights: its text is noise). Pass -m model.gguf for a real model.\n",
                 path_to_utf8(lm.path).c_str());
  lm.ctx = Context::create(engine_options(global));
  ModelLoadOptions lo;
  lo.n_ctx = args.ctx;
  lo.n_ubatch = args.ubatch;
  const std::optional<ops::KvType> kv_type = ops::parse_kv_type(args.kv_type);
  if (!kv_type) throw Error("[cli] unknown KV cache type '" + args.kv_type + "' (f16, q8_0)");
  lm.kv_type = lo.kv_type = *kv_type;
  if (!args.quiet)
    lo.progress = [last = -1](std::size_t done, std::size_t total, std::uint64_t bytes) mutable {
      const int pct = static_cast<int>(100 * done / total);
      if (pct / 10 == last / 10 && done != total) return;  // a line per 10%
      last = pct;
      std::fprintf(stderr, "loading: %3d%% (%zu/%zu tensors, %s)\n", pct, done, total,
                   format_bytes_short(bytes).c_str());
    };
  lm.model = Gemma4Model::load(*lm.ctx, lm.path, lo);
  lm.n_ctx = lm.model->n_ctx();
  lm.tokenizer = std::make_unique<Tokenizer>(Tokenizer::from_gguf(lm.model->file()));
  if (!args.quiet)
    std::fprintf(stderr, "loaded %s in %.1f s on %s\n", path_to_utf8(lm.path.filename()).c_str(),
                 lm.model->load_seconds(), lm.ctx->caps().name.c_str());
  return lm;
}

std::vector<std::uint32_t> parse_ids(const std::string& s) {
  std::vector<std::uint32_t> ids;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    const std::size_t end = std::min(s.find(',', pos), s.size());
    const std::string item = s.substr(pos, end - pos);
    std::size_t used = 0;
    unsigned long v = 0;
    try {
      v = std::stoul(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size() || v > UINT32_MAX)
      throw Error("[cli] --ids: '" + item + "' is not a token id (expected e.g. 2,17,99)");
    ids.push_back(static_cast<std::uint32_t>(v));
    pos = end + 1;
  }
  return ids;
}

}  // namespace tessera::cli
