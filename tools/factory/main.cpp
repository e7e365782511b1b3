// tessera-factory: writes synthetic Gemma 4 GGUF files (model, mmproj, MTP drafter) with the
// exact names, shapes, types and metadata of real ones. See tools/factory/factory.h.
//
//   tessera-factory --preset tiny|small|12b --type F16|Q4_K_M|... --seed N [--vocab tokenizer.json]
//                   [--zeros] [--kind model|mmproj|drafter|all] [--threads N]
//                   [--markov [--drafter-noise X]] -o OUT.gguf
//
// --kind all writes OUT.gguf, OUT-mmproj.gguf and OUT-drafter.gguf. --markov designs the model
// and drafter of one seed as a pair with a controlled agreement (tools/factory/pair_design.h).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>

#include "engine/error.h"
#include "tools/factory/factory.h"
#include "engine/platform/console.h"

namespace {

std::string with_commas(std::uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : "|") + s;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tessera::factory;
  CLI::App app{"tessera-factory: synthetic Gemma 4 GGUF files (model, mmproj, MTP drafter)"};
  app.allow_windows_style_options(false);  // "/path/out.gguf" is a path on every platform
  std::string preset = "tiny", type = "F16", kind = "model", out, vocab;
  std::uint64_t seed = 0;
  bool zeros = false;
  std::uint32_t alignment = 32;
  unsigned threads = 0;
  std::uint32_t ctx_train = 0;
  bool markov = false;
  double drafter_noise = 0;
  app.add_option("--preset", preset, "model dimensions: " + join(preset_names()))->capture_default_str();
  app.add_option("--type", type, "matrix type or recipe: " + join(type_choice_names()))->capture_default_str();
  app.add_option("--seed", seed, "random seed; the weights are a pure function of it")->capture_default_str();
  app.add_option("--vocab", vocab, "Hugging Face tokenizer.json to import (default: synthetic vocabulary)");
  app.add_flag("--zeros,--sparse", zeros, "write metadata and tensor infos only; data stays sparse zeros");
  app.add_option("--kind", kind, "model|mmproj|drafter|all (all: OUT.gguf, OUT-mmproj.gguf, OUT-drafter.gguf)")
      ->capture_default_str();
  app.add_option("--alignment", alignment, "data alignment (other than 32 writes general.alignment)")
      ->capture_default_str();
  app.add_option("--ctx-train", ctx_train, "trained context length written to the file (default: the preset's)")
      ->check(CLI::Range(1u, 1u << 24));
  app.add_option("--threads", threads, "generation threads (0: all cores)")->capture_default_str();
  app.add_flag("--markov", markov,
               "design the model as a first-order Markov chain and the drafter to reproduce its greedy map");
  app.add_option("--drafter-noise", drafter_noise,
                 "with --markov: relative Gaussian noise on the drafter's output table (0: ~100% greedy agreement)")
      ->capture_default_str();
  app.add_option("-o,--output", out, "output .gguf path")->required();
  CLI11_PARSE(app, argc, argv);

  try {
    FactoryOptions opts;
    opts.preset = preset_by_name(preset);
    if (ctx_train != 0) opts.preset.text.context_length = ctx_train;
    opts.type = parse_type_choice(type);
    opts.seed = seed;
    opts.vocab = vocab;
    opts.zeros = zeros;
    opts.alignment = alignment;
    opts.threads = threads;
    opts.pair.markov = markov;
    opts.pair.drafter_noise = drafter_noise;
    const Kind k = parse_kind(kind);
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<WrittenFile> files = write_files(opts, k, out);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (const WrittenFile& f : files)
      std::printf("wrote %s: %s, %zu tensors, %s bytes%s\n", tessera::path_to_utf8(f.path).c_str(), f.architecture.c_str(),
                  f.n_tensors, with_commas(f.bytes).c_str(), zeros ? " (sparse zeros)" : "");
    std::printf("preset %s, type %s, seed %llu, %.2f s\n", opts.preset.name.c_str(), opts.type.name.c_str(),
                static_cast<unsigned long long>(seed), secs);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tessera-factory: %s\n", e.what());
    return 1;
  }
}
