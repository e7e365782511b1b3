// Errors of the C++ layers: one exception type whose message names the component, file,
// tensor and shape at fault, e.g. "[gguf] model.gguf: tensor 'blk.0.attn_q.weight' ...".
#pragma once
#include <stdexcept>
#include <string>

namespace tessera {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace tessera
