// Each input check once, with one message (limits.hpp): the mask and the temperature are checked by the same
// function whether the pipeline, the command line or a backend called directly meets them.
#include <catch2/catch.hpp>

#include <string>

#include "attnviz/attention.hpp"
#include "attnviz/error.hpp"
#include "attnviz/limits.hpp"
#include "attnviz/pipeline.hpp"

using namespace attnviz;
using Catch::Contains;

namespace {

Embeddings three_words() {
  return parse_embeddings(R"({"format":"attnviz-embeddings","version":1,"name":"three","dim":2,)"
                          R"("vectors":{"a":[1,0],"b":[0,1],"c":[1,1]}})",
                          "three");
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("Checks: a row masked whole gets one message from the pipeline and from a backend", "[checks]") {
  const Embeddings emb = three_words();
  const Model model = identity_model(2);
  PipelineOptions options;
  Matrix mask = Matrix::Ones(3, 3);
  mask.row(1).setZero();
  options.attention.mask = mask;
  options.mask_source = "--mask m.json";
  const std::string from_pipeline = message_of([&] { run_attention(emb, model, "a b c", options); });
  CHECK(from_pipeline ==
        "--mask m.json masks every key of row 1 (query 'b'), so its softmax would be 0/0; allow at least one key (a 1) in every row");
  // The same check, called by a backend that knows neither the file nor the tokens: the same sentence, less the names.
  const std::string from_backend = message_of([&] { allowed_cells(options.attention, 3, 3); });
  CHECK(from_backend == "the mask masks every key of row 1, so its softmax would be 0/0; allow at least one key (a 1) in every row");
  options.attention.mask = Matrix::Ones(2, 2);
  CHECK(message_of([&] { run_attention(emb, model, "a b c", options); }) ==
        "--mask m.json is 2 × 2 but the sentence has 3 tokens (3 × 3 needed)");
  CHECK(message_of([&] { allowed_cells(options.attention, 3, 3); }) == "the mask is 2 × 2 but the sentence has 3 tokens (3 × 3 needed)");
}

TEST_CASE("Checks: the temperature has one check for the command line and the pipeline", "[checks]") {
  CHECK(checked_temperature(0.5) == 0.5f);
  CHECK(message_of([] { checked_temperature(-1); }) == "--temperature must be a finite number > 0, got -1");
  CHECK_THAT(message_of([] { checked_temperature(1e300); }), Contains("outside the float32 range"));
  PipelineOptions options;
  options.attention.temperature = 0.0f;
  CHECK(message_of([&] { run_attention(three_words(), identity_model(2), "a b", options); }) ==
        "--temperature must be a finite number > 0, got 0");
}
