// placeholder: replaced by the GGUF reader implementation
#include "runtime/gguf/gguf.h"
