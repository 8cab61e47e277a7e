#include "attnviz/mask.hpp"

#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "json_util.hpp"

namespace attnviz {

Matrix parse_mask(const std::string& text, const std::string& source) {
  const io::json doc = io::parse_json(text, source);
  Matrix mask = io::get_matrix(doc, "mask", -1, -1, source);
  for (Eigen::Index i = 0; i < mask.rows(); ++i)
    for (Eigen::Index j = 0; j < mask.cols(); ++j)
      if (mask(i, j) != 0.0f && mask(i, j) != 1.0f)
        throw InputError(fmt::format("{}: cell [{}][{}] is {}; use 1 (may attend) or 0 (masked)", source, i, j, mask(i, j)));
  return mask;
}

Matrix load_mask(const std::filesystem::path& path) { return parse_mask(io::read_file(path, "mask file"), path.string()); }

}  // namespace attnviz
