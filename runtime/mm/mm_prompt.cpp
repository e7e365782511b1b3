#include "runtime/mm/mm_prompt.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "engine/error.h"
#include "engine/platform/console.h"
#include "runtime/media/audio.h"
#include "runtime/media/image.h"

namespace tessera {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string fmt(const char* f, double a) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, a);
  return buf;
}

std::string size_string(std::uint32_t w, std::uint32_t h) { return std::to_string(w) + "x" + std::to_string(h); }

class Expander {
 public:
  Expander(MmProjector* proj, const Tokenizer& tok, const MmPromptOptions& opts, MmPrompt& out)
      : proj_(proj), tok_(tok), opts_(opts), t_(MmTokens::from(tok)), out_(out) {}
  const MmTokens& tokens() const { return t_; }

  void emit(std::uint32_t id) { out_.ids.push_back(id); }

  // Appends rows as `n` soft tokens `id`; block: they form a bidirectional block.
  void emit_rows(MmRows rows, std::uint32_t id, bool block) {
    const auto begin = static_cast<std::uint32_t>(out_.ids.size());
    const std::uint32_t n = rows.count;
    out_.ids.insert(out_.ids.end(), n, id);
    if (block) out_.blocks.push_back({begin, begin + n});
    out_.rows.push_back(std::make_unique<MmRows>(std::move(rows)));
    out_.embeds.push_back({begin, n, out_.rows.back()->range()});
  }

  // One image (or video frame) at `budget` tokens; fills detail ("w x h -> w' x h'").
  MmRows project_image(const std::filesystem::path& path, std::uint32_t budget, std::string& detail) {
    const media::Image img = media::load_image(path);
    const media::Image prepared = media::prepare_image(img, budget);
    detail = size_string(img.width, img.height) + " -> " + size_string(prepared.width, prepared.height);
    return proj_->project_image(prepared.rgb, prepared.width, prepared.height);
  }

  void image(const MediaInput& m) {
    item(m, [&](MediaReport& r) {
      MmRows rows = project_image(m.path, opts_.image_tokens, r.detail);
      r.tokens = rows.count;
      emit(t_.boi);
      emit_rows(std::move(rows), t_.image, true);
      emit(t_.eoi);
    });
  }

  void audio(const MediaInput& m) {
    item(m, [&](MediaReport& r) {
      const media::Audio a = media::load_audio(m.path);
      const media::PreparedAudio p = media::prepare_audio(a, opts_.max_audio_seconds);
      r.detail = fmt("%.2f s", p.seconds_in) + ", " + std::to_string(a.sample_rate) + " Hz, " +
                 std::to_string(a.channels) + " ch";
      if (p.cut)
        r.note = "audio " + r.path + " is " + fmt("%.1f s", p.seconds_in) + " long: only its first " +
                 fmt("%.1f s", opts_.max_audio_seconds) + " are used (--audio-max-seconds)";
      MmRows rows = proj_->project_audio(p.samples);
      r.tokens = rows.count;
      emit(t_.boa);
      emit_rows(std::move(rows), t_.audio, false);
      emit(t_.eoa);
    });
  }

  void video(const MediaInput& m) {
    item(m, [&](MediaReport& r) {
      const std::vector<media::VideoFrame> frames = media::sample_video_frames(m.path, opts_.video);
      // "mm:ss <|image><|video|><image|>" per frame, joined by spaces, tokenized as one text so the
      // timestamps tokenize as the reference processor's text does; each <|video|> is then a frame.
      std::string text;
      for (const media::VideoFrame& f : frames)
        text += (text.empty() ? "" : " ") + media::video_timestamp(f.seconds) + " " + piece(t_.boi) + piece(t_.video) +
                piece(t_.eoi);
      r.detail = std::to_string(frames.size()) + " frames";
      std::size_t next = 0;
      for (const std::int32_t id : tok_.encode(text, false, true)) {
        if (static_cast<std::uint32_t>(id) != t_.video) {
          emit(static_cast<std::uint32_t>(id));
          continue;
        }
        if (next >= frames.size()) throw Error("[prompt] video " + r.path + ": the frame text tokenized unexpectedly");
        std::string detail;
        MmRows rows = project_image(frames[next++].path, opts_.video_frame_tokens, detail);
        r.tokens += rows.count;
        emit_rows(std::move(rows), t_.video, true);
      }
    });
  }

