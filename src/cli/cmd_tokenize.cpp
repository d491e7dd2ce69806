#include "cli/commands.h"

namespace tformer::cli {
void register_tokenize(CLI::App& app) { app.add_subcommand("tokenize", "(not yet built)"); }
}  // namespace tformer::cli
