#include "attnviz/data.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "attnviz/error.hpp"
#include "attnviz/lm_trace.hpp"
#include "attnviz/train.hpp"

#ifndef ATTNVIZ_SOURCE_DATA_DIR
#define ATTNVIZ_SOURCE_DATA_DIR "data"
#endif

namespace attnviz {

namespace fs = std::filesystem;

namespace {

std::optional<fs::path> executable_dir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  return exe.parent_path();
}

}  // namespace

std::vector<fs::path> data_search_path(const std::optional<std::string>& data_dir_flag) {
  std::vector<fs::path> dirs;
  if (data_dir_flag) {
    // An explicit --data-dir is the only place looked at: the user asked for it.
    dirs.emplace_back(*data_dir_flag);
    return dirs;
  }
  if (const char* env = std::getenv("ATTNVIZ_DATA"); env && *env) dirs.emplace_back(env);
  if (auto exe = executable_dir()) dirs.push_back(*exe / ".." / "share" / "attnviz");
  dirs.emplace_back(ATTNVIZ_SOURCE_DATA_DIR);
  return dirs;
}

std::vector<std::string> list_data(const std::string& kind, const std::optional<std::string>& data_dir_flag) {
  std::set<std::string> names;
  for (const auto& dir : data_search_path(data_dir_flag)) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir / kind, ec))
      if (entry.path().extension() == ".json") names.insert(entry.path().stem().string());
  }
  return {names.begin(), names.end()};
}

std::filesystem::path find_data_file(const std::string& kind, const std::string& name,
                                     const std::optional<std::string>& data_dir_flag) {
  std::error_code ec;
  for (const auto& dir : data_search_path(data_dir_flag)) {
    fs::path candidate = dir / kind / (name + ".json");
    if (fs::is_regular_file(candidate, ec)) return candidate;
  }
  auto known = list_data(kind, data_dir_flag);
  std::string singular = kind.back() == 's' ? kind.substr(0, kind.size() - 1) : kind;
  if (known.empty())
    throw InputError(fmt::format("no bundled {} named '{}', and no bundled data was found; point --data-dir or ATTNVIZ_DATA "
                                 "at attnviz's data folder, or give a file path",
                                 singular, name));
  throw InputError(fmt::format("no bundled {} named '{}'; available: {} (or give a file path)", singular, name, fmt::join(known, ", ")));
}

namespace {

// Whether `kind`/`name`.json exists somewhere on the search path.
bool is_bundled(const std::string& kind, const std::string& name, const std::optional<std::string>& data_dir_flag) {
  std::error_code ec;
  for (const auto& dir : data_search_path(data_dir_flag))
    if (fs::is_regular_file(dir / kind / (name + ".json"), ec)) return true;
  return false;
}

}  // namespace

std::optional<fs::path> bundled_file(const std::string& kind, const std::string& spec, const std::optional<std::string>& data_dir_flag) {
  const std::string name = kind == "embeddings" ? embeddings_alias(spec) : spec;
  if (spec.find('/') != std::string::npos) return std::nullopt;                            // ./toy, dir/file
  if (is_bundled(kind, name, data_dir_flag)) return find_data_file(kind, name, data_dir_flag);  // always the bundled data
  // Anything at that name (a file, a FIFO, a symlink loop) is the user's file: its loader says what is wrong.
  struct stat st {};
  if (::lstat(spec.c_str(), &st) == 0 || spec.ends_with(".json")) return std::nullopt;
  return find_data_file(kind, name, data_dir_flag);  // InputError listing the bundled names
}

fs::path input_file(const std::string& kind, const std::string& spec, const std::optional<std::string>& data_dir_flag) {
  return bundled_file(kind, spec, data_dir_flag).value_or(fs::path(spec));
}

std::string embeddings_alias(const std::string& name) { return name == "glove" ? "glove-100d" : name; }

Embeddings resolve_embeddings(const std::string& spec, const std::optional<std::string>& data_dir_flag) {
  if (spec.empty()) throw InputError("--embeddings is empty; give a name (e.g. toy, glove) or a file path");
  return load_embeddings(input_file("embeddings", spec, data_dir_flag));
}

Embeddings resolve_embeddings(const std::string& spec, const std::optional<std::string>& data_dir_flag,
                              const std::vector<std::string>& words_needed, std::size_t vocab_limit) {
  if (spec.empty()) throw InputError("--embeddings is empty; give a name (e.g. toy, glove) or a file path");
  return load_embeddings_for(input_file("embeddings", spec, data_dir_flag), words_needed, vocab_limit);
}

std::string default_model_for(const Embeddings& emb, const std::optional<std::string>& data_dir_flag) {
  const auto models = list_data("models", data_dir_flag);
  return std::find(models.begin(), models.end(), emb.name) != models.end() ? emb.name : "identity";
}

Model resolve_model(const std::string& spec, int d_model, int heads, const std::optional<std::string>& data_dir_flag, int layer,
                    double gain) {
  if (spec.empty()) throw InputError("--model is empty; give a name (e.g. toy, identity) or a file path");
  const auto path = spec == "identity" ? fs::path() : input_file("models", spec, data_dir_flag);
  const bool trained = !path.empty() && is_language_model_file(path);
  if (layer != 0 && !trained)
    throw InputError(fmt::format("--layer {}: the model '{}' has one layer; --layer chooses a layer of a trained model (e.g. wordnet-lm)",
                                 layer + 1, spec));
  if (spec == "identity") return identity_model(d_model, heads == 0 ? 1 : heads, gain);
  Model model = trained ? language_model_layer(std::make_shared<const LoadedLm>(load_trained_model(spec, data_dir_flag)), layer)
                        : load_model(path);
  if (trained) model.origin = WeightsOrigin::trained;
  if (gain != 1.0)
    throw InputError(fmt::format("--gain sharpens the identity model, but the model '{}' has weights of its own; use --model "
                                 "identity, or --temperature to sharpen this one",
                                 model.name));
  if (heads != 0 && heads != model.heads)
    throw InputError(fmt::format("--heads {} does not match the model '{}', which has {} head{}; --heads chooses the split only "
                                 "for the identity model",
                                 heads, model.name, model.heads, model.heads == 1 ? "" : "s"));
  return model;
}

}  // namespace attnviz
