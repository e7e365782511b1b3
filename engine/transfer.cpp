// Chunked, double-buffered uploads and downloads (see transfer.h).
#include "engine/transfer.h"

#include <algorithm>
#include <cstring>

#include "engine/context.h"
#include "engine/log.h"

namespace tessera {
namespace {

void check_range(const BufferRange& r, std::uint64_t n, const char* what) {
  if (!r.buffer || !*r.buffer) throw Error(std::string("[transfer] ") + what + ": missing buffer");
  if (r.offset + n > r.buffer->size() || (r.size != 0 && r.size < n))
    throw Error(std::string("[transfer] ") + what + ": " + format_bytes(n) + " at offset " + std::to_string(r.offset) +
                " do not fit buffer '" + r.buffer->name() + "' (" + format_bytes(r.buffer->size()) + ", range " +
                std::to_string(r.bytes()) + " bytes)");
}

}  // namespace

Uploader::Uploader(Context& ctx, std::uint64_t staging_bytes, Staging staging)
    : ctx_(ctx), staging_bytes_(std::max<std::uint64_t>(staging_bytes, 4)), staging_(staging) {}

Uploader::~Uploader() {
  try {
    finish();
  } catch (const std::exception& e) {
    log_warning(std::string("upload failed while finishing: ") + e.what());
  }
}

Uploader::Slot& Uploader::slot(std::size_t i) {
  while (slots_.size() <= i) {
    auto s = std::make_unique<Slot>(Slot{Buffer::create(ctx_.device(), staging_bytes_, MemoryKind::Upload, "staging-upload"),
                                         CommandList(ctx_), false});
    slots_.push_back(std::move(s));
  }
  return *slots_[i];
}

void Uploader::upload(std::span<const std::byte> src, const BufferRange& dst) {
  check_range(dst, src.size(), "upload");
  if (src.empty()) return;
  Buffer& target = const_cast<Buffer&>(*dst.buffer);
  if (staging_ == Staging::Auto && target.host_visible()) {  // UMA / lavapipe: write in place
    finish();  // earlier staged copies may target the same buffer
    std::memcpy(target.mapped().data() + dst.offset, src.data(), src.size());
    target.flush(dst.offset, src.size());
    bytes_ += src.size();
    return;
  }
  for (std::uint64_t done = 0; done < src.size();) {
    const std::uint64_t n = std::min<std::uint64_t>(staging_bytes_, src.size() - done);
    Slot& s = slot(next_);
    next_ = (next_ + 1) % 2;
    if (s.busy) {
      s.cmd.wait();
      s.busy = false;
    }
    std::memcpy(s.staging.mapped().data(), src.data() + done, n);
    s.staging.flush(0, n);
    s.cmd.begin();
    s.cmd.copy(s.staging.range(0, n), dst.buffer->range(dst.offset + done, n));
    s.cmd.submit();
    s.busy = true;
    done += n;
  }
  bytes_ += src.size();
}

void Uploader::finish() {
  for (auto& s : slots_) {
    if (!s->busy) continue;
    s->busy = false;
    s->cmd.wait();
  }
}

void upload(Context& ctx, std::span<const std::byte> src, const BufferRange& dst, std::uint64_t staging_bytes,
            Staging staging) {
  Uploader up(ctx, std::min<std::uint64_t>(staging_bytes, std::max<std::uint64_t>(src.size(), 4)), staging);
  up.upload(src, dst);
  up.finish();
}

void download(Context& ctx, const BufferRange& src, std::span<std::byte> dst, std::uint64_t staging_bytes,
              Staging staging) {
  check_range(src, dst.size(), "download");
  if (src.size != 0 && src.size != dst.size())
    throw Error("[transfer] download: range of " + std::to_string(src.size) + " bytes into " +
                std::to_string(dst.size()) + " host bytes");
  if (dst.empty()) return;
  Buffer& from = const_cast<Buffer&>(*src.buffer);
  if (staging == Staging::Auto && from.host_visible() && from.host_cached()) {  // uncached mappings read slowly: stage those
    from.invalidate(src.offset, dst.size());
    std::memcpy(dst.data(), from.mapped().data() + src.offset, dst.size());
    return;
  }
  const std::uint64_t chunk = std::min<std::uint64_t>(std::max<std::uint64_t>(staging_bytes, 4), dst.size());
  Buffer stage = Buffer::create(ctx.device(), chunk, MemoryKind::Readback, "staging-download");
  CommandList cmd(ctx);
  for (std::uint64_t done = 0; done < dst.size();) {
    const std::uint64_t n = std::min<std::uint64_t>(chunk, dst.size() - done);
    cmd.begin();
    cmd.copy(src.buffer->range(src.offset + done, n), stage.range(0, n));
    cmd.submit_and_wait();
    stage.invalidate(0, n);
    std::memcpy(dst.data() + done, stage.mapped().data(), n);
    done += n;
  }
}

}  // namespace tessera
