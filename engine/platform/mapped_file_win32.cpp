// MappedFile on Windows: CreateFileW (wide-char path, so any Unicode file name opens) +
// CreateFileMappingW + MapViewOfFile, read-only. release_pages(): VirtualUnlock on a range that
// is not locked removes its pages from the working set, as madvise(MADV_DONTNEED) does for a
// read-only file mapping on POSIX (the pages stay in the file cache, read back on next access).
#include "engine/platform/mapped_file.h"

#ifdef _WIN32
#include "engine/platform/win32.h"

#include <algorithm>

#include "engine/error.h"
#include "engine/platform/console.h"

namespace tessera {
namespace {

std::string last_error_text() {
  const DWORD code = ::GetLastError();
  char buf[512] = {};
  const DWORD n = ::FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, code, 0, buf,
                                   sizeof buf, nullptr);
  std::string s(buf, n);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == '.')) s.pop_back();
  return s + " (error " + std::to_string(code) + ")";
}

// Closes a HANDLE on scope exit.
struct HandleGuard {
  HANDLE h;
  ~HandleGuard() {
    if (h && h != INVALID_HANDLE_VALUE) ::CloseHandle(h);
  }
};

}  // namespace

MappedFile MappedFile::open(const std::filesystem::path& path) {
  MappedFile f;
  f.path_ = path;
  const HandleGuard file{::CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING,
                                       FILE_ATTRIBUTE_NORMAL | FILE_FLAG_SEQUENTIAL_SCAN, nullptr)};
  if (file.h == INVALID_HANDLE_VALUE) throw Error("[file] " + path_to_utf8(path) + ": cannot open: " + last_error_text());
  if (::GetFileType(file.h) != FILE_TYPE_DISK) throw Error("[file] " + path_to_utf8(path) + ": not a regular file");
  LARGE_INTEGER size{};
  if (!::GetFileSizeEx(file.h, &size)) throw Error("[file] " + path_to_utf8(path) + ": cannot stat: " + last_error_text());
  f.size_ = static_cast<std::size_t>(size.QuadPart);
  if (f.size_ == 0) return f;  // CreateFileMapping refuses empty files
  const HandleGuard mapping{::CreateFileMappingW(file.h, nullptr, PAGE_READONLY, 0, 0, nullptr)};
  if (!mapping.h)
    throw Error("[file] " + path_to_utf8(path) + ": cannot map " + std::to_string(f.size_) + " bytes: " + last_error_text());
  const void* p = ::MapViewOfFile(mapping.h, FILE_MAP_READ, 0, 0, 0);
  if (!p)
    throw Error("[file] " + path_to_utf8(path) + ": cannot map " + std::to_string(f.size_) + " bytes: " + last_error_text());
  f.data_ = static_cast<const std::byte*>(p);
  return f;  // the view keeps the mapping and the file open
}

void MappedFile::reset() noexcept {
  if (data_) ::UnmapViewOfFile(data_);
  data_ = nullptr;
  size_ = 0;
}

void MappedFile::release_pages(std::uint64_t offset, std::uint64_t len) const {
  if (!data_ || offset >= size_) return;
  SYSTEM_INFO si{};
  ::GetSystemInfo(&si);
  const std::uint64_t page = si.dwPageSize;
  const std::uint64_t begin = (offset + page - 1) / page * page;
  const std::uint64_t end = std::min<std::uint64_t>(offset + len, size_) / page * page;
  // Fails harmlessly (ERROR_NOT_LOCKED) while still trimming the pages from the working set.
  if (end > begin) ::VirtualUnlock(const_cast<std::byte*>(data_) + begin, static_cast<SIZE_T>(end - begin));
}

}  // namespace tessera
#endif
