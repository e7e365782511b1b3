// Audio decoding (libsndfile: WAV, FLAC, OGG, ...) and the Gemma 4 audio pre-processing of spec §5:
// mono, resampled to 16 kHz (libsamplerate), cut to a maximum length; one soft token per 640
// samples (40 ms). CPU only. Without libsndfile/libsamplerate the functions throw a clear error.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace tessera::media {

inline constexpr std::uint32_t kAudioRate = 16000, kAudioFrame = 640;  // 40 ms per soft token
inline constexpr double kDefaultMaxAudioSeconds = 30.0;
// decode_audio refuses files whose decoded length exceeds this (a guard against absurd headers
// and decompression bombs; prepare_audio keeps only kDefaultMaxAudioSeconds anyway).
inline constexpr double kMaxAudioFileSeconds = 3600.0;

struct Audio {
  std::uint32_t sample_rate = 0;  // Hz, the file's rate
  std::uint32_t channels = 0;     // the file's channel count
  std::vector<float> samples;     // [frames] f32, mono (channels averaged), normally in [-1, 1]
};

// Decodes what libsndfile reads: WAV PCM 8/16/24/32-bit, float/double, any channel count and rate;
// FLAC, OGG/Vorbis, AIFF, ... `name` only labels error messages. Throws tessera::Error.
Audio decode_audio(std::span<const std::uint8_t> bytes, const std::string& name);
// Reads the file (memory-mapped) and decodes it.
Audio load_audio(const std::filesystem::path& path);

// Band-limited resampling (libsamplerate SRC_SINC_MEDIUM_QUALITY: 97 dB SNR, 90% of the band; BEST is
// 3x slower for a passband speech does not use), time-aligned, output length
// round(size * to_rate / from_rate); a copy when the rates are equal. Throws when the ratio is
// outside libsamplerate's 1/256..256.
std::vector<float> resample(std::span<const float> mono, std::uint32_t from_rate, std::uint32_t to_rate);

struct PreparedAudio {
  std::vector<float> samples;    // [n] f32, 16 kHz mono, cut to max_seconds, not padded
  double seconds_in = 0;         // duration of the input
  bool cut = false;              // true when the input was longer than max_seconds
  std::uint32_t frames() const;  // ceil(samples / 640): soft tokens
};

// Resamples to 16 kHz, then cuts to max_seconds.
PreparedAudio prepare_audio(const Audio& a, double max_seconds = kDefaultMaxAudioSeconds);

// False when built without libsndfile/libsamplerate.
bool audio_decoding_available();

}  // namespace tessera::media
