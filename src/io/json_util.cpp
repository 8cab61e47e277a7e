#include "json_util.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <system_error>
#include <unordered_set>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "attnviz/limits.hpp"
#include "attnviz/pipeline.hpp"

namespace attnviz::io {

void check_input_path(const std::filesystem::path& path, const std::string& what) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found)
    throw InputError(fmt::format("{} '{}' does not exist", what, path.string()));
  if (ec)  // a symlink loop, a folder that cannot be searched
    throw InputError(fmt::format("cannot read {} '{}': {}", what, path.string(), ec.message()));
  if (status.type() == std::filesystem::file_type::directory)
    throw InputError(fmt::format("{} '{}' is a directory, not a file", what, path.string()));
}

void check_not_utf16(std::string_view head, const std::string& source) {
  const auto byte = [&](std::size_t i) { return i < head.size() ? static_cast<unsigned char>(head[i]) : 0x100u; };
  const bool bom = (byte(0) == 0xFF && byte(1) == 0xFE) || (byte(0) == 0xFE && byte(1) == 0xFF);
  const bool ascii_pairs = head.size() >= 2 && (byte(0) == 0) != (byte(1) == 0);  // "{\0" or "\0{"
  if (bom || ascii_pairs) throw InputError(fmt::format("{}: UTF-16 is not supported; save as UTF-8", source));
}

std::string read_file(const std::filesystem::path& path, const std::string& what) {
  check_input_path(path, what);
  const std::string name = path.string();
  const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(fmt::format("cannot read {} '{}': {}", what, name, std::strerror(errno)));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  // The text and the parsed document together take about three times the file's size: refused by its size
  // before reading when that exceeds --max-memory; a pipe or device (no size) is read up to that limit.
  constexpr double kParsedFactor = 3.0;
  const std::string hint = "raise --max-memory, or check that this is the file you meant";
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  if (regular)
    check_memory(kParsedFactor * static_cast<double>(st.st_size),
                 fmt::format("reading the {} '{}' ({})", what, name, format_bytes(static_cast<double>(st.st_size))), hint);
  const double cap = memory_budget() / kParsedFactor;
  std::string text;
  char block[1 << 16];
  for (;;) {
    const ssize_t got = ::read(fd, block, sizeof block);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw InputError(fmt::format("cannot read {} '{}': {}", what, name, std::strerror(errno)));
    }
    if (got == 0) break;
    const std::string_view chunk(block, static_cast<std::size_t>(got));
    if (text.empty()) check_not_utf16(chunk, name);
    // A JSON text never holds a NUL byte: /dev/zero or a sparse file is refused at its first block.
    if (const auto nul = chunk.find('\0'); nul != std::string_view::npos)
      throw InputError(fmt::format("{}: a NUL byte at byte {}: not a JSON text file", name, text.size() + nul + 1));
    if (static_cast<double>(text.size() + chunk.size()) > cap)
      check_memory(kParsedFactor * static_cast<double>(text.size() + chunk.size()),
                   fmt::format("reading the {} '{}' (more than {} so far)", what, name, format_bytes(static_cast<double>(text.size()))), hint);
    text.append(chunk);
  }
  return text;
}

namespace {

// 1-based line and column of a byte offset.
std::pair<std::size_t, std::size_t> line_column(const std::string& text, std::size_t offset) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

std::string type_name(const json& v) {
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  if (v.is_object()) return "an object";
  if (v.is_boolean()) return "a boolean";
  return "null";
}

}  // namespace

namespace {

// Refuses a key that appears twice in one object while nlohmann parses (it would keep one silently). One
// frame per open object or array: its keys so far, and where it is in its parent for the message.
class DuplicateKeys {
 public:
  explicit DuplicateKeys(const std::string& source) : source_(source) {}

  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        frames_.push_back(Frame{event == json::parse_event_t::object_start, {}, {}, 0});
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames_.pop_back();
        next_element();
        break;
      case json::parse_event_t::key: {
        Frame& f = frames_.back();
        f.key = parsed.get<std::string>();
        if (!f.keys.insert(f.key).second)
          throw InputError(fmt::format("{}: the key {} appears twice in {}", source_, quoted_key(f.key), where()));
        break;
      }
      case json::parse_event_t::value:
        next_element();
        break;
    }
    return true;
  }

 private:
  struct Frame {
    bool object;
    std::unordered_set<std::string> keys;
    std::string key;    // the member being read (objects)
    std::size_t index;  // the element being read (arrays)
  };

  void next_element() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
  }

  // The object holding the duplicate, as a path of keys and indices ("the top-level object", "blocks[0]").
  std::string where() const {
    if (frames_.size() <= 1) return "the top-level object";
    std::string path;
    for (std::size_t i = 0; i + 1 < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      if (f.object) path += (path.empty() ? "" : ".") + f.key;
      else path += fmt::format("[{}]", f.index);
    }
    return fmt::format("\"{}\"", path);
  }

  const std::string& source_;
  std::vector<Frame> frames_;
};

}  // namespace

std::string quoted_key(const std::string& key) { return json(key).dump(-1, ' ', false, json::error_handler_t::replace); }

json parse_json(const std::string& text, const std::string& source) {
  try {
    return json::parse(text, DuplicateKeys(source));
  } catch (const json::parse_error& e) {
    // e.byte is 1-based and points just past the offending character.
    auto [line, column] = line_column(text, e.byte == 0 ? 0 : e.byte - 1);
    std::string why = e.what();
    if (auto p = why.find("syntax error"); p != std::string::npos) why = why.substr(p);
    throw InputError(fmt::format("{}: malformed JSON at line {}, column {}: {}", source, line, column, why));
  } catch (const json::out_of_range& e) {
    // The only out_of_range a parse raises: a number beyond double ("1e999").
    std::string why = e.what();
    if (auto p = why.find("number overflow"); p != std::string::npos) why = why.substr(p);
    throw InputError(fmt::format("{}: a number is too large to be a finite float32: {}", source, why));
  }
}

