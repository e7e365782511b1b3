// The speculative-decoding flags run and chat share: --drafter (an MTP drafter GGUF), the draft
// length (adaptive up to --draft-max, or fixed with --draft), and --stats.
#pragma once
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "runtime/generate/speculative.h"
#include "runtime/model/mtp_drafter.h"
#include "tools/cli/model_setup.h"

namespace tessera::cli {

struct DrafterArgs {
  std::string path;      // --drafter; "demo" with the demo model: the factory's demo drafter
  SpecOptions spec;      // --draft-max, --draft
  bool stats = false;    // --stats
};

void add_drafter_options(CLI::App* cmd, DrafterArgs& a);

// The drafter of --drafter for the loaded model (nullptr without it).
std::unique_ptr<MtpDrafter> load_drafter(const LoadedModel& lm, const DrafterArgs& a, bool quiet);

}  // namespace tessera::cli
