#include "cli/commands.h"

namespace tformer::cli {
void register_bench(CLI::App& app) { app.add_subcommand("bench", "(not yet built)"); }
}  // namespace tformer::cli