void check_header(const json& doc, const std::string& expected_format, const std::string& source) {
  if (!doc.is_object()) throw InputError(fmt::format("{}: expected a JSON object at the top, found {}", source, type_name(doc)));
  auto format = doc.find("format");
  if (format == doc.end())
    throw InputError(fmt::format("{}: missing field \"format\" (expected \"{}\")", source, expected_format));
  if (!format->is_string() || format->get<std::string>() != expected_format)
    throw InputError(fmt::format("{}: field \"format\" is {}, expected \"{}\"", source, format->dump(), expected_format));
  auto version = doc.find("version");
  if (version == doc.end()) throw InputError(fmt::format("{}: missing field \"version\" (expected 1)", source));
  if (!version->is_number_integer() || version->get<long long>() != 1)
    throw InputError(fmt::format("{}: unsupported \"version\" {} (this attnviz reads version 1)", source, version->dump()));
}

const json& require(const json& obj, const std::string& key, const std::string& source) {
  auto it = obj.find(key);
  if (it == obj.end()) throw InputError(fmt::format("{}: missing field \"{}\"", source, key));
  return *it;
}

std::string get_string(const json& obj, const std::string& key, const std::string& source,
                       std::optional<std::string> fallback) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (fallback) return *fallback;
    throw InputError(fmt::format("{}: missing field \"{}\"", source, key));
  }
  if (!it->is_string()) throw InputError(fmt::format("{}: field \"{}\" must be a string, found {}", source, key, type_name(*it)));
  return it->get<std::string>();
}

void check_fields(const json& obj, std::initializer_list<std::string_view> allowed, const std::string& source,
                  const std::string& where) {
  if (!obj.is_object()) return;
  for (const auto& [key, value] : obj.items())
    if (std::find(allowed.begin(), allowed.end(), std::string_view(key)) == allowed.end()) {
      std::string list;
      for (const auto name : allowed) list += (list.empty() ? "" : ", ") + std::string(name);
      throw InputError(fmt::format("{}: unknown field {}{} (the fields are {})", source, quoted_key(key), where, list));
    }
}

std::string get_nonempty_string(const json& obj, const std::string& key, const std::string& source) {
  std::string s = get_string(obj, key, source);
  if (s.empty()) throw InputError(fmt::format("{}: field \"{}\" is empty", source, key));
  return s;
}

int get_positive_int(const json& obj, const std::string& key, const std::string& source) {
  const json& v = require(obj, key, source);
  if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > 1'000'000)
    throw InputError(fmt::format("{}: field \"{}\" must be a positive integer, found {}", source, key, v.dump()));
  return static_cast<int>(v.get<long long>());
}

float to_float(const json& value, const std::string& where, const std::string& source) {
  if (!value.is_number())
    throw InputError(fmt::format("{}: {} must be a number, found {}", source, where, type_name(value)));
  double d = value.get<double>();
  if (!std::isfinite(d) || std::fabs(d) > static_cast<double>(std::numeric_limits<float>::max()))
    throw InputError(fmt::format("{}: {} is not a finite float32 number ({})", source, where, value.dump()));
  return static_cast<float>(d);
}

Matrix get_matrix(const json& value, const std::string& field, int rows, int cols, const std::string& source) {
  if (!value.is_array()) throw InputError(fmt::format("{}: \"{}\" must be an array of rows, found {}", source, field, type_name(value)));
  const int found_rows = static_cast<int>(value.size());
  if (found_rows == 0) throw InputError(fmt::format("{}: \"{}\" is empty", source, field));
  const json& first = value[0];
  const int found_cols = first.is_array() ? static_cast<int>(first.size()) : -1;
  if (found_cols < 0) throw InputError(fmt::format("{}: \"{}\"[0] must be an array of numbers, found {}", source, field, type_name(first)));
  if ((rows >= 0 && found_rows != rows) || (cols >= 0 && found_cols != cols))
    throw InputError(fmt::format("{}: \"{}\" has shape {} × {}, expected {} × {}", source, field, found_rows, found_cols,
                                 rows >= 0 ? std::to_string(rows) : "any", cols >= 0 ? std::to_string(cols) : "any"));
  Matrix m(found_rows, found_cols);
  for (int r = 0; r < found_rows; ++r) {
    const json& row = value[static_cast<std::size_t>(r)];
    if (!row.is_array() || static_cast<int>(row.size()) != found_cols)
      throw InputError(fmt::format("{}: \"{}\" row {} has {} entries, expected {}", source, field, r,
                                   row.is_array() ? std::to_string(row.size()) : type_name(row), found_cols));
    for (int c = 0; c < found_cols; ++c)
      m(r, c) = to_float(row[static_cast<std::size_t>(c)], fmt::format("\"{}\"[{}][{}]", field, r, c), source);
  }
  return m;
}

Vector get_vector(const json& value, const std::string& field, int size, const std::string& source) {
  if (!value.is_array()) throw InputError(fmt::format("{}: \"{}\" must be an array of numbers, found {}", source, field, type_name(value)));
  if (size >= 0 && static_cast<int>(value.size()) != size)
    throw InputError(fmt::format("{}: \"{}\" has {} entries, expected {}", source, field, value.size(), size));
  Vector v(static_cast<Eigen::Index>(value.size()));
  for (std::size_t i = 0; i < value.size(); ++i)
    v(static_cast<Eigen::Index>(i)) = to_float(value[i], fmt::format("\"{}\"[{}]", field, i), source);
  return v;
}

}  // namespace attnviz::io
