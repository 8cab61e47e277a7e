// The checks on a command's files made before any work: two outputs naming one file, an output that is an
// input (attnviz/output_file.hpp says what counts as the same file).
#include <fmt/format.h>

#include <filesystem>

#include "attnviz/corpus.hpp"
#include "attnviz/data.hpp"
#include "attnviz/error.hpp"
#include "attnviz/output_file.hpp"
#include "attnviz/train.hpp"
#include "common.hpp"

namespace attnviz::cli {

namespace {

}  // namespace

void add_input(std::vector<NamedFile>& inputs, const std::string& option, const std::string& kind, const std::string& spec,
               const std::optional<std::string>& data_dir) {
  if (spec.empty() || (kind == "models" && spec == "identity")) return;
  try {
    inputs.push_back({option, input_file(kind, spec, data_dir).string()});
  } catch (const InputError&) {
  }
}

void add_corpus_inputs(std::vector<NamedFile>& files, const std::string& option, const std::string& dir) {
  for (const auto& file : corpus_files(dir)) files.push_back({option, file.string()});
}

std::vector<NamedFile> trained_model_inputs(const LoadedLm& lm, const std::optional<std::string>& corpus, const std::optional<std::string>& text,
                                            const std::optional<std::string>& data_dir) {
  std::vector<NamedFile> inputs{{"--model", lm.path.string()}};
  add_input(inputs, fmt::format("the embeddings of --model {}", lm.path.string()), "embeddings", lm.model.embeddings, data_dir);
  if (corpus) add_corpus_inputs(inputs, "--corpus", *corpus);
  if (text) inputs.push_back({"--text", *text});
  return inputs;
}

void check_outputs_against(const CommonOptions& o, const std::vector<NamedFile>& inputs) {
  std::vector<NamedFile> outputs;
  if (o.output.json) outputs.push_back({"--json", *o.output.json});
  if (o.output.html) outputs.push_back({"--html", *o.output.html});
  check_output_files(outputs, inputs);
}

void check_command_files(const CommonOptions& o, const std::string& default_embeddings, const std::vector<NamedFile>& more_inputs) {
  std::vector<NamedFile> inputs = more_inputs;
  const std::string embeddings = o.data.embeddings.value_or(default_embeddings);
  add_input(inputs, "--embeddings", "embeddings", embeddings, o.data.data_dir);
  // Without --model: the bundled model named like the embeddings, when there is one.
  add_input(inputs, "--model", "models", o.data.model.value_or(embeddings), o.data.data_dir);
  if (o.attention.mask_file) inputs.push_back({"--mask", *o.attention.mask_file});
  check_outputs_against(o, inputs);
}

}  // namespace attnviz::cli
