#include "common/tools.h"

#include "engine/platform/console.h"

#ifdef _WIN32
#include <process.h>

#include "engine/platform/win32.h"
#else
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

#ifndef _WIN32
extern char** environ;
#endif

namespace tessera::test {
namespace {

#ifdef _WIN32
constexpr std::string_view kExeSuffix = ".exe";
int process_id() { return ::_getpid(); }
#else
constexpr std::string_view kExeSuffix = "";
int process_id() { return static_cast<int>(::getpid()); }
#endif

// The words of a test's argument string: split at spaces, '...' quotes one word (spaces kept),
// and `< file` names the standard input.
struct Words {
  std::vector<std::string> argv;
  std::string stdin_path;
};

Words split_words(std::string_view s) {
  Words w;
  std::string word;
  bool in_word = false, quoted = false, next_is_stdin = false;
  auto finish = [&] {
    if (!in_word) return;
    if (next_is_stdin) w.stdin_path = word, next_is_stdin = false;
    else if (word == "<") next_is_stdin = true;
    else w.argv.push_back(word);
    word.clear();
    in_word = false;
  };
  for (const char c : s) {
    if (c == '\'') {
      quoted = !quoted;
      in_word = true;
    } else if (c == ' ' && !quoted) {
      finish();
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quoted) throw std::invalid_argument("run_tool: unbalanced ' in: " + std::string(s));
  finish();
  if (next_is_stdin) throw std::invalid_argument("run_tool: '<' without a file in: " + std::string(s));
  return w;
}

#ifdef _WIN32
std::wstring wide(const std::string& s) {
  if (s.empty()) return {};
  const int n = ::MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  std::wstring w(static_cast<std::size_t>(n), L'\0');
  ::MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), w.data(), n);
  return w;
}

// One argument for CommandLineToArgvW / the CRT: in quotes, backslashes doubled before a quote.
void append_quoted(std::wstring& line, const std::wstring& arg) {
  line += L'"';
  std::size_t slashes = 0;
  for (const wchar_t c : arg) {
    if (c == L'\\') {
      ++slashes;
      continue;
    }
    line.append(c == L'"' ? 2 * slashes + 1 : slashes, L'\\');
    slashes = 0;
    line += c;
  }
  line.append(2 * slashes, L'\\');
  line += L'"';
}

struct Handle {
  HANDLE h = INVALID_HANDLE_VALUE;
  ~Handle() {
    if (h != INVALID_HANDLE_VALUE) ::CloseHandle(h);
  }
};

HANDLE inheritable(const std::filesystem::path& p, bool write) {
  SECURITY_ATTRIBUTES sa{sizeof(sa), nullptr, TRUE};
  return ::CreateFileW(p.c_str(), write ? GENERIC_WRITE : GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa,
                       write ? CREATE_ALWAYS : OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
}

// Started with CreateProcessW, not through cmd.exe: no shell quoting rules (which differ between
// Windows and wine's cmd) between the test and the tool.
int spawn(const std::vector<std::string>& argv, const std::filesystem::path& in, const std::filesystem::path& out,
          const std::filesystem::path& err) {
  std::wstring line;
  for (const std::string& a : argv) {
    if (!line.empty()) line += L' ';
    append_quoted(line, wide(a));
  }
  Handle hin, hout{inheritable(out, true)}, herr{inheritable(err, true)};
  if (!in.empty()) hin.h = inheritable(in, false);
  if ((!in.empty() && hin.h == INVALID_HANDLE_VALUE) || hout.h == INVALID_HANDLE_VALUE ||
      herr.h == INVALID_HANDLE_VALUE)
    return -1;
  STARTUPINFOW si{};
  si.cb = sizeof(si);
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = in.empty() ? ::GetStdHandle(STD_INPUT_HANDLE) : hin.h;
  si.hStdOutput = hout.h;
  si.hStdError = herr.h;
  PROCESS_INFORMATION pi{};
  const std::wstring app = wide(argv.front());
  if (!::CreateProcessW(app.c_str(), line.data(), nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, &pi)) return -1;
  ::WaitForSingleObject(pi.hProcess, INFINITE);
  DWORD code = 0;
  ::GetExitCodeProcess(pi.hProcess, &code);
  ::CloseHandle(pi.hThread);
  ::CloseHandle(pi.hProcess);
  return static_cast<int>(code);
}
#else
// posix_spawnp with the three standard streams opened from files: no shell in between.
int spawn(const std::vector<std::string>& argv, const std::filesystem::path& in, const std::filesystem::path& out,
          const std::filesystem::path& err) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (!in.empty()) posix_spawn_file_actions_addopen(&fa, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
#endif

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
  Words w = split_words(args);
  std::vector<std::string> argv;
  // Cross builds whose tests run under an emulator (qemu-user) run the tools under it too
  // (TESSERA_TOOL_EMULATOR from tests/CMakeLists.txt: CMAKE_CROSSCOMPILING_EMULATOR, words
  // separated by spaces).
  if (const char* emu = std::getenv("TESSERA_TOOL_EMULATOR"); emu && *emu) argv = split_words(emu).argv;
  argv.push_back(path_to_utf8(tool_path(tool)));
  argv.insert(argv.end(), w.argv.begin(), w.argv.end());
  ToolResult r;
  r.code = spawn(argv, w.stdin_path.empty() ? std::filesystem::path() : path_from_utf8(w.stdin_path), out, err);
  r.out = read_all(out);
  r.err = read_all(err);
  if (r.code == -1 && r.err.empty()) r.err = "run_tool: could not start " + argv.front();
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
