// `tessera`: the command-line front end (devices, info, tokenize, run, chat, bench).
#include <algorithm>
#include <cstdio>
#include <exception>

#include "engine/platform/console.h"
#include "tools/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"tessera: Gemma 4 on any Vulkan GPU", "tessera"};
  // On Windows CLI11 would read "/path/model.gguf" as an option: only - and -- start options.
  app.allow_windows_style_options(false);
  app.require_subcommand(1);
  tessera::cli::GlobalOptions global;
  app.add_option("--device", global.device, "Vulkan device: index or name substring (default: best)");
  app.add_option("--profile", global.profile,
                 "force a device profile onto the device (adreno-x1-85, intel-xe2, amd-rdna3, nvidia-ampere, minimal); "
                 "also TESSERA_DEVICE_PROFILE");
  app.add_flag("--validation", global.validation, "enable the Vulkan validation layers");
  int exit_code = 0;
  tessera::cli::add_devices_command(app, global, exit_code);
  tessera::cli::add_info_command(app, global, exit_code);
  tessera::cli::add_tokenize_command(app, global, exit_code);
  tessera::cli::add_run_command(app, global, exit_code);
  tessera::cli::add_chat_command(app, global, exit_code);
  tessera::cli::add_bench_command(app, global, exit_code);
  try {
    tessera::use_utf8_console();
    // CLI11 parses argv in reverse order, without the program name.
    std::vector<std::string> args = tessera::utf8_args(argc, argv);
    args.erase(args.begin());
    std::reverse(args.begin(), args.end());
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tessera: error: %s\n", e.what());
    return 1;
  }
  return exit_code;
}
