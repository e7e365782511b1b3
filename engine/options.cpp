// EngineOptions::from_env and the defaults that depend on the environment (see options.h).
#include "engine/options.h"

#include <cstdlib>
#include <string_view>
#include <system_error>

#ifndef _WIN32
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace tessera {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// "1", "true", "on", "yes" (any case) -> true; "0", "false", "off", "no" -> false; else fallback.
bool env_flag(const char* name, bool fallback) {
  std::string v = env(name);
  for (char& c : v) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (v == "1" || v == "true" || v == "on" || v == "yes") return true;
  if (v == "0" || v == "false" || v == "off" || v == "no") return false;
  return fallback;
}

#ifndef _WIN32
bool writable_dir(const std::string& p) {
  struct stat st {};
  return !p.empty() && ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && ::access(p.c_str(), W_OK | X_OK) == 0;
}
#endif

}  // namespace

EngineOptions EngineOptions::from_env() {
  ensure_runtime_dir();
  EngineOptions o;
  o.device = env("TESSERA_DEVICE");
  o.profile = env("TESSERA_DEVICE_PROFILE");
  o.validation_sync = env("TESSERA_VALIDATION") == "sync";
  o.validation = o.validation_sync || env_flag("TESSERA_VALIDATION", false);
  o.cache_dir = default_cache_dir();
  o.timestamps = env_flag("TESSERA_TIMESTAMPS", true);
  o.verbose = env_flag("TESSERA_VERBOSE", false);
  return o;
}

std::filesystem::path default_cache_dir() {
  if (std::string d = env("TESSERA_CACHE_DIR"); !d.empty()) return d;
#ifdef _WIN32
  if (std::string d = env("LOCALAPPDATA"); !d.empty()) return std::filesystem::path(d) / "tessera";
#else
  if (std::string d = env("XDG_CACHE_HOME"); !d.empty()) return std::filesystem::path(d) / "tessera";
  if (std::string d = env("HOME"); !d.empty()) return std::filesystem::path(d) / ".cache" / "tessera";
#endif
  return {};
}

void ensure_runtime_dir() {
#ifndef _WIN32
  if (writable_dir(env("XDG_RUNTIME_DIR"))) return;
  std::string tmp = env("TMPDIR");
  if (!writable_dir(tmp)) tmp = "/tmp";
  const std::string dir = tmp + "/tessera-runtime-" + std::to_string(::getuid());
  ::mkdir(dir.c_str(), 0700);  // may already exist
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::getuid() && writable_dir(dir))
    ::setenv("XDG_RUNTIME_DIR", dir.c_str(), 1);
#endif
}

}  // namespace tessera
