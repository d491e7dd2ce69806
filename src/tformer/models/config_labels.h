// A classifier's labels in config.json, as transformers' PretrainedConfig
// reads them: `id2label` ({"0": "NEGATIVE", ...}) if present, else
// `num_labels` (default 2) labels named LABEL_0, LABEL_1, ...
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace tformer::models {

// The labels in id order; ids must be 0 .. n−1, each once. Errors name `source` and the field.
std::vector<std::string> read_id2label(const nlohmann::json& config, const std::string& source);

}  // namespace tformer::models
