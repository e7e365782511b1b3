#include "common/tools.h"

#ifdef _WIN32
#include <process.h>

#include "engine/platform/win32.h"
#else
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace tessera::test {
namespace {

#ifdef _WIN32
constexpr std::string_view kExeSuffix = ".exe";
constexpr char kQuote = '"';  // cmd.exe
int process_id() { return ::_getpid(); }
#else
constexpr std::string_view kExeSuffix = "";
constexpr char kQuote = '\'';
int process_id() { return static_cast<int>(::getpid()); }
#endif

std::string quoted(const std::string& s) { return kQuote + s + kQuote; }

}  // namespace

std::filesystem::path tool_path(std::string_view name) {
  const std::string file = std::string(name) + std::string(kExeSuffix);
  if (const char* dir = std::getenv("TESSERA_BIN_DIR")) return std::filesystem::path(dir) / file;
#ifdef _WIN32
  wchar_t self[32768];
  const DWORD n = ::GetModuleFileNameW(nullptr, self, static_cast<DWORD>(std::size(self)));
  return std::filesystem::path(std::wstring(self, n)).parent_path() / file;
#else
  std::error_code ec;
  return std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / file;
#endif
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

ToolResult run_tool(std::string_view tool, const std::string& args) {
  const TempDir dir;
  const auto out = dir / "stdout", err = dir / "stderr";
  // Cross builds whose tests run under an emulator (qemu-user) run the tools under it too
  // (TESSERA_TOOL_EMULATOR from tests/CMakeLists.txt: CMAKE_CROSSCOMPILING_EMULATOR).
  std::string cmd;
  if (const char* emu = std::getenv("TESSERA_TOOL_EMULATOR"); emu && *emu) cmd = std::string(emu) + " ";
#ifdef _WIN32
  // The tests quote arguments for a POSIX shell ('...'); cmd.exe only knows "...".
  std::string shell_args = args;
  std::replace(shell_args.begin(), shell_args.end(), '\'', '"');
#else
  const std::string& shell_args = args;
#endif
  cmd += quoted(tool_path(tool).string()) + " " + shell_args + " >" + quoted(out.string()) + " 2>" + quoted(err.string());
#ifdef _WIN32
  cmd = '"' + cmd + '"';  // cmd /c strips the outer pair of quotes when there are more than two
#endif
  const int status = std::system(cmd.c_str());
  ToolResult r;
#ifdef _WIN32
  r.code = status;  // the command's exit code
#else
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
#endif
  r.out = read_all(out);
  r.err = read_all(err);
  return r;
}

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = std::filesystem::temp_directory_path() /
          ("tessera-test-" + std::to_string(process_id()) + "-" + std::to_string(counter++));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace tessera::test
