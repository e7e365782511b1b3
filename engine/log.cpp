// Engine diagnostics on stderr (see log.h).
#include "engine/log.h"

#include <cstdio>

namespace tessera {
void log_warning(std::string_view msg) {
  std::fprintf(stderr, "[tessera] warning: %.*s\n", static_cast<int>(msg.size()), msg.data());
}

void Log::info(std::string_view msg) const {
  if (verbose_) std::fprintf(stderr, "[tessera] %.*s\n", static_cast<int>(msg.size()), msg.data());
}

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
