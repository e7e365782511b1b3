// `tessera info` (placeholder until its implementation lands).
#include "tools/cli/commands.h"

namespace tessera::cli {

void add_info_command(CLI::App& app, const GlobalOptions&, int& exit_code) {
  app.add_subcommand("info", "not implemented yet")->callback([&exit_code] { exit_code = 1; });
}

}  // namespace tessera::cli
