// The trace export (docs/formats.md) and whole-or-nothing output files.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "attnviz/trace.hpp"

namespace attnviz {

// The trace as the "attnviz-trace" document, keys in the documented order. A masked cell is null; each
// number is the shortest decimal that reads back as the same float32.
nlohmann::ordered_json trace_to_json(const Trace& trace);

struct LessonNumbers;
// A lesson's numbers for one sentence (lesson_truth.hpp) as the trace's "lesson" object: word, token,
// threshold, neighbourhoods, before / uniform / after / gain (after − uniform) by neighbourhood, the sense
// margin of each, the move (toward, by, plain_average, pattern_adds; null with one neighbourhood), and the
// claim (null when the move is below the threshold). See docs/formats.md.
nlohmann::ordered_json lesson_to_json(const LessonNumbers& numbers);

// JSON text indented by two spaces, with arrays of numbers kept on one line (a matrix row per line).
std::string to_pretty_json(const nlohmann::ordered_json& doc);

// A float32 as the JSON number that reads back as the same float32 (null when not finite).
nlohmann::ordered_json float_json(float value);

// A matrix as nested arrays of rows, each number as float_json writes it (a masked −∞ cell is null).
nlohmann::ordered_json matrix_json(const Matrix& m);

// Writes `content` to `path` ("-": standard output) as write_output_file does (attnviz/output_file.hpp):
// whole or not at all, links and devices kept, every write checked.
void write_output(const std::string& path, const std::string& content);

}  // namespace attnviz
