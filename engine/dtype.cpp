#include "engine/dtype.h"

#include <cctype>
#include <string>

namespace tessera {

std::optional<DType> parse_dtype(std::string_view name) {
  std::string up(name);
  for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const DTypeInfo& i : kDTypes)
    if (i.name == up) return i.type;
  return std::nullopt;
}

}  // namespace tessera
