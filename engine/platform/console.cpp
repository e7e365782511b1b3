#include "engine/platform/console.h"

#ifdef _WIN32
#include "engine/platform/win32.h"
// after windows.h
#include <shellapi.h>
#endif

namespace tessera {

std::filesystem::path path_from_utf8(std::string_view s) {
  return std::filesystem::path(std::u8string(s.begin(), s.end()));
}

std::string path_to_utf8(const std::filesystem::path& p) {
  const std::u8string u = p.u8string();
  return std::string(u.begin(), u.end());
}

#ifdef _WIN32

void use_utf8_console() {
  ::SetConsoleOutputCP(CP_UTF8);
  ::SetConsoleCP(CP_UTF8);
}

std::vector<std::string> utf8_args(int argc, char** argv) {
  int n = 0;
  LPWSTR* wide = ::CommandLineToArgvW(::GetCommandLineW(), &n);
  if (!wide) return std::vector<std::string>(argv, argv + argc);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(path_to_utf8(std::filesystem::path(wide[i])));
  ::LocalFree(wide);
  return out;
}

#else

void use_utf8_console() {}

std::vector<std::string> utf8_args(int argc, char** argv) { return std::vector<std::string>(argv, argv + argc); }

#endif

}  // namespace tessera
