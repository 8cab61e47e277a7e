// The checks on a command's files made before any work: two outputs naming one file, an output that is an
// input (attnviz/output_file.hpp says what counts as the same file).
#include <fmt/format.h>

#include "attnviz/corpus.hpp"
#include "attnviz/data.hpp"
#include "attnviz/error.hpp"
#include "attnviz/output_file.hpp"
#include "common.hpp"

namespace attnviz::cli {

namespace {

// The file a NAME|PATH input means, when it resolves (a name that does not is reported by its loader).
void add_input(std::vector<NamedFile>& inputs, const std::string& option, const std::string& kind, const std::string& spec,
               const std::optional<std::string>& data_dir) {
  if (spec.empty() || (kind == "models" && spec == "identity")) return;
  try {
    inputs.push_back({option, input_file(kind, spec, data_dir).string()});
  } catch (const InputError&) {
  }
}

}  // namespace

void check_command_files(const CommonOptions& o, const std::string& default_embeddings, const std::vector<NamedFile>& more_inputs) {
  std::vector<NamedFile> outputs;
  if (o.output.json) outputs.push_back({"--json", *o.output.json});
  if (o.output.html) outputs.push_back({"--html", *o.output.html});
  std::vector<NamedFile> inputs = more_inputs;
  const std::string embeddings = o.data.embeddings.value_or(default_embeddings);
  add_input(inputs, "--embeddings", "embeddings", embeddings, o.data.data_dir);
  // Without --model: the bundled model named like the embeddings, when there is one.
  add_input(inputs, "--model", "models", o.data.model.value_or(embeddings), o.data.data_dir);
  if (o.attention.mask_file) inputs.push_back({"--mask", *o.attention.mask_file});
  check_output_files(outputs, inputs);
}

void check_lm_command_files(const std::vector<NamedFile>& outputs, const LmInputs& in) {
  std::vector<NamedFile> inputs;
  if (in.model) add_input(inputs, "--model", "models", *in.model, in.data_dir);
  if (in.embeddings) add_input(inputs, "--embeddings", "embeddings", *in.embeddings, in.data_dir);
  if (in.corpus)
    for (const auto& file : corpus_files(*in.corpus)) inputs.push_back({"--corpus", file.string()});
  if (in.text) inputs.push_back({"--text", *in.text});
  check_output_files(outputs, inputs);
}

}  // namespace attnviz::cli
