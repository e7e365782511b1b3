// Subcommands of the `tessera` CLI. Each lives in its own cmd_<name>.cpp and adds itself to the
// app from main.cpp; a command's callback returns the process exit code through `exit_code`.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

namespace tessera::cli {

struct GlobalOptions {
  std::string device;    // --device: index or name substring
  std::string profile;   // --profile: device profile name to force
  bool validation = false;  // --validation
};

void add_devices_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_info_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_tokenize_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_run_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_chat_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_bench_command(CLI::App& app, const GlobalOptions& global, int& exit_code);

}  // namespace tessera::cli
