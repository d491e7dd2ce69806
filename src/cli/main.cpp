// tformer: transformer models from Hugging Face checkpoints, natively.
#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "tformer/core/error.h"
#include "tformer/core/version.h"

int main(int argc, char** argv) {
  CLI::App app{"tformer: transformer models from Hugging Face checkpoints, in native C++"};
  app.set_version_flag("--version", std::string("tformer ") + tformer::kVersion);
  app.require_subcommand(1);
  tformer::cli::register_classify(app);
  tformer::cli::register_tokenize(app);
  tformer::cli::register_inspect(app);
  tformer::cli::register_attention(app);
  tformer::cli::register_bench(app);
  tformer::cli::register_convert(app);
  tformer::cli::register_train(app);
  tformer::cli::register_eval(app);
  tformer::cli::register_generate(app);
  tformer::cli::register_image(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const tformer::Error& e) {
    std::fprintf(stderr, "tformer: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tformer: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
