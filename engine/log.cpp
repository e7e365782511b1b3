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

std::string format_bytes(std::uint64_t bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  char buf[64];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
  else
    std::snprintf(buf, sizeof buf, "%.4g %s (%llu bytes)", v, units[u], static_cast<unsigned long long>(bytes));
  return buf;
}

}  // namespace tessera
