// attnviz: attention, stage by stage, on a real sentence. Everything lives in the library (src/cli).
#include "cli/cli.hpp"

int main(int argc, char** argv) { return attnviz::cli::main(argc, argv); }
