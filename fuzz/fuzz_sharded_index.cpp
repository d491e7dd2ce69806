// Input: a model directory's model.safetensors.index.json, beside one valid
// shard (model-00001-of-00001.safetensors, written once at start-up). Opened
// by Checkpoint as the directory's weights; every tensor listed is loaded.
#include "fuzz_support.h"
#include "tformer/io/safetensors.h"

using namespace tformer_fuzz;
using tformer::DType;
using tformer::Tensor;

static const TempDir dir;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Names that exercise Checkpoint's remapping (gamma/beta) and several dtypes.
  const Tensor weight = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor gamma = Tensor::from_vector({1, 1, 1}, {3});
  const Tensor beta = Tensor::from_vector({0.5f, -0.5f, 0}, {3}).to(DType::BF16);
  Tensor ids = Tensor::zeros({1, 4}, DType::I64);
  for (int64_t i = 0; i < 4; ++i) ids.data<int64_t>()[i] = i;
  tformer::io::save_safetensors(dir.path() / "model-00001-of-00001.safetensors",
                                {{"bert.embeddings.word_embeddings.weight", weight},
                                 {"bert.embeddings.LayerNorm.gamma", gamma},
                                 {"bert.embeddings.LayerNorm.beta", beta},
                                 {"bert.embeddings.position_ids", ids}},
                                {{"format", "pt"}});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dir.write("model.safetensors.index.json", data, size);
  expect_only_tformer_errors([&] { load_all(tformer::io::Checkpoint::open(dir.path())); });
  return 0;
}
