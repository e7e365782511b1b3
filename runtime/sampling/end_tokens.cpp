// end_tokens / StopSet (see end_tokens.h).
#include "runtime/sampling/end_tokens.h"

#include <algorithm>
#include <utility>

#include "runtime/tokenizer/tokenizer.h"

namespace tessera {

std::vector<std::uint32_t> end_tokens(const Tokenizer& tok) {
  std::vector<std::uint32_t> ids;
  for (const std::int32_t id : {tok.eos_id(), tok.eot_id(), tok.find("<eos>"), tok.find("<turn|>")})
    if (id >= 0) ids.push_back(static_cast<std::uint32_t>(id));
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

StopSet::StopSet(std::vector<std::uint32_t> ids) : ids_(std::move(ids)) {
  std::sort(ids_.begin(), ids_.end());
  ids_.erase(std::unique(ids_.begin(), ids_.end()), ids_.end());
}

bool StopSet::is_end(std::uint32_t id) const { return std::binary_search(ids_.begin(), ids_.end(), id); }

}  // namespace tessera
