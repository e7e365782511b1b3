// Fixtures for the factory tests: TempDir and read_all come from tests/common/tools.h.
#pragma once
#include <cstdlib>
#include <filesystem>

#include "common/tools.h"

namespace tessera::test {

// Directory of the factory test fixtures (tests/factory/data).
inline std::filesystem::path factory_data_dir() {
  if (const char* src = std::getenv("TESSERA_SOURCE_DIR")) return std::filesystem::path(src) / "tests/factory/data";
  return std::filesystem::path(__FILE__).parent_path() / "data";
}

}  // namespace tessera::test
