// Engine diagnostics on stderr (see log.h).
#include "engine/log.h"

#include <atomic>
#include <cstdio>

namespace tessera {
namespace {
std::atomic<bool> g_verbose{false};  // process-wide switch, set from EngineOptions
}

void log_warning(std::string_view msg) {
  std::fprintf(stderr, "[tessera] warning: %.*s\n", static_cast<int>(msg.size()), msg.data());
}

void log_info(std::string_view msg) {
  if (g_verbose.load(std::memory_order_relaxed))
    std::fprintf(stderr, "[tessera] %.*s\n", static_cast<int>(msg.size()), msg.data());
}

void set_log_verbose(bool verbose) { g_verbose.store(verbose, std::memory_order_relaxed); }

std::string format_bytes_short(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.4g %s", v, units[u]);
  return buf;
}

std::string format_bytes(std::uint64_t bytes) {
  const std::string exact = std::to_string(bytes) + " bytes";
  return bytes < 1024 ? exact : format_bytes_short(bytes) + " (" + exact + ")";
}

}  // namespace tessera
