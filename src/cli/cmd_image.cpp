// tformer image: vision models.
//   generate IN   ViT-MAE (default: the bundled generator): hide most of the
//                 image's patches, paint them back, write the result
//                 (--grid: original | masked | reconstruction | reconstruction
//                 with the visible patches pasted back);
//   classify IN…  ViTForImageClassification: label, score, top-k;
//   features IN…  a ViT's [CLS] and mean-pooled patch embeddings.
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "tformer/core/error.h"
#include "tformer/image/decode.h"
#include "tformer/image/encode.h"
#include "tformer/io/safetensors.h"
#include "tformer/pipelines/image_classification.h"
#include "tformer/pipelines/masked_image_generation.h"

namespace tformer::cli {

namespace {

namespace fs = std::filesystem;

struct ImageArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::string output, noise, dump;
  std::optional<double> mask_ratio;
  std::optional<uint64_t> seed;
  bool grid = false, json = false;
  int64_t top_k = 5;
  size_t batch_size = 8;
  int threads = 0;
  std::string dtype;
};

// The panels of a --grid are enlarged to at least this many pixels high (nearest pixel), to be seen.
constexpr int64_t kGridMinHeight = 224;

fs::path resolve_image_generation_model(const std::string& model) {
  if (!model.empty()) return model;
  if (const char* env = std::getenv("TFORMER_IMAGE_MODEL"); env && *env) return env;
  return fs::path(TFORMER_IMAGE_MODEL_DIR);
}

fs::path required_model(const std::string& model, const char* command) {
  TF_CHECK(!model.empty(), "image " << command << ": --model DIR is required (a Hugging Face ViT directory)");
  return model;
}

Tensor noise_from_file(const std::string& path, const pipelines::MaskedImageGenerationPipeline& pipe) {
  const auto file = io::SafetensorsFile::open(path);
  const Tensor noise = file->load("noise");
  const int64_t n = pipe.model().num_patches();
  TF_CHECK(noise.ndim() == 2 && noise.dim(0) == 1 && noise.dim(1) == n && noise.dtype() == DType::F32,
           path << ": tensor 'noise' must be F32 [1, " << n << "] (one image's patches), got "
                << noise.shape().str());
  return noise;
}

void run_image_generate(const ImageArgs& a) {
  apply_threads(a.threads);
  TF_CHECK(a.inputs.size() == 1, "image generate: give exactly one input image, got " << a.inputs.size());
  TF_CHECK(a.noise.empty() || !a.seed, "image generate: --noise and --seed are alternatives; give one");
  auto pipe = pipelines::MaskedImageGenerationPipeline::from_pretrained(resolve_image_generation_model(a.model));
  pipe.set_weight_format(parse_dtype(a.dtype));
  if (a.mask_ratio) pipe.set_mask_ratio(*a.mask_ratio);
  const fs::path input = a.inputs[0];
  const Tensor noise = a.noise.empty() ? pipe.random_noise(a.seed ? *a.seed : std::random_device{}())
                                       : noise_from_file(a.noise, pipe);
  const pipelines::MaskedImageGeneration g = pipe(image::load_image(input), noise);

  const fs::path output = a.output.empty() ? fs::path(input.stem().string() + (a.grid ? "-mae-grid.png" : "-mae.png"))
                                           : fs::path(a.output);
  if (a.grid) {
    const int64_t side = g.original.height, scale = std::max<int64_t>(1, (kGridMinHeight + side - 1) / side);
    image::save_image(pipelines::side_by_side({&g.original, &g.masked, &g.reconstruction, &g.pasted}, scale, 8),
                      output);
  } else {
    image::save_image(g.reconstruction, output);
  }
  if (!a.dump.empty())
    io::save_safetensors(a.dump,
                         {{"pixel_values", g.pixel_values},
                          {"noise", g.noise},
                          {"mask", g.mask},
                          {"ids_restore", g.ids_restore},
                          {"logits", g.logits},
                          {"loss", Tensor::from_vector({g.loss}, {1})},
                          {"reconstruction", g.reconstruction_values}},
                         {{"image", input.string()}, {"format", "pt"}});
  float masked = 0;
  for (float m : g.mask.to_vector()) masked += m;
  std::fprintf(stderr, "%s: %.0f of %lld patches masked, loss %.6f → %s\n", input.string().c_str(), masked,
               static_cast<long long>(g.mask.numel()), static_cast<double>(g.loss), output.string().c_str());
}

// Runs a pipeline over the input images with a progress line, then prints
// each image's result.
template <class Pipeline, class Run, class Print>
void run_over_images(const ImageArgs& a, const char* command, Run run, Print print) {
  apply_threads(a.threads);
  TF_CHECK(!a.inputs.empty(), "image " << command << ": give at least one input image");
  auto pipe = Pipeline::from_pretrained(required_model(a.model, command));
  pipe.set_weight_format(parse_dtype(a.dtype));
  const std::vector<fs::path> paths(a.inputs.begin(), a.inputs.end());
  ProgressLine progress(command);
  const auto results = run(pipe, paths, [&](size_t done, size_t total) { progress.update(done, total); });
  progress.finish();
  for (size_t i = 0; i < paths.size(); ++i) print(a.inputs[i], results[i]);
  std::cout.flush();
}

void print_json(const nlohmann::ordered_json& j) {
  std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

void run_image_classify(const ImageArgs& a) {
  run_over_images<pipelines::ImageClassificationPipeline>(
      a, "classify",
      [&](const auto& pipe, const auto& paths, const auto& progress) {
        return pipe(paths, a.top_k, a.batch_size, progress);
      },
      [&](const std::string& image, const pipelines::ImageClassification& r) {
        if (a.json) {
          nlohmann::ordered_json top = nlohmann::ordered_json::array();
          for (const auto& [label, score] : r.top_k) top.push_back({{"label", label}, {"score", score}});
          print_json({{"image", image}, {"label", r.label}, {"score", r.score}, {"top_k", top}, {"logits", r.logits}});
          return;
        }
        std::printf("%s\t%s\t%.4f", image.c_str(), r.label.c_str(), static_cast<double>(r.score));
        for (size_t k = 1; k < r.top_k.size(); ++k)
          std::printf("\t%s %.4f", r.top_k[k].first.c_str(), static_cast<double>(r.top_k[k].second));
        std::printf("\n");
      });
}

// The first values of an embedding, for a glance: "[768] 0.1234 -0.5678 0.9012 …".
std::string preview(const std::vector<float>& v) {
  std::string out = "[" + std::to_string(v.size()) + "]";
  char number[32];
  for (size_t i = 0; i < std::min<size_t>(3, v.size()); ++i) {
    std::snprintf(number, sizeof number, " %.4f", static_cast<double>(v[i]));
    out += number;
  }
  return out + (v.size() > 3 ? " …" : "");
}

void run_image_features(const ImageArgs& a) {
  run_over_images<pipelines::ImageFeaturesPipeline>(
      a, "features",
      [&](const auto& pipe, const auto& paths, const auto& progress) { return pipe(paths, a.batch_size, progress); },
      [&](const std::string& image, const pipelines::ImageFeatures& f) {
        if (a.json) return print_json({{"image", image}, {"cls", f.cls}, {"mean", f.mean}});
        std::printf("%s\tcls%s\tmean%s\n", image.c_str(), preview(f.cls).c_str(), preview(f.mean).c_str());
      });
}

// The options every image subcommand takes.
void add_common(CLI::App& cmd, ImageArgs& a, const char* model_help) {
  cmd.add_option("--model", a.model, model_help);
  add_threads_option(cmd, a.threads);
  add_dtype_option(cmd, a.dtype);
}

}  // namespace

void register_image(CLI::App& app) {
  CLI::App* image = app.add_subcommand("image", "Vision models: ViT classification and features, ViT-MAE generation");
  image->require_subcommand(1);

  auto g = std::make_shared<ImageArgs>();
  CLI::App* gen = image->add_subcommand(
      "generate", "Hide most of an image's patches and paint them back with ViT-MAE (default: the bundled model)");
  gen->add_option("input", g->inputs, "the image (PNG or JPEG)")->required();
  add_common(*gen, *g, "a ViTMAEForPreTraining directory (default: the bundled generator)");
  gen->add_option("-o,--output", g->output, "where to write the PNG or JPEG (default: INPUT-mae.png here)");
  gen->add_option("--mask-ratio", g->mask_ratio, "share of patches hidden (default: the model's, 0.75)")
      ->check(CLI::Range(0.0, 0.999));
  gen->add_option("--seed", g->seed, "seed of the masking noise (default: a fresh one)");
  gen->add_option("--noise", g->noise, "safetensors file with the masking noise: F32 'noise' [1][patches]");
  gen->add_flag("--grid", g->grid, "write original | masked | reconstruction | reconstruction + visible, side by side");
  gen->add_option("--dump", g->dump,
                  "also write pixel_values, noise, mask, ids_restore, logits, loss, reconstruction (safetensors)");
  gen->callback([g] { run_image_generate(*g); });

  auto c = std::make_shared<ImageArgs>();
  CLI::App* cls = image->add_subcommand("classify", "Classify images with a ViTForImageClassification model");
  cls->add_option("inputs", c->inputs, "images (PNG or JPEG)")->required();
  add_common(*cls, *c, "a ViTForImageClassification directory (required)");
  cls->add_option("--top-k", c->top_k, "labels to list per image (default 5)")->check(CLI::Range(1, 1 << 20));
  cls->add_option("--batch-size", c->batch_size, "images per forward pass (default 8)")->check(CLI::Range(1, 4096));
  cls->add_flag("--json", c->json, "one JSON object per image: image, label, score, top_k, logits");
  cls->callback([c] { run_image_classify(*c); });

  auto f = std::make_shared<ImageArgs>();
  CLI::App* feat = image->add_subcommand("features", "Image embeddings from a ViT: [CLS] and mean-pooled patches");
  feat->add_option("inputs", f->inputs, "images (PNG or JPEG)")->required();
  add_common(*feat, *f, "a ViT model directory (required)");
  feat->add_option("--batch-size", f->batch_size, "images per forward pass (default 8)")->check(CLI::Range(1, 4096));
  feat->add_flag("--json", f->json, "one JSON object per image: image, cls, mean");
  feat->callback([f] { run_image_features(*f); });
}

}  // namespace tformer::cli
