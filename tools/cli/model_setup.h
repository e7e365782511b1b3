// What run, chat and bench share: the options that pick and size a model, the sampling options,
// and loading (the device, the model with a progress line, its tokenizer). With no -m the
// factory's demo model is generated once into the cache directory and used, and the user is told.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "engine/context.h"
#include "runtime/model/gemma4_model.h"
#include "runtime/sampling/sampler.h"
#include "runtime/tokenizer/tokenizer.h"
#include "tools/cli/commands.h"

namespace tessera::cli {

struct ModelArgs {
  std::string model;           // -m: GGUF path; empty = the factory demo model
  std::uint32_t ctx = 0;       // --ctx; 0 = min(4096, the model's trained context)
  std::uint32_t ubatch = 512;  // --ubatch
  std::string kv_type = "f16";  // --kv-type: f16 or q8_0
  bool quiet = false;          // no progress lines
};

void add_model_options(CLI::App* cmd, ModelArgs& a);

// Sampling flags; unset ones fall back to the file's general.sampling.* and then to greedy-free
// Gemma defaults (temperature 1.0, top-k 64, top-p 0.95).
struct SamplingArgs {
  std::optional<float> temperature, top_p, min_p, repeat_penalty;
  std::optional<int> top_k, repeat_last_n;
  std::optional<std::uint64_t> seed;  // default: from the clock (printed)
};

void add_sampling_options(CLI::App* cmd, SamplingArgs& a);
SamplingParams resolve_sampling(const SamplingArgs& a, const gguf::File& file);

struct LoadedModel {
  std::unique_ptr<Context> ctx;
  std::unique_ptr<Gemma4Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
  std::filesystem::path path;
  bool demo = false;  // the factory demo model
  std::uint32_t n_ctx = 0;  // the context in force (--ctx resolved)
  ops::KvType kv_type = ops::KvType::f16;  // --kv-type
  // Session options of the loaded model: its context, the ubatch and the KV cache type.
  SessionOptions session_options(std::uint32_t ubatch, bool keep_hidden = false) const {
    SessionOptions o;
    o.keep_hidden = keep_hidden;
    o.n_ctx = n_ctx;
    o.n_ubatch = ubatch;
    o.kv_type = kv_type;
    return o;
  }
};

LoadedModel load_model(const GlobalOptions& global, const ModelArgs& args);

// The demo model's mmproj (factory 'small' preset), generated once into the cache directory.
std::filesystem::path demo_mmproj_path();
// The demo model's MTP drafter, likewise.
std::filesystem::path demo_drafter_path();

// The engine options of the global flags (device, profile, validation) over the environment.
EngineOptions engine_options(const GlobalOptions& global);

// "1,17,99" -> ids; throws tessera::Error on anything else.
std::vector<std::uint32_t> parse_ids(const std::string& s);

}  // namespace tessera::cli
