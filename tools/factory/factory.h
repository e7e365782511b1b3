// tessera-factory library: writes synthetic Gemma 4 GGUF files with the exact architecture
// strings, metadata keys, tensor names, shapes and types of real ones (spec §8): the `gemma4`
// model, its `clip` mmproj (gemma4uv + gemma4ua) and its `gemma4-assistant` MTP drafter.
// Weights are deterministic from the seed, or left as sparse zeros (--zeros) for size tests.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tools/factory/pair_design.h"
#include "tools/factory/plan.h"
#include "tools/factory/presets.h"
#include "tools/factory/recipe.h"
#include "tools/factory/vocab.h"

namespace tessera::gguf {
class Writer;
}

namespace tessera::factory {

enum class Kind { model, mmproj, drafter, all };

// "model" | "mmproj" | "drafter" | "all"; throws tessera::Error otherwise.
Kind parse_kind(std::string_view s);
std::string_view kind_name(Kind k);

struct FactoryOptions {
  Preset preset = preset_by_name("tiny");          // dimensions (editable after preset_by_name)
  TypeChoice type = parse_type_choice("F16");      // matrix type or K-quant recipe
  std::uint64_t seed = 0;                          // weights are a pure function of the seed
  std::filesystem::path vocab;                     // HF tokenizer.json; empty: synthetic vocab
  bool zeros = false;                              // metadata only, tensor data sparse zeros
  std::uint32_t alignment = 32;                    // != 32 writes general.alignment
  unsigned threads = 0;                            // 0: all cores
  PairOptions pair;                                // designed target/drafter pair (pair_design.h); off: random
};

struct WrittenFile {
  std::filesystem::path path;
  std::string architecture;   // general.architecture
  std::size_t n_tensors = 0;
  std::uint64_t bytes = 0;    // file size (logical, holes included)
};

// The vocabulary the options call for: imported from opts.vocab, else synthetic of the preset's
// vocab size.
Vocab load_vocab(const FactoryOptions& opts);

// Fills `w` with the metadata and tensor infos of one file (kind != all) without writing
// anything; w.file_size() then gives the exact size. Returns the tensor plan.
FilePlan prepare(gguf::Writer& w, const FactoryOptions& opts, Kind kind, const Vocab& vocab);

// Writes one file (kind != all) to `path`.
WrittenFile write_file(const FactoryOptions& opts, Kind kind, const std::filesystem::path& path, const Vocab& vocab);
WrittenFile write_model(const FactoryOptions& opts, const std::filesystem::path& path);
WrittenFile write_mmproj(const FactoryOptions& opts, const std::filesystem::path& path);
WrittenFile write_drafter(const FactoryOptions& opts, const std::filesystem::path& path);

// Where `kind all` puts each file given -o `out`: the model at `out`, the mmproj at
// "<stem>-mmproj.gguf" and the drafter at "<stem>-drafter.gguf" next to it (stem = out without
// its .gguf extension). For a single kind the file goes to `out` itself.
std::filesystem::path companion_path(const std::filesystem::path& out, Kind kind);

// Writes `kind` (all: the three files) and returns what was written.
std::vector<WrittenFile> write_files(const FactoryOptions& opts, Kind kind, const std::filesystem::path& out);

}  // namespace tessera::factory
