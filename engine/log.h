// Engine diagnostics on stderr: warnings (always shown) and info lines (shown when verbose).
// One tiny sink so driver quirks, ignored cache files and missing layers are reported alike.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace tessera {

// "[tessera] warning: <msg>" on stderr.
void log_warning(std::string_view msg);
// Info lines ("[tessera] <msg>" on stderr) shown only when verbose. One per Device, from
// EngineOptions::verbose: no process-wide switch.
class Log {
 public:
  explicit Log(bool verbose = false) : verbose_(verbose) {}
  void info(std::string_view msg) const;
  bool verbose() const { return verbose_; }

 private:
  bool verbose_;
};

// "128 MiB (134217728 bytes)" for messages naming sizes and limits; "512 bytes" below 1 KiB.
std::string format_bytes(std::uint64_t bytes);
// "128 MiB", "23.54 GiB", "512 B": the compact form for tables (`tessera devices`).
std::string format_bytes_short(std::uint64_t bytes);

}  // namespace tessera
