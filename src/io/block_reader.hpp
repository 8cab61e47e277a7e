// Reading a file in big blocks, for loaders that stream files larger than memory should hold (GloVe text,
// the wink JSON layout). The unread bytes are one contiguous span; `fill(n)` moves them to the front of the
// buffer and reads more. A progress bar goes to standard error for big files when it is a terminal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace attnviz::io {

class BlockReader {
 public:
  // Opens `path` ("embeddings file" names it in errors); InputError when missing, a directory or unreadable.
  BlockReader(const std::filesystem::path& path, const std::string& what);
  // Reads from memory (the whole text is already "read").
  explicit BlockReader(std::string_view text);
  ~BlockReader();
  BlockReader(const BlockReader&) = delete;
  BlockReader& operator=(const BlockReader&) = delete;

  const char* data() const { return buf_ + pos_; }  // the unread bytes
  std::size_t available() const { return len_ - pos_; }
  void consume(std::size_t n) { pos_ += n; }
  // Makes at least `n` unread bytes available unless the file ends first; returns available().
  std::size_t fill(std::size_t n);
  bool at_eof() const { return eof_ && pos_ == len_; }
  bool source_done() const { return eof_; }  // nothing more will be read; available() is all there is

  std::uint64_t offset() const { return consumed_before_ + pos_; }  // bytes before data()
  std::uint64_t size() const { return size_; }
  // Shows "reading NAME  42%" on standard error while reading when the file is larger than `min_bytes`
  // and standard error is a terminal.
  void enable_progress(const std::string& label, std::uint64_t min_bytes);

 private:
  void draw_progress();

  int fd_ = -1;
  std::string path_;
  std::vector<char> storage_;
  const char* buf_ = nullptr;  // storage_.data(), or the caller's text
  std::size_t pos_ = 0, len_ = 0;
  std::uint64_t consumed_before_ = 0, size_ = 0, read_ = 0;
  bool eof_ = false;
  bool progress_ = false;
  int last_percent_ = -1;
  std::string label_;
};

// The next line of `in` without its end of line ('\n', and a '\r' or trailing blanks before it); false at
// the end. InputError "SOURCE:LINE: a line longer than 64 MiB: this is not a KIND" for a longer line
// (`line_no`: the line before it), so an endless line (/dev/zero, /dev/urandom) ends there.
bool next_line(BlockReader& in, std::string_view& line, const std::string& source, std::size_t line_no,
               const std::string& kind = "word-vector text file");

}  // namespace attnviz::io
