#include "cli/commands.h"

namespace tformer::cli {
void register_attention(CLI::App& app) { app.add_subcommand("attention", "(not yet built)"); }
}  // namespace tformer::cli
