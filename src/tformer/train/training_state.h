// A fine-tuning run's resumable state, kept in one safetensors file so that a
// save is a single atomic rename: the parameters, AdamW's moments and step
// count, and where the run stands in its data, with the options it ran under.
//
// The parameters are stored here as well as in the exported model.safetensors
// so the state never depends on which of the two files a crash let through:
// resuming restores exactly the weights the moments belong to.
#pragma once
#include <cstdint>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "tformer/nn/parameter.h"
#include "tformer/train/adamw.h"

namespace tformer::train {

struct TrainingProgress {
  int64_t step = 0;        // optimizer steps taken
  int64_t epoch = 0;       // the epoch under way, 0-based
  int64_t position = 0;    // micro-batches of that epoch's order already consumed
  int64_t micro_step = 0;  // micro-batches consumed over the whole run
};

// Tensors "param.<name>" and AdamW's "exp_avg.<name>" / "exp_avg_sq.<name>";
// metadata: AdamW's step count, "trainer.step", "trainer.epoch",
// "trainer.position", "trainer.micro_step" and "trainer.run" (the run's
// identity: options, seed, data hash, as a JSON object). Written atomically.
void save_training_state(const std::filesystem::path& file, const TrainingProgress& progress,
                         const nlohmann::json& run, const nn::ParameterList& params,
                         const AdamW& optimizer);

// Restores the parameters and the optimiser from `file` and returns the
// progress. Refuses (tformer::Error naming the file and every differing
// field) a state written by a run whose identity differs from `run`, and
// leaves the parameters and optimiser as they were on any error.
TrainingProgress load_training_state(const std::filesystem::path& file, const nlohmann::json& run,
                                     const nn::ParameterList& params, AdamW& optimizer);

}  // namespace tformer::train
