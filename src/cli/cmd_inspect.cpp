#include "cli/commands.h"

namespace tformer::cli {
void register_inspect(CLI::App& app) { app.add_subcommand("inspect", "(not yet built)"); }
}  // namespace tformer::cli