 private:
  // Runs body for one media item (after checking the projector has its modality), timed and reported.
  template <class Body>
  void item(const MediaInput& m, Body&& body) {
    const auto t0 = std::chrono::steady_clock::now();
    need(m.kind, m.path);
    MediaReport r{m.kind, path_to_utf8(m.path), {}, 0, 0, {}};
    body(r);
    r.seconds = seconds_since(t0);
    out_.media.push_back(std::move(r));
  }
  std::string piece(std::uint32_t id) const { return tok_.token_to_piece(static_cast<std::int32_t>(id), true); }

  void need(MediaKind k, const std::filesystem::path& path) const {
    const bool ok = proj_ && (k == MediaKind::audio ? proj_->info().audio : proj_->info().vision);
    if (!ok)
      throw Error("[prompt] " + std::string(media_kind_name(k)) + " " + path_to_utf8(path) + " needs an mmproj with " +
                  (k == MediaKind::audio ? "an audio" : "a vision") + " projector (--mmproj)");
  }

  MmProjector* proj_;
  const Tokenizer& tok_;
  const MmPromptOptions& opts_;
  MmTokens t_;
  MmPrompt& out_;
};

std::string plural(std::size_t n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); }

}  // namespace

std::string_view media_kind_name(MediaKind k) {
  switch (k) {
    case MediaKind::image: return "image";
    case MediaKind::audio: return "audio";
    case MediaKind::video: return "video";
  }
  return "?";
}

MmTokens MmTokens::from(const Tokenizer& tok) {
  auto id = [&](const char* text) {
    const std::int32_t i = tok.find(text);
    if (i < 0) throw Error(std::string("[prompt] the vocabulary has no '") + text + "' token (not a Gemma 4 tokenizer?)");
    return static_cast<std::uint32_t>(i);
  };
  return {id("<|image>"), id("<|image|>"), id("<image|>"), id("<|audio>"), id("<|audio|>"), id("<audio|>"), id("<|video|>")};
}

std::uint32_t MmPrompt::largest_block() const {
  std::uint32_t n = 0;
  for (const TokenBlock& b : blocks) n = std::max(n, b.end - b.begin);
  return n;
}

PlaceholderCounts count_placeholders(std::span<const std::uint32_t> ids, const MmTokens& t) {
  PlaceholderCounts c;
  for (std::uint32_t id : ids) {
    c.image += id == t.image;
    c.audio += id == t.audio;
    c.video += id == t.video;
  }
  return c;
}

MmPrompt expand_prompt(std::span<const std::uint32_t> ids, std::span<const MediaInput> media, MmProjector* proj,
                       const Tokenizer& tok, const MmPromptOptions& opts) {
  MmPrompt out;
  Expander ex(proj, tok, opts, out);
  const MmTokens& t = ex.tokens();
  const PlaceholderCounts have = count_placeholders(ids, t);
  PlaceholderCounts given;
  for (const MediaInput& m : media) {
    given.image += m.kind == MediaKind::image;
    given.audio += m.kind == MediaKind::audio;
    given.video += m.kind == MediaKind::video;
  }
  auto check = [](std::size_t placeholders, std::size_t items, const char* what, const char* token) {
    if (placeholders != items)
      throw Error("[prompt] " + plural(items, what) + " given but the prompt has " + std::to_string(placeholders) + " " +
                  token + " placeholder" + (placeholders == 1 ? "" : "s"));
  };
  check(have.image, given.image, "image", "<|image|>");
  check(have.audio, given.audio, "audio clip", "<|audio|>");
  check(have.video, given.video, "video", "<|video|>");
  std::vector<const MediaInput*> images, audios, videos;
  for (const MediaInput& m : media)
    (m.kind == MediaKind::image ? images : m.kind == MediaKind::audio ? audios : videos).push_back(&m);
  std::size_t ni = 0, na = 0, nv = 0;
  for (const std::uint32_t id : ids) {
    if (id == t.image) ex.image(*images[ni++]);
    else if (id == t.audio) ex.audio(*audios[na++]);
    else if (id == t.video) ex.video(*videos[nv++]);
    else ex.emit(id);
  }
  return out;
}

}  // namespace tessera
