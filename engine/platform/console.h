// Text in and out of the process as UTF-8 on every platform: the console code page on Windows,
// the command line re-read as UTF-16 and converted (Windows hands argv over in the ANSI code
// page), and file paths built from UTF-8 strings (std::filesystem::path(std::string) reads the
// ANSI code page on Windows).
#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace tessera {

// Windows: sets the console's input and output code pages to UTF-8. Elsewhere: nothing.
void use_utf8_console();

// The command-line arguments as UTF-8 (argv[0] included). POSIX: argv as given.
std::vector<std::string> utf8_args(int argc, char** argv);

// A path from UTF-8 text, and back.
std::filesystem::path path_from_utf8(std::string_view s);
std::string path_to_utf8(const std::filesystem::path& p);

}  // namespace tessera
