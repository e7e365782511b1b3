// Streaming decode: pieces are appended to a pending buffer and only complete UTF-8 leaves it.
#include "runtime/tokenizer/tokenizer.h"

namespace tessera {

std::string Detokenizer::push(std::int32_t id) {
  pending_ += tok_->token_to_piece(id, render_special_);
  const std::size_t n = utf8_complete_prefix(pending_);
  std::string out = pending_.substr(0, n);
  pending_.erase(0, n);
  return out;
}

std::string Detokenizer::flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace tessera
