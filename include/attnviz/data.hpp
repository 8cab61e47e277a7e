// Finding bundled data (embeddings, models, lessons) without configuration, and resolving NAME|PATH
// arguments. Search order: --data-dir, $ATTNVIZ_DATA, <exe>/../share/attnviz (an installed prefix), the
// source tree's data/ (a build tree).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "attnviz/embeddings.hpp"
#include "attnviz/model.hpp"

namespace attnviz {

std::vector<std::filesystem::path> data_search_path(const std::optional<std::string>& data_dir_flag);

// The bundled file `kind`/`name`.json ("embeddings", "models", "lessons"); InputError listing what exists.
std::filesystem::path find_data_file(const std::string& kind, const std::string& name,
                                     const std::optional<std::string>& data_dir_flag);

// Names available under `kind` across the search path (sorted, unique).
std::vector<std::string> list_data(const std::string& kind, const std::optional<std::string>& data_dir_flag);

// A NAME|PATH argument of `kind` ("embeddings", "models"): a bundled name (or alias) always means the bundled
// file, even when a file of that name lies in the current folder (that one is "./toy"); a spec with '/' is a
// path; any other existing file (or name ending in .json) is a path; else InputError listing the bundled names.
// bundled_file returns the bundled file, or nullopt for a path; input_file returns the file either way.
std::optional<std::filesystem::path> bundled_file(const std::string& kind, const std::string& spec,
                                                  const std::optional<std::string>& data_dir_flag);
std::filesystem::path input_file(const std::string& kind, const std::string& spec, const std::optional<std::string>& data_dir_flag);

// Bundled embeddings may have a short alias: "glove" is "glove-100d" (the file data/embeddings/glove-100d.json).
// Returns the file's name for an alias, `name` otherwise.
std::string embeddings_alias(const std::string& name);

// The whole file (every word).
Embeddings resolve_embeddings(const std::string& spec, const std::optional<std::string>& data_dir_flag);
// Streaming: the words in `words_needed` plus the first `vocab_limit` words of the file (load_embeddings_for).
Embeddings resolve_embeddings(const std::string& spec, const std::optional<std::string>& data_dir_flag,
                              const std::vector<std::string>& words_needed, std::size_t vocab_limit);

// The model used when --model is not given: the bundled model named like the embeddings (toy for toy), else
// "identity" (word vectors such as GloVe ship without trained attention weights).
std::string default_model_for(const Embeddings& emb, const std::optional<std::string>& data_dir_flag);
// "identity" is built in (sized to `d_model`, `heads` heads); other names come from data/models.
// heads = 0 keeps the model's own head count; otherwise it must match a model file's.
// A trained language model (version 2) gives the attention of its layer `layer` (0-based; lm_trace.hpp); a
// `layer` other than 0 is an InputError for any other model. `gain` (--gain) sharpens the identity model
// (identity_model); another model refuses a gain other than 1.
Model resolve_model(const std::string& spec, int d_model, int heads, const std::optional<std::string>& data_dir_flag, int layer = 0,
                    double gain = 1.0);

}  // namespace attnviz
