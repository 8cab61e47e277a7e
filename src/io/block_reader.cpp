#include "block_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "json_util.hpp"

namespace attnviz::io {

namespace {
constexpr std::size_t kBlock = 4u << 20;  // 4 MiB per read(): big enough to amortise the system call
}

BlockReader::BlockReader(const std::filesystem::path& path, const std::string& what) : path_(path.string()) {
  check_input_path(path, what);
  std::error_code ec;
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw InputError(fmt::format("cannot read {} '{}': {}", what, path_, std::strerror(errno)));
  const auto size = std::filesystem::file_size(path, ec);
  size_ = ec ? 0 : size;
  storage_.resize(kBlock);
  buf_ = storage_.data();
}

BlockReader::BlockReader(std::string_view text) : buf_(text.data()), len_(text.size()), size_(text.size()), read_(text.size()), eof_(true) {}

BlockReader::~BlockReader() {
  if (fd_ >= 0) ::close(fd_);
  if (progress_ && last_percent_ >= 0) std::fputs("\r\033[K", stderr);  // erase the bar
}

std::size_t BlockReader::fill(std::size_t n) {
  if (available() >= n || eof_) return available();
  // Move the unread tail to the front, grow the buffer if one block cannot hold `n` more bytes.
  const std::size_t tail = available();
  std::memmove(storage_.data(), storage_.data() + pos_, tail);
  consumed_before_ += pos_;
  pos_ = 0;
  len_ = tail;
  if (storage_.size() < n + kBlock / 2) storage_.resize(n + kBlock);
  buf_ = storage_.data();
  while (len_ < n && !eof_) {
    const ssize_t got = ::read(fd_, storage_.data() + len_, storage_.size() - len_);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw Error(fmt::format("cannot read '{}': {}", path_, std::strerror(errno)));
    }
    if (got == 0) eof_ = true;
    len_ += static_cast<std::size_t>(got);
    read_ += static_cast<std::uint64_t>(got);
  }
  if (progress_) draw_progress();
  return available();
}

void BlockReader::enable_progress(const std::string& label, std::uint64_t min_bytes) {
  progress_ = fd_ >= 0 && size_ > min_bytes && ::isatty(2) != 0;
  label_ = label;
}

void BlockReader::draw_progress() {
  if (size_ == 0) return;
  const int percent = static_cast<int>(100.0 * static_cast<double>(read_) / static_cast<double>(size_));
  if (percent == last_percent_) return;
  last_percent_ = percent;
  constexpr int kWidth = 30;
  const int filled = percent * kWidth / 100;
  std::fprintf(stderr, "\rreading %s [%s%s] %3d%% of %.0f MB", label_.c_str(), std::string(static_cast<std::size_t>(filled), '#').c_str(),
               std::string(static_cast<std::size_t>(kWidth - filled), '.').c_str(), percent, static_cast<double>(size_) / 1e6);
  std::fflush(stderr);
}

namespace {
constexpr std::size_t kMaxLine = 64u << 20;  // a longer line is not a line of text
}  // namespace

bool next_line(BlockReader& in, std::string_view& line, const std::string& source, std::size_t line_no, const std::string& kind) {
  std::size_t want = 1 << 16;
  for (;;) {
    if (in.available() == 0 && in.fill(1) == 0) return false;
    const char* begin = in.data();
    const std::size_t n = in.available();
    const auto* nl = static_cast<const char*>(std::memchr(begin, '\n', n));
    if (nl || in.source_done()) {
      const char* end = nl ? nl : begin + n;
      if (static_cast<std::size_t>(end - begin) >= kMaxLine)  // a last line without its end of line
        throw InputError(fmt::format("{}:{}: a line longer than 64 MiB: this is not a {}", source, line_no + 1, kind));
      in.consume(static_cast<std::size_t>(end - begin) + (nl ? 1 : 0));
      while (end > begin && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t')) --end;
      line = std::string_view(begin, static_cast<std::size_t>(end - begin));
      return true;
    }
    if (n >= kMaxLine)
      throw InputError(fmt::format("{}:{}: a line longer than 64 MiB: this is not a {}", source, line_no + 1, kind));
    want = std::max(want, n * 2);
    in.fill(want);
  }
}

}  // namespace attnviz::io
