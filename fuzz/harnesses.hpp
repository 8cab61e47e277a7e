// The fuzz harnesses: one function per input path, fed arbitrary bytes. Each either returns (the input was
// accepted and every invariant held, or it was refused with an InputError, the clear exit-2 error) or
// throws HarnessFailure (an invariant broke: a bug). Any other exception escaping is a bug too.
//
// They are compiled twice: into the libFuzzer executables fuzz_<name> (fuzz/fuzz_main.cpp, clang, with
// ATTNVIZ_FUZZ=ON), and into the Catch2 tests, which replay every seed and every kept crash input in
// fuzz/corpus/<name>/ and fuzz/regressions/<name>/ under the normal and the sanitizer builds.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace attnviz::fuzz {

struct HarnessFailure : std::logic_error {
  using std::logic_error::logic_error;
};

using Harness = void (*)(std::string_view input);

struct NamedHarness {
  const char* name;  // fuzz_<name> is the executable, fuzz/corpus/<name>/ its seeds
  Harness run;
};

// Every harness, by name: embeddings_json, embeddings_text, model, mask, tokenizer, cli.
const std::vector<NamedHarness>& harnesses();
Harness find_harness(std::string_view name);  // nullptr when there is none of that name

}  // namespace attnviz::fuzz
