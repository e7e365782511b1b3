// Persistent VkPipelineCache (see pipeline_cache.h).
#include "engine/pipeline_cache.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <thread>
#include <vector>

#include "engine/device.h"
#include "engine/log.h"
#include "engine/platform/console.h"

namespace tessera {
namespace {

std::uint64_t fnv1a(std::span<const std::byte> data) {
  std::uint64_t h = 1469598103934665603ull;
  for (const std::byte b : data) h = (h ^ static_cast<std::uint64_t>(b)) * 1099511628211ull;
  return h;
}

constexpr std::uint64_t kMaxCacheFile = 1ull << 30;  // refuse absurd files rather than read them

std::vector<std::byte> read_file(const std::filesystem::path& p, std::string* why) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(p, ec);
  if (ec) {
    *why = ec.message();
    return {};
  }
  if (size > kMaxCacheFile) {
    *why = "file is " + format_bytes(size);
    return {};
  }
  std::vector<std::byte> data(size);
  std::ifstream f(p, std::ios::binary);
  if (!f.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(size))) {
    *why = "read failed";
    return {};
  }
  return data;
}

std::uint32_t le32(std::span<const std::byte> d, std::size_t off) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<std::uint32_t>(d[off + i]);
  return v;
}

}  // namespace

std::string PipelineCache::file_name(const DeviceCaps& id) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "pipelines-%04x-%04x-%08x-", id.vendor_id, id.device_id, id.driver_version);
  std::string name = buf;
  for (std::uint8_t b : id.pipeline_cache_uuid) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    name += buf;
  }
  return name + ".bin";
}

std::string PipelineCache::check_header(std::span<const std::byte> d, const DeviceCaps& id) {
  constexpr std::size_t kHeader = 16 + VK_UUID_SIZE;
  if (d.size() < kHeader) return "too short for a pipeline cache header (" + std::to_string(d.size()) + " bytes)";
  const std::uint32_t header_size = le32(d, 0), version = le32(d, 4);
  if (header_size < kHeader || header_size > d.size()) return "bad header size " + std::to_string(header_size);
  if (version != VK_PIPELINE_CACHE_HEADER_VERSION_ONE) return "unknown header version " + std::to_string(version);
  if (le32(d, 8) != id.vendor_id || le32(d, 12) != id.device_id) return "written for another device";
  if (std::memcmp(d.data() + 16, id.pipeline_cache_uuid, VK_UUID_SIZE) != 0) return "pipelineCacheUUID differs (driver changed)";
  return {};
}

std::unique_ptr<PipelineCache> PipelineCache::open(const Device& dev, const DeviceCaps& identity,
                                                   const std::filesystem::path& dir) {
  std::unique_ptr<PipelineCache> pc(new PipelineCache());
  pc->dev_ = &dev;
  std::vector<std::byte> data;
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      log_warning("pipeline cache dir " + path_to_utf8(dir) + " cannot be created (" + ec.message() +
                  "); pipelines will not be cached on disk");
    } else {
      pc->path_ = dir / file_name(identity);
      if (std::filesystem::exists(pc->path_, ec)) {
        std::string why;
        data = read_file(pc->path_, &why);
        if (why.empty()) why = check_header(data, identity);
        if (!why.empty()) {
          log_warning("ignoring pipeline cache " + path_to_utf8(pc->path_) + ": " + why + "; it will be overwritten");
          data.clear();
          pc->dirty_ = true;
        }
      }
    }
  }
  auto ci = vk_init<VkPipelineCacheCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO);
  ci.initialDataSize = data.size();
  ci.pInitialData = data.empty() ? nullptr : data.data();
  VkResult r = dev.fn().vkCreatePipelineCache(dev.handle(), &ci, nullptr, &pc->cache_);
  if (r < 0 && !data.empty()) {  // a driver may still reject the body: start empty
    log_warning("driver rejected pipeline cache " + path_to_utf8(pc->path_) + " (" + vk_result_name(r) + "); starting empty");
    ci.initialDataSize = 0;
    ci.pInitialData = nullptr;
    data.clear();
    pc->dirty_ = true;
    r = dev.fn().vkCreatePipelineCache(dev.handle(), &ci, nullptr, &pc->cache_);
  }
  vk_check(r, "vkCreatePipelineCache");
  pc->loaded_bytes_ = data.size();
  pc->loaded_hash_ = fnv1a(data);
  if (!data.empty()) dev.log().info("loaded pipeline cache " + path_to_utf8(pc->path_) + " (" + format_bytes(data.size()) + ")");
  return pc;
}

PipelineCache::~PipelineCache() {
  if (cache_ != VK_NULL_HANDLE) dev_->fn().vkDestroyPipelineCache(dev_->handle(), cache_, nullptr);
}

bool PipelineCache::save() {
  if (path_.empty() || !dirty_) return false;
  try {
    std::size_t size = 0;
    vk_check(dev_->fn().vkGetPipelineCacheData(dev_->handle(), cache_, &size, nullptr), "vkGetPipelineCacheData");
    std::vector<std::byte> data(size);
    vk_check(dev_->fn().vkGetPipelineCacheData(dev_->handle(), cache_, &size, data.data()), "vkGetPipelineCacheData");
    data.resize(size);
    if (size == loaded_bytes_ && fnv1a(data) == loaded_hash_) {  // every pipeline came from the file
      dirty_ = false;
      return false;
    }
    // Unique temp name per process and thread, then an atomic rename over the old file.
    const auto salt = std::hash<std::thread::id>{}(std::this_thread::get_id()) ^
                      static_cast<std::size_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    std::filesystem::path tmp = path_;
    tmp += ".tmp" + std::to_string(salt);
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
      if (!f.flush()) throw Error("cannot write " + path_to_utf8(tmp));
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path_, ec);
    if (ec) {
      std::filesystem::remove(tmp, ec);
      throw Error("cannot rename to " + path_to_utf8(path_));
    }
    dirty_ = false;
    dev_->log().info("saved pipeline cache " + path_to_utf8(path_) + " (" + format_bytes(data.size()) + ")");
    return true;
  } catch (const std::exception& e) {
    log_warning(std::string("pipeline cache not saved: ") + e.what());
    return false;
  }
}

}  // namespace tessera
