// Audio decoding and pre-processing (audio.h): libsndfile reads from memory through its virtual
// I/O, channels are averaged to mono, libsamplerate resamples to 16 kHz.
#include "runtime/media/audio.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "engine/error.h"
#include "runtime/media/media_file.h"

#ifdef TESSERA_HAVE_SNDFILE
#include <samplerate.h>
#include <sndfile.h>
#endif

namespace tessera::media {
namespace {

[[noreturn]] void fail(const std::string& name, const std::string& msg) {
  throw Error("[audio] " + name + ": " + msg);
}

#ifdef TESSERA_HAVE_SNDFILE

// A read-only file in memory for libsndfile's virtual I/O.
struct MemFile {
  std::span<const std::uint8_t> bytes;
  sf_count_t pos = 0;

  sf_count_t size() const { return static_cast<sf_count_t>(bytes.size()); }
  static MemFile& of(void* user) { return *static_cast<MemFile*>(user); }
  static sf_count_t get_filelen(void* user) { return of(user).size(); }
  static sf_count_t seek(sf_count_t offset, int whence, void* user) {
    MemFile& f = of(user);
    const sf_count_t base = whence == SEEK_CUR ? f.pos : whence == SEEK_END ? f.size() : 0;
    if (offset < -base) return -1;  // before the start
    f.pos = offset > f.size() - base ? f.size() : base + offset;
    return f.pos;
  }
  static sf_count_t read(void* ptr, sf_count_t count, void* user) {
    MemFile& f = of(user);
    if (count <= 0 || f.pos >= f.size()) return 0;
    const sf_count_t n = std::min(count, f.size() - f.pos);
    std::memcpy(ptr, f.bytes.data() + f.pos, static_cast<std::size_t>(n));
    f.pos += n;
    return n;
  }
  static sf_count_t write(const void*, sf_count_t, void*) { return 0; }
  static sf_count_t tell(void* user) { return of(user).pos; }
};

struct SndfileClose {
  void operator()(SNDFILE* f) const { sf_close(f); }
};

// Reads every frame, averaging the channels to mono; non-finite samples become 0.
std::vector<float> read_mono(SNDFILE* sf, const SF_INFO& info, const std::string& name) {
  const std::size_t channels = static_cast<std::size_t>(info.channels);
  const double limit = kMaxAudioFileSeconds * info.samplerate;  // frames
  std::vector<float> mono;
  if (info.frames > 0 && info.frames < SF_COUNT_MAX && double(info.frames) <= limit)
    mono.reserve(static_cast<std::size_t>(info.frames));
  const std::size_t chunk = std::max<std::size_t>(1, 16384 / channels);  // frames per read
  std::vector<float> buf(chunk * channels);
  const float inv = 1.0f / static_cast<float>(channels);
  for (;;) {
    const sf_count_t got = sf_readf_float(sf, buf.data(), static_cast<sf_count_t>(chunk));
    if (got <= 0) break;
    for (std::size_t i = 0; i < static_cast<std::size_t>(got); ++i) {
      float sum = 0;
      for (std::size_t c = 0; c < channels; ++c) sum += buf[i * channels + c];
      const float v = sum * inv;
      mono.push_back(std::isfinite(v) ? v : 0.0f);
    }
    if (double(mono.size()) > limit)
      fail(name, "longer than the limit of " + std::to_string(int(kMaxAudioFileSeconds)) + " s (kMaxAudioFileSeconds) at " +
                     std::to_string(info.samplerate) + " Hz");
  }
  if (sf_error(sf) != SF_ERR_NO_ERROR && mono.empty()) fail(name, std::string("cannot decode: ") + sf_strerror(sf));
  return mono;
}

#endif  // TESSERA_HAVE_SNDFILE

}  // namespace

Audio decode_audio(std::span<const std::uint8_t> bytes, const std::string& name) {
#ifdef TESSERA_HAVE_SNDFILE
  if (bytes.empty()) fail(name, "empty file (0 bytes)");
  MemFile mem{bytes, 0};
  SF_VIRTUAL_IO vio{&MemFile::get_filelen, &MemFile::seek, &MemFile::read, &MemFile::write, &MemFile::tell};
  SF_INFO info{};
  std::unique_ptr<SNDFILE, SndfileClose> sf(sf_open_virtual(&vio, SFM_READ, &info, &mem));
  if (!sf)
    fail(name, "not a readable audio file (" + std::to_string(bytes.size()) + " bytes; libsndfile: " + sf_strerror(nullptr) + ")");
  if (info.samplerate <= 0 || info.channels <= 0)
    fail(name, "libsndfile reports " + std::to_string(info.channels) + " channels at " + std::to_string(info.samplerate) + " Hz");
  if (info.frames > 0 && info.frames < SF_COUNT_MAX && double(info.frames) / info.samplerate > kMaxAudioFileSeconds)
    fail(name, std::to_string(info.frames) + " frames at " + std::to_string(info.samplerate) + " Hz, longer than the limit of " +
                   std::to_string(int(kMaxAudioFileSeconds)) + " s (kMaxAudioFileSeconds)");
  Audio a;
  a.sample_rate = static_cast<std::uint32_t>(info.samplerate);
  a.channels = static_cast<std::uint32_t>(info.channels);
  a.samples = read_mono(sf.get(), info, name);
  if (a.samples.empty()) fail(name, "no audio frames (zero-length audio)");
  return a;
#else
  (void)bytes;
  fail(name, "this build has no audio decoder (built without libsndfile/libsamplerate)");
#endif
}

Audio load_audio(const std::filesystem::path& path) {
  const MediaFile f = MediaFile::open(path, "audio");
  return decode_audio(f.bytes(), f.name());
}

std::vector<float> resample(std::span<const float> mono, std::uint32_t from_rate, std::uint32_t to_rate) {
  if (from_rate == 0 || to_rate == 0)
    throw Error("[audio] cannot resample from " + std::to_string(from_rate) + " Hz to " + std::to_string(to_rate) + " Hz");
  if (from_rate == to_rate || mono.empty()) return {mono.begin(), mono.end()};
#ifdef TESSERA_HAVE_SNDFILE
  const double ratio = double(to_rate) / double(from_rate);
  if (!src_is_valid_ratio(ratio))
    throw Error("[audio] cannot resample from " + std::to_string(from_rate) + " Hz to " + std::to_string(to_rate) +
                " Hz: the ratio is outside libsamplerate's 1/256..256");
  const std::size_t n_out = static_cast<std::size_t>(std::llround(double(mono.size()) * ratio));
  int err = 0;
  std::unique_ptr<SRC_STATE, SRC_STATE* (*)(SRC_STATE*)> st(src_new(SRC_SINC_MEDIUM_QUALITY, 1, &err), src_delete);
  if (!st) throw Error(std::string("[audio] libsamplerate: ") + src_strerror(err));
  // Chunks keep the frame counts within libsamplerate's `long` (32 bits on Windows).
  const std::size_t chunk = std::size_t{1} << 18;
  std::vector<float> buf(static_cast<std::size_t>(double(chunk) * ratio) + 4096);
  std::vector<float> out;
  out.reserve(n_out + 64);
  std::size_t pos = 0;
  while (out.size() < n_out) {
    SRC_DATA d{};
    const std::size_t n_in = std::min(chunk, mono.size() - pos);
    d.data_in = mono.data() + pos;
    d.input_frames = static_cast<long>(n_in);
    d.end_of_input = pos + n_in == mono.size() ? 1 : 0;
    d.data_out = buf.data();
    d.output_frames = static_cast<long>(buf.size());
    d.src_ratio = ratio;
    if ((err = src_process(st.get(), &d)) != 0) throw Error(std::string("[audio] libsamplerate: ") + src_strerror(err));
    pos += static_cast<std::size_t>(d.input_frames_used);
    out.insert(out.end(), buf.begin(), buf.begin() + d.output_frames_gen);
    if (d.output_frames_gen == 0) {
      if (d.end_of_input) break;  // flushed
      if (d.input_frames_used == 0) throw Error("[audio] libsamplerate made no progress");
    }
  }
  out.resize(n_out, 0.0f);
  return out;
#else
  throw Error("[audio] this build has no resampler (built without libsndfile/libsamplerate)");
#endif
}

std::uint32_t PreparedAudio::frames() const {
  return static_cast<std::uint32_t>((samples.size() + kAudioFrame - 1) / kAudioFrame);
}

PreparedAudio prepare_audio(const Audio& a, double max_seconds) {
  if (a.sample_rate == 0) throw Error("[audio] cannot prepare audio with a sample rate of 0 Hz");
  if (!(max_seconds > 0) || !std::isfinite(max_seconds))
    throw Error("[audio] the maximum length must be a positive number of seconds, not " + std::to_string(max_seconds));
  PreparedAudio p;
  p.seconds_in = double(a.samples.size()) / a.sample_rate;
  p.cut = p.seconds_in > max_seconds;
  const double keep_out = std::floor(max_seconds * kAudioRate);  // samples at 16 kHz
  std::span<const float> in(a.samples);
  if (p.cut) {
    // Resample only what is kept plus a margin longer than the filter's reach, so the kept
    // samples are the same as when resampling all of it.
    const double keep_in = std::ceil(max_seconds * a.sample_rate) + a.sample_rate + 40000.0;
    if (keep_in < double(in.size())) in = in.first(static_cast<std::size_t>(keep_in));
  }
  p.samples = resample(in, a.sample_rate, kAudioRate);
  if (double(p.samples.size()) > keep_out) p.samples.resize(static_cast<std::size_t>(keep_out));
  return p;
}

bool audio_decoding_available() {
#ifdef TESSERA_HAVE_SNDFILE
  return true;
#else
  return false;
#endif
}

}  // namespace tessera::media
