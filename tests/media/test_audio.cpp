// Audio decoding and pre-processing (runtime/media/audio.h): WAV files of every sample format
// written by hand, channel mixing, resampling quality, the 30 s cut and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numbers>
#include <random>

#include "common/tools.h"
#include "engine/error.h"
#include "engine/platform/console.h"
#include "media/media_files.h"
#include "runtime/media/audio.h"

namespace tessera::media {
namespace {

using test::Bytes;

#define TESSERA_REQUIRE_AUDIO()                                                      \
  if (!audio_decoding_available()) {                                                 \
    GTEST_SKIP() << "built without libsndfile/libsamplerate: no audio decoding";     \
  }

enum class Wav { U8, S16, S24, S32, F32, F64 };

int bits_of(Wav f) {
  switch (f) {
    case Wav::U8: return 8;
    case Wav::S16: return 16;
    case Wav::S24: return 24;
    case Wav::S32: return 32;
    case Wav::F32: return 32;
    case Wav::F64: return 64;
  }
  return 0;
}

void put_le(Bytes& b, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// A canonical 44-byte-header WAV (PCM tag 1, float tag 3) of interleaved samples in [-1, 1].
Bytes make_wav(std::uint32_t rate, std::uint16_t channels, Wav fmt, const std::vector<float>& samples) {
  const int bytes = bits_of(fmt) / 8;
  Bytes data;
  for (float x : samples) {
    switch (fmt) {
      case Wav::U8: data.push_back(static_cast<std::uint8_t>(std::lround(x * 127) + 128)); break;
      case Wav::S16: put_le(data, static_cast<std::uint64_t>(std::lround(x * 32767.0)), 2); break;
      case Wav::S24: put_le(data, static_cast<std::uint64_t>(std::lround(x * 8388607.0)), 3); break;
      case Wav::S32: put_le(data, static_cast<std::uint64_t>(std::llround(x * 2147483647.0)), 4); break;
      case Wav::F32: {
        std::uint32_t u;
        std::memcpy(&u, &x, 4);
        put_le(data, u, 4);
        break;
      }
      case Wav::F64: {
        const double d = x;
        std::uint64_t u;
        std::memcpy(&u, &d, 8);
        put_le(data, u, 8);
        break;
      }
    }
  }
  Bytes w = {'R', 'I', 'F', 'F'};
  put_le(w, 36 + data.size(), 4);
  w.insert(w.end(), {'W', 'A', 'V', 'E', 'f', 'm', 't', ' '});
  put_le(w, 16, 4);
  put_le(w, fmt == Wav::F32 || fmt == Wav::F64 ? 3 : 1, 2);
  put_le(w, channels, 2);
  put_le(w, rate, 4);
  put_le(w, std::uint64_t{rate} * channels * bytes, 4);
  put_le(w, static_cast<std::uint64_t>(channels * bytes), 2);
  put_le(w, static_cast<std::uint64_t>(bits_of(fmt)), 2);
  w.insert(w.end(), {'d', 'a', 't', 'a'});
  put_le(w, data.size(), 4);
  w.insert(w.end(), data.begin(), data.end());
  return w;
}

std::vector<float> sine(std::size_t n, double freq, double rate, double amp) {
  std::vector<float> s(n);
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<float>(amp * std::sin(2 * std::numbers::pi * freq * double(i) / rate));
  return s;
}

std::string error_of(std::span<const std::uint8_t> bytes, const std::string& name) {
  try {
    decode_audio(bytes, name);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(AudioDecode, EveryWavSampleFormat) {
  TESSERA_REQUIRE_AUDIO();
  std::vector<float> x(200);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(0.9 * std::sin(0.37 * double(i)) * (i % 7 == 0 ? -1 : 1));
  x[0] = 0.9f;
  x[1] = -0.9f;
  x[2] = 0;
  for (Wav f : {Wav::U8, Wav::S16, Wav::S24, Wav::S32, Wav::F32, Wav::F64}) {
    const Audio a = decode_audio(make_wav(8000, 1, f, x), "x.wav");
    EXPECT_EQ(a.sample_rate, 8000u);
    EXPECT_EQ(a.channels, 1u);
    ASSERT_EQ(a.samples.size(), x.size()) << bits_of(f);
    // One quantization step (and libsndfile's 2^(bits-1) scale against the writer's 2^(bits-1)-1).
    const float tol = f == Wav::F32 || f == Wav::F64 ? 1e-7f : 1.5f / float(1ull << (bits_of(f) - 1));
    for (std::size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(a.samples[i], x[i], tol) << "bits " << bits_of(f) << " sample " << i;
  }
}

TEST(AudioDecode, ChannelsAreAveragedToMono) {
  TESSERA_REQUIRE_AUDIO();
  std::vector<float> stereo;
  for (int i = 0; i < 50; ++i) stereo.insert(stereo.end(), {0.5f, -0.25f});
  const Audio a = decode_audio(make_wav(22050, 2, Wav::F32, stereo), "stereo.wav");
  EXPECT_EQ(a.channels, 2u);
  ASSERT_EQ(a.samples.size(), 50u);
  for (float v : a.samples) EXPECT_FLOAT_EQ(v, 0.125f);

  std::vector<float> six;
  for (int i = 0; i < 10; ++i)
    for (int c = 0; c < 6; ++c) six.push_back(0.1f * float(c) - 0.2f);  // mean 0.05
  const Audio b = decode_audio(make_wav(48000, 6, Wav::S16, six), "surround.wav");
  EXPECT_EQ(b.channels, 6u);
  ASSERT_EQ(b.samples.size(), 10u);
  for (float v : b.samples) EXPECT_NEAR(v, 0.05f, 1e-4f);
}

TEST(AudioDecode, CommonRatesAndTheirPreparedLength) {
  TESSERA_REQUIRE_AUDIO();
  for (std::uint32_t rate : {8000u, 16000u, 22050u, 44100u, 48000u}) {
    const Audio a = decode_audio(make_wav(rate, 2, Wav::S16, std::vector<float>(rate / 10 * 2, 0.25f)), "r.wav");
    EXPECT_EQ(a.sample_rate, rate);
    ASSERT_EQ(a.samples.size(), rate / 10);
    const PreparedAudio p = prepare_audio(a);
    EXPECT_EQ(p.samples.size(), 1600u) << rate;  // 0.1 s at 16 kHz
    EXPECT_EQ(p.frames(), 3u);
    EXPECT_NEAR(p.seconds_in, 0.1, 1e-12);
    EXPECT_FALSE(p.cut);
    // A constant stays constant away from the ends.
    for (std::size_t i = 200; i < 1400; ++i) ASSERT_NEAR(p.samples[i], 0.25f, 2e-3f) << rate << " " << i;
  }
}

// Sign changes of s[begin, end).
int zero_crossings(const std::vector<float>& s, std::size_t begin, std::size_t end) {
  int n = 0;
  for (std::size_t i = begin + 1; i < end; ++i) n += (s[i - 1] < 0) != (s[i] < 0);
  return n;
}

TEST(AudioResample, SineKeepsAmplitudeFrequencyAndPhase) {
  TESSERA_REQUIRE_AUDIO();
  struct Case { std::uint32_t from; double freq; };
  for (const Case c : {Case{44100, 1000}, Case{48000, 1000}, Case{8000, 500}, Case{22050, 3000}}) {
    const std::vector<float> in = sine(c.from, c.freq, c.from, 0.8);  // 1 s
    const std::vector<float> out = resample(in, c.from, kAudioRate);
    ASSERT_EQ(out.size(), 16000u) << c.from;
    // The middle 0.8 s: 0.8 * freq periods, two crossings each.
    EXPECT_NEAR(zero_crossings(out, 1600, 14400), 2 * 0.8 * c.freq, 2) << c.from;
    float peak = 0, err = 0;
    const std::vector<float> ideal = sine(16000, c.freq, kAudioRate, 0.8);
    for (std::size_t i = 1600; i < 14400; ++i) {
      peak = std::max(peak, std::abs(out[i]));
      err = std::max(err, std::abs(out[i] - ideal[i]));
    }
    EXPECT_NEAR(peak, 0.8f, 0.01f) << c.from;
    EXPECT_LT(err, 0.01f) << c.from << ": the output is not time-aligned with the input";
  }
}

TEST(AudioResample, FrequenciesAboveTheNewNyquistAreRemoved) {
  TESSERA_REQUIRE_AUDIO();
  const std::vector<float> out = resample(sine(48000, 12000, 48000, 0.8), 48000, kAudioRate);  // 12 kHz > 8 kHz
  float peak = 0;
  for (std::size_t i = 1600; i < 14400; ++i) peak = std::max(peak, std::abs(out[i]));
  EXPECT_LT(peak, 0.01f);
}

TEST(AudioResample, IdentityEmptyAndInvalidRates) {
  const std::vector<float> x = {0.1f, -0.2f, 0.3f};
  EXPECT_EQ(resample(x, 16000, 16000), x);
  EXPECT_TRUE(resample({}, 44100, 16000).empty());
  EXPECT_THROW(resample(x, 0, 16000), Error);
  EXPECT_THROW(resample(x, 16000, 0), Error);
  if (!audio_decoding_available()) GTEST_SKIP() << "built without libsamplerate";
  try {
    resample(x, 10, 16000);  // ratio 1600, past libsamplerate's 256
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("10 Hz"), std::string::npos) << e.what();
  }
  EXPECT_THROW(resample(x, 4294967295u, 16000), Error);
}

TEST(AudioPrepare, CutsAtThirtySeconds) {
  const Audio long_audio{16000, 1, std::vector<float>(40 * 16000, 0.1f)};
  const PreparedAudio p = prepare_audio(long_audio);
  EXPECT_TRUE(p.cut);
  EXPECT_DOUBLE_EQ(p.seconds_in, 40.0);
  EXPECT_EQ(p.samples.size(), 480000u);
  EXPECT_EQ(p.frames(), 750u);

  const Audio short_audio{16000, 2, std::vector<float>(10 * 16000 + 1, 0.1f)};
  const PreparedAudio q = prepare_audio(short_audio);
  EXPECT_FALSE(q.cut);
  EXPECT_EQ(q.samples.size(), 160001u);
  EXPECT_EQ(q.frames(), 251u);
  EXPECT_EQ(prepare_audio(Audio{16000, 1, std::vector<float>(30 * 16000, 0)}).cut, false);  // exactly 30 s
}

TEST(AudioPrepare, CutWithResamplingMatchesResamplingEverything) {
  TESSERA_REQUIRE_AUDIO();
  std::mt19937 rng(3);
  std::vector<float> noise(3 * 8000);
  for (float& v : noise) v = std::uniform_real_distribution<float>(-0.5f, 0.5f)(rng);
  const PreparedAudio p = prepare_audio(Audio{8000, 1, noise}, 1.0);
  EXPECT_TRUE(p.cut);
  EXPECT_DOUBLE_EQ(p.seconds_in, 3.0);
  ASSERT_EQ(p.samples.size(), 16000u);
  EXPECT_EQ(p.frames(), 25u);
  const std::vector<float> all = resample(noise, 8000, kAudioRate);
  ASSERT_EQ(all.size(), 48000u);
  for (std::size_t i = 0; i < p.samples.size(); ++i) ASSERT_NEAR(p.samples[i], all[i], 1e-5f) << i;
}

TEST(AudioPrepare, FramesRoundUp) {
  for (auto [n, want] : {std::pair<std::size_t, std::uint32_t>{0, 0}, {1, 1}, {639, 1}, {640, 1}, {641, 2}, {1280, 2}, {480000, 750}}) {
    PreparedAudio p;
    p.samples.resize(n);
    EXPECT_EQ(p.frames(), want) << n;
  }
}

TEST(AudioPrepare, RefusesBadArguments) {
  const Audio a{16000, 1, std::vector<float>(100, 0)};
  EXPECT_THROW(prepare_audio(Audio{0, 1, {0.5f}}), Error);
  EXPECT_THROW(prepare_audio(a, 0), Error);
  EXPECT_THROW(prepare_audio(a, -1), Error);
  EXPECT_THROW(prepare_audio(a, std::nan("")), Error);
  EXPECT_THROW(prepare_audio(a, INFINITY), Error);
}

TEST(AudioDecode, EmptyZeroLengthAndGarbageAreClearErrors) {
  if (!audio_decoding_available()) {
    EXPECT_NE(error_of(make_wav(16000, 1, Wav::S16, {0.5f}), "a.wav").find("without libsndfile"), std::string::npos);
    GTEST_SKIP() << "built without libsndfile/libsamplerate";
  }
  const std::string empty = error_of({}, "empty.wav");
  EXPECT_NE(empty.find("[audio] empty.wav"), std::string::npos) << empty;
  const std::string silent = error_of(make_wav(16000, 1, Wav::S16, {}), "silence.wav");
  EXPECT_NE(silent.find("[audio] silence.wav"), std::string::npos) << silent;
  EXPECT_NE(silent.find("no audio"), std::string::npos) << silent;
  const Bytes junk(300, 0x5A);
  const std::string e = error_of(junk, "junk.wav");
  EXPECT_NE(e.find("[audio] junk.wav"), std::string::npos) << e;
  EXPECT_NE(e.find("libsndfile"), std::string::npos) << e;
}

TEST(AudioDecode, TruncatedAndCorruptWavNeverCrash) {
  TESSERA_REQUIRE_AUDIO();
  const Bytes wav = make_wav(44100, 2, Wav::S16, sine(200, 440, 44100, 0.5));
  for (std::size_t n = 0; n < wav.size(); ++n) {
    try {
      const Audio a = decode_audio(std::span(wav).first(n), "cut.wav");
      EXPECT_LE(a.samples.size(), 100u);
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("[audio] cut.wav"), std::string::npos) << e.what();
    }
  }
  std::mt19937 rng(17);
  for (int k = 0; k < 500; ++k) {
    Bytes bad = wav;
    for (int j = 0; j < 3; ++j) bad[rng() % 44] = static_cast<std::uint8_t>(rng());  // the header
    try {
      const Audio a = decode_audio(bad, "bad.wav");
      EXPECT_GT(a.sample_rate, 0u);
      EXPECT_GT(a.channels, 0u);
    } catch (const Error&) {
    }
  }
}

TEST(AudioDecode, AbsurdRatesAndChannelCounts) {
  TESSERA_REQUIRE_AUDIO();
  Bytes wav = make_wav(16000, 1, Wav::S16, std::vector<float>(64, 0.25f));
  Bytes huge_rate = wav;
  for (int i = 0; i < 4; ++i) huge_rate[24 + i] = i == 3 ? 0x7F : 0xFF;  // 2^31 - 1 Hz
  try {
    const Audio a = decode_audio(huge_rate, "fast.wav");
    EXPECT_THROW(prepare_audio(a), Error);  // past libsamplerate's ratio
  } catch (const Error&) {
  }
  for (std::uint16_t ch : {0, 1025, 65535}) {
    Bytes many = wav;
    many[22] = static_cast<std::uint8_t>(ch);
    many[23] = static_cast<std::uint8_t>(ch >> 8);
    EXPECT_THROW(decode_audio(many, "many.wav"), Error) << ch;
  }
  Bytes zero_rate = wav;
  for (int i = 0; i < 4; ++i) zero_rate[24 + i] = 0;
  EXPECT_THROW(decode_audio(zero_rate, "zero.wav"), Error);
}

// 0.05 s of a 500 Hz sine at amplitude 0.5, 8 kHz, 16-bit mono FLAC (written with libsndfile).
const std::uint8_t kFlac[] = {
    0x66, 0x4c, 0x61, 0x43, 0x00, 0x00, 0x00, 0x22, 0x10, 0x00, 0x10, 0x00, 0x00, 0x01, 0x4d, 0x00,
    0x01, 0x4d, 0x01, 0xf4, 0x00, 0xf0, 0x00, 0x00, 0x01, 0x90, 0xa3, 0x1b, 0x2a, 0x0f, 0x5c, 0xcd,
    0x0a, 0x51, 0x3b, 0x9b, 0xd9, 0x87, 0x8f, 0x97, 0x9f, 0xe5, 0x84, 0x00, 0x00, 0x28, 0x20, 0x00,
    0x00, 0x00, 0x72, 0x65, 0x66, 0x65, 0x72, 0x65, 0x6e, 0x63, 0x65, 0x20, 0x6c, 0x69, 0x62, 0x46,
    0x4c, 0x41, 0x43, 0x20, 0x31, 0x2e, 0x34, 0x2e, 0x32, 0x20, 0x32, 0x30, 0x32, 0x32, 0x31, 0x30,
    0x32, 0x32, 0x00, 0x00, 0x00, 0x00, 0xff, 0xf8, 0x74, 0x08, 0x00, 0x01, 0x8f, 0x24, 0x4e, 0x00,
    0x00, 0x18, 0x7e, 0x2d, 0x41, 0x3b, 0x21, 0x40, 0x00, 0x3b, 0x21, 0x2d, 0x41, 0x18, 0x7e, 0xb4,
    0x1d, 0xe5, 0x9e, 0x87, 0x49, 0x70, 0x74, 0xe7, 0x2e, 0x8d, 0xe7, 0xc2, 0x80, 0x9c, 0xa6, 0x5b,
    0x74, 0x99, 0x16, 0xf3, 0x1e, 0x3c, 0x40, 0xb1, 0x47, 0xb9, 0x4c, 0xb6, 0xe9, 0x32, 0x2d, 0xe6,
    0x3c, 0x78, 0x81, 0x62, 0x8f, 0x72, 0x99, 0x6d, 0xd2, 0x64, 0x5b, 0xcc, 0x78, 0xf1, 0x02, 0xc5,
    0x1e, 0xe5, 0x32, 0xdb, 0xa4, 0xc8, 0xb7, 0x98, 0xf1, 0xe2, 0x05, 0x8a, 0x3d, 0xca, 0x65, 0xb7,
    0x49, 0x91, 0x6f, 0x31, 0xe3, 0xc4, 0x0b, 0x14, 0x7b, 0x94, 0xcb, 0x6e, 0x93, 0x22, 0xde, 0x63,
    0xc7, 0x88, 0x16, 0x28, 0xf7, 0x29, 0x96, 0xdd, 0x26, 0x45, 0xbc, 0xc7, 0x8f, 0x10, 0x2c, 0x51,
    0xee, 0x53, 0x2d, 0xba, 0x4c, 0x8b, 0x79, 0x8f, 0x1e, 0x20, 0x58, 0xa3, 0xdc, 0xa6, 0x5b, 0x74,
    0x99, 0x16, 0xf3, 0x1e, 0x3c, 0x40, 0xb1, 0x47, 0xb9, 0x4c, 0xb6, 0xe9, 0x32, 0x2d, 0xe6, 0x3c,
    0x78, 0x81, 0x62, 0x8f, 0x72, 0x99, 0x6d, 0xd2, 0x64, 0x5b, 0xcc, 0x78, 0xf1, 0x02, 0xc5, 0x1e,
    0xe5, 0x32, 0xdb, 0xa4, 0xc8, 0xb7, 0x98, 0xf1, 0xe2, 0x05, 0x8a, 0x3d, 0xca, 0x65, 0xb7, 0x49,
    0x91, 0x6f, 0x31, 0xe3, 0xc4, 0x0b, 0x14, 0x7b, 0x94, 0xcb, 0x6e, 0x93, 0x22, 0xde, 0x63, 0xc7,
    0x88, 0x16, 0x28, 0xf7, 0x29, 0x96, 0xdd, 0x26, 0x45, 0xbc, 0xc7, 0x8f, 0x10, 0x2c, 0x51, 0xee,
    0x53, 0x2d, 0xba, 0x4c, 0x8b, 0x79, 0x8f, 0x1e, 0x20, 0x58, 0xa3, 0xdc, 0xa6, 0x5b, 0x74, 0x99,
    0x16, 0xf3, 0x1e, 0x3c, 0x40, 0xb1, 0x47, 0xb9, 0x4c, 0xb6, 0xe9, 0x32, 0x2d, 0xe6, 0x3c, 0x78,
    0x81, 0x62, 0x8f, 0x72, 0x99, 0x6d, 0xd2, 0x64, 0x5b, 0xcc, 0x78, 0xf1, 0x02, 0xc5, 0x1e, 0xe5,
    0x32, 0xdb, 0xa4, 0xc8, 0xb7, 0x98, 0xf1, 0xe2, 0x05, 0x8a, 0x3d, 0xca, 0x65, 0xb7, 0x49, 0x91,
    0x6f, 0x31, 0xe3, 0xc4, 0x0b, 0x14, 0x7b, 0x94, 0xcb, 0x6e, 0x93, 0x22, 0xde, 0x63, 0xc7, 0x88,
    0x16, 0x28, 0xf7, 0x29, 0x96, 0xdd, 0x26, 0x45, 0xbc, 0xc7, 0x8f, 0x10, 0x2c, 0x51, 0xee, 0x53,
    0x2d, 0xba, 0x4c, 0x8b, 0x79, 0x8f, 0x1e, 0x20, 0x58, 0xa3, 0xdc, 0xa6, 0x5b, 0x74, 0x99, 0x16,
    0xc0, 0x6a, 0x29
};

TEST(AudioDecode, Flac) {
  TESSERA_REQUIRE_AUDIO();
  const Audio a = decode_audio(kFlac, "sine.flac");
  EXPECT_EQ(a.sample_rate, 8000u);
  EXPECT_EQ(a.channels, 1u);
  ASSERT_EQ(a.samples.size(), 400u);
  const std::vector<float> want = sine(400, 500, 8000, 0.5);
  for (std::size_t i = 0; i < 400; ++i) ASSERT_NEAR(a.samples[i], want[i], 1.0 / 32768) << i;
}

TEST(AudioLoad, ReadsFilesWithUtf8NamesAndNamesMissingOnes) {
  TESSERA_REQUIRE_AUDIO();
  test::TempDir dir;
  const std::filesystem::path p = dir.path() / path_from_utf8("stimme-\xC3\xA9.wav");
  test::write_file(p, make_wav(8000, 1, Wav::S16, std::vector<float>(80, -0.5f)));
  const Audio a = load_audio(p);
  EXPECT_EQ(a.sample_rate, 8000u);
  ASSERT_EQ(a.samples.size(), 80u);
  EXPECT_NEAR(a.samples[0], -0.5f, 1e-4f);
  try {
    load_audio(dir / "missing.wav");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[audio]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("missing.wav"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tessera::media
