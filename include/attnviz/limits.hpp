// The memory budget of --max-memory for everything that grows with the input: files read whole (models,
// masks, lessons), the vectors kept from an embeddings file, the identity model, the pieces --unknown
// subword looks up, the traces compare keeps. Each is checked before it is allocated; the n × m attention
// stages have their own check (check_attention_memory in pipeline.hpp). docs/reliability.md lists them.
#pragma once

#include <string>

namespace attnviz {

// The budget in bytes (2 GiB unless set). It is one per process, as a ulimit is: the command line sets it
// once from --max-memory before any file is read, and every loader reads it.
double memory_budget();
void set_memory_budget(double bytes);

// InputError when `bytes` exceed the budget: "WHAT needs about X, more than --max-memory allows (Y)", then
// "hint: HINT" on its own line when a hint is given.
void check_memory(double bytes, const std::string& what, const std::string& hint = "");

}  // namespace attnviz
