#include "tools/factory/factory.h"

#include <cstdio>
#include <optional>

#include "engine/error.h"
#include "runtime/gguf/gguf_writer.h"
#include "tools/factory/weights.h"
#include "engine/platform/console.h"

namespace tessera::factory {
namespace {

std::string describe(const FactoryOptions& opts) {
  std::string pair;
  if (opts.pair.markov) {
    char noise[32];
    std::snprintf(noise, sizeof noise, "%g", opts.pair.drafter_noise);
    pair = std::string(" markov") + (opts.pair.drafter_noise != 0 ? std::string(" drafter_noise=") + noise : "");
  }
  return "tessera-factory synthetic weights: preset=" + opts.preset.name + " type=" + opts.type.name +
         " seed=" + std::to_string(opts.seed) + (opts.zeros ? " zeros" : "") +
         (opts.vocab.empty() ? " vocab=synthetic" : " vocab=" + path_to_utf8(opts.vocab.filename())) + pair;
}

}  // namespace

Kind parse_kind(std::string_view s) {
  if (s == "model") return Kind::model;
  if (s == "mmproj") return Kind::mmproj;
  if (s == "drafter") return Kind::drafter;
  if (s == "all") return Kind::all;
  throw Error("[factory] unknown --kind '" + std::string(s) + "' (expected model, mmproj, drafter or all)");
}

std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::model: return "model";
    case Kind::mmproj: return "mmproj";
    case Kind::drafter: return "drafter";
    case Kind::all: return "all";
  }
  return "?";
}

Vocab load_vocab(const FactoryOptions& opts) {
  if (!opts.vocab.empty()) return import_hf_tokenizer(opts.vocab);
  return synthetic_vocab(opts.preset.text.n_vocab);
}

FilePlan prepare(gguf::Writer& w, const FactoryOptions& opts, Kind kind, const Vocab& vocab) {
  check_pair_options(opts.pair);
  const std::string desc = describe(opts);
  FilePlan plan;
  switch (kind) {
    case Kind::model:
      plan = plan_model(opts.preset, opts.type, vocab.size());
      write_model_metadata(w, opts.preset, opts.type, desc);
      break;
    case Kind::mmproj:
      plan = plan_mmproj(opts.preset, opts.type);
      write_mmproj_metadata(w, opts.preset, opts.type, desc);
      break;
    case Kind::drafter:
      if (opts.preset.drafter.n_embd == opts.preset.text.n_embd)
        throw Error("[factory] drafter width " + std::to_string(opts.preset.drafter.n_embd) +
                    " must differ from the target's (loaders reject embedding_length == embedding_length_out)");
      plan = plan_drafter(opts.preset, opts.type, vocab.size());
      write_drafter_metadata(w, opts.preset, opts.type, desc);
      break;
    case Kind::all:
      throw Error("[factory] prepare() writes one file; use write_files() for --kind all");
  }
  if (opts.pair.markov && kind != Kind::mmproj) apply_pair_design(plan);
  if (opts.alignment != 32) w.set_u32("general.alignment", opts.alignment);
  if (kind != Kind::mmproj) write_tokenizer_metadata(w, vocab);
  for (const TensorSpec& t : plan.tensors) w.add_tensor(t.name, t.type, t.ne);
  return plan;
}

WrittenFile write_file(const FactoryOptions& opts, Kind kind, const std::filesystem::path& path, const Vocab& vocab) {
  gguf::Writer w;
  const FilePlan plan = prepare(w, opts, kind, vocab);
  std::optional<PairDesign> design;
  if (opts.pair.markov && kind != Kind::mmproj && !opts.zeros)
    design.emplace(opts.preset, opts.type, opts.seed, vocab, opts.pair.drafter_noise);
  w.begin(path);
  for (const TensorSpec& t : plan.tensors) {
    if (opts.zeros) w.skip_tensor();
    else write_tensor_data(w, t, opts.seed, opts.threads, design ? &*design : nullptr);
  }
  w.finish();
  return {path, plan.architecture, plan.tensors.size(), w.file_size()};
}

WrittenFile write_model(const FactoryOptions& opts, const std::filesystem::path& path) {
  return write_file(opts, Kind::model, path, load_vocab(opts));
}

WrittenFile write_mmproj(const FactoryOptions& opts, const std::filesystem::path& path) {
  return write_file(opts, Kind::mmproj, path, Vocab{});
}

WrittenFile write_drafter(const FactoryOptions& opts, const std::filesystem::path& path) {
  return write_file(opts, Kind::drafter, path, load_vocab(opts));
}

std::filesystem::path companion_path(const std::filesystem::path& out, Kind kind) {
  if (kind == Kind::model || kind == Kind::all) return out;
  std::filesystem::path stem = out;
  if (stem.extension() == ".gguf") stem.replace_extension();
  stem += kind == Kind::mmproj ? "-mmproj.gguf" : "-drafter.gguf";
  return stem;
}

std::vector<WrittenFile> write_files(const FactoryOptions& opts, Kind kind, const std::filesystem::path& out) {
  if (kind != Kind::all) {
    const Vocab vocab = kind == Kind::mmproj ? Vocab{} : load_vocab(opts);
    return {write_file(opts, kind, out, vocab)};
  }
  const Vocab vocab = load_vocab(opts);
  return {write_file(opts, Kind::model, companion_path(out, Kind::model), vocab),
          write_file(opts, Kind::mmproj, companion_path(out, Kind::mmproj), Vocab{}),
          write_file(opts, Kind::drafter, companion_path(out, Kind::drafter), vocab)};
}

}  // namespace tessera::factory
