// Test helpers for end-to-end tests of the built programs (tessera, tessera-factory): where
// they are, running one with captured stdout/stderr, and a self-deleting temporary directory.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>

namespace tessera::test {

// build/bin/<name>: $TESSERA_BIN_DIR (set by CTest), else the folder of the running test.
std::filesystem::path tool_path(std::string_view name);

struct ToolResult {
  int code = -1;    // exit status; -1 when killed by a signal
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs `<tool_path(tool)> <args>` without a shell: args are words separated by spaces, '...'
// quotes one word, `< file` is the standard input.
ToolResult run_tool(std::string_view tool, const std::string& args);

// Whole file as a string ("" when unreadable).
std::string read_all(const std::filesystem::path& p);

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace tessera::test
