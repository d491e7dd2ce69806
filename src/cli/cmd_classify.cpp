#include "cli/commands.h"

namespace tformer::cli {
void register_classify(CLI::App& app) { app.add_subcommand("classify", "(not yet built)"); }
}  // namespace tformer::cli
