// EngineOptions: every engine knob, parsed once. from_env() is the only place the engine reads
// environment variables; the CLI overlays its flags on top, tests build options by hand.
#pragma once
#include <filesystem>
#include <string>

namespace tessera {

struct EngineOptions {
  std::string device;               // index ("0") or case-insensitive name substring; empty = best by type
  std::string profile;              // device profile name to force (engine/profiles.h); empty = none
  bool validation = false;          // VK_LAYER_KHRONOS_validation + debug messenger
  bool validation_sync = false;     // also synchronization validation (slower; implies validation)
  std::filesystem::path cache_dir;  // pipeline cache dir; empty = default_cache_dir()
  bool timestamps = true;           // per-dispatch GPU timestamps when the queue supports them
  bool verbose = false;             // info lines on stderr (device chosen, cache loaded...)

  // TESSERA_DEVICE, TESSERA_DEVICE_PROFILE, TESSERA_VALIDATION=1 (or =sync), TESSERA_CACHE_DIR,
  // TESSERA_TIMESTAMPS=0, TESSERA_VERBOSE=1. Also calls ensure_runtime_dir().
  static EngineOptions from_env();
};

// $TESSERA_CACHE_DIR, else $XDG_CACHE_HOME/tessera, else ~/.cache/tessera (%LOCALAPPDATA%\tessera
// on Windows); empty when none of them is set (the pipeline cache then stays in memory).
std::filesystem::path default_cache_dir();

// Points XDG_RUNTIME_DIR at a private writable directory when it is unset or not writable (Mesa
// drivers such as lavapipe warn or fail without one). No-op on Windows. Idempotent.
void ensure_runtime_dir();

}  // namespace tessera
