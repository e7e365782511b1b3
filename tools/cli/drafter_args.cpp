#include "tools/cli/drafter_args.h"

#include <cstdio>

#include "engine/error.h"
#include "engine/log.h"
#include "engine/platform/console.h"

namespace tessera::cli {

void add_drafter_options(CLI::App* cmd, DrafterArgs& a) {
  cmd->add_option("--drafter", a.path,
                  "MTP drafter GGUF (gemma4-assistant) for speculative decoding; 'demo' with the demo model");
  cmd->add_option("--draft-max", a.spec.draft_max, "drafts per step at most (the length adapts below it)")
      ->check(CLI::Range(1u, MtpDraftSession::kMaxDraft))
      ->capture_default_str();
  cmd->add_option("--draft", a.spec.draft_fixed, "a fixed number of drafts per step (no adaptation)")
      ->check(CLI::Range(1u, MtpDraftSession::kMaxDraft));
  cmd->add_flag("--stats", a.stats, "print the drafter's statistics (acceptance per position, speed-up)");
}

std::unique_ptr<MtpDrafter> load_drafter(const LoadedModel& lm, const DrafterArgs& a, bool quiet) {
  if (a.path.empty()) return nullptr;
  std::filesystem::path path;
  if (a.path == "demo") {
    if (!lm.demo) throw Error("[cli] --drafter demo goes with the demo model (no -m)");
    path = demo_drafter_path();
  } else {
    path = path_from_utf8(a.path);
  }
  std::unique_ptr<MtpDrafter> d = MtpDrafter::load(*lm.ctx, path, *lm.model);
  if (!quiet)
    std::fprintf(stderr, "loaded drafter %s: %u layers, %u wide, %s\n", path_to_utf8(path.filename()).c_str(),
                 d->hparams().n_layer, d->hparams().n_embd, format_bytes_short(d->bytes()).c_str());
  return d;
}

}  // namespace tessera::cli
