// Engine diagnostics on stderr: warnings (always shown) and info lines (shown when verbose).
// One tiny sink so driver quirks, ignored cache files and missing layers are reported alike.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace tessera {

// "[tessera] warning: <msg>" on stderr.
void log_warning(std::string_view msg);
// "[tessera] <msg>" on stderr, only after set_log_verbose(true).
void log_info(std::string_view msg);
void set_log_verbose(bool verbose);

// "128 MiB (134217728 bytes)" for messages naming sizes and limits; "512 bytes" below 1 KiB.
std::string format_bytes(std::uint64_t bytes);
// "128 MiB", "23.54 GiB", "512 B": the compact form for tables (`tessera devices`).
std::string format_bytes_short(std::uint64_t bytes);

}  // namespace tessera
