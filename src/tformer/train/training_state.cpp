#include "tformer/train/training_state.h"

#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tformer/core/error.h"
#include "tformer/io/json_file.h"
#include "tformer/io/safetensors.h"

namespace tformer::train {

namespace {
constexpr const char* kFormatKey = "format";
constexpr const char* kFormat = "tformer-training-state-1";
constexpr const char* kRunKey = "trainer.run";
constexpr const char* kParamPrefix = "param.";

const std::map<std::string, int64_t TrainingProgress::*>& progress_fields() {
  static const std::map<std::string, int64_t TrainingProgress::*> fields = {
      {"trainer.step", &TrainingProgress::step},
      {"trainer.epoch", &TrainingProgress::epoch},
      {"trainer.position", &TrainingProgress::position},
      {"trainer.micro_step", &TrainingProgress::micro_step}};
  return fields;
}

const std::string& metadata_value(const std::map<std::string, std::string>& metadata, const std::string& key,
                                  const std::filesystem::path& file) {
  auto it = metadata.find(key);
  TF_CHECK(it != metadata.end(), file.string() << ": not a tformer training state (no '" << key << "' metadata)");
  return it->second;
}

// "lr 5e-05 here, 0.0001 now; seed 42 here, 7 now".
std::string describe_differences(const nlohmann::json& saved, const nlohmann::json& now) {
  std::ostringstream os;
  const char* separator = "";
  nlohmann::json keys = saved;
  keys.update(now);
  for (const auto& [key, unused] : keys.items()) {
    const nlohmann::json a = saved.value(key, nlohmann::json()), b = now.value(key, nlohmann::json());
    if (a == b) continue;
    os << separator << key << " " << a.dump() << " then, " << b.dump() << " now";
    separator = "; ";
  }
  return os.str();
}
}  // namespace

void save_training_state(const std::filesystem::path& file, const TrainingProgress& progress,
                         const nlohmann::json& run, const nn::ParameterList& params,
                         const AdamW& optimizer) {
  std::vector<std::pair<std::string, Tensor>> tensors = optimizer.state_tensors();
  for (const nn::Parameter* p : params) tensors.emplace_back(kParamPrefix + p->name, p->value);
  std::map<std::string, std::string> metadata = optimizer.state_metadata();
  metadata[kFormatKey] = kFormat;
  metadata[kRunKey] = run.dump();
  for (const auto& [key, field] : progress_fields()) metadata[key] = std::to_string(progress.*field);
  std::filesystem::create_directories(file.parent_path());
  io::save_safetensors(file, tensors, metadata);
}

TrainingProgress load_training_state(const std::filesystem::path& file, const nlohmann::json& run,
                                     const nn::ParameterList& params, AdamW& optimizer) {
  TF_CHECK(std::filesystem::exists(file), file.string() << ": no training state to resume from");
  auto state = io::SafetensorsFile::open(file);
  const auto& metadata = state->metadata();
  TF_CHECK(metadata_value(metadata, kFormatKey, file) == kFormat,
           file.string() << ": training state format '" << metadata.at(kFormatKey) << "', expected '"
                         << kFormat << "'");
  const nlohmann::json saved_run = io::parse_json(metadata_value(metadata, kRunKey, file), file.string());
  TF_CHECK(saved_run == run, file.string() << ": cannot resume: this state belongs to a run with other "
                                              "options or data ("
                                           << describe_differences(saved_run, run)
                                           << "); resume with the same options, or train into another --out");

  TrainingProgress progress;
  for (const auto& [key, field] : progress_fields()) {
    const std::string& text = metadata_value(metadata, key, file);
    try {
      progress.*field = std::stoll(text);
    } catch (const std::exception&) {
      TF_FAIL(file.string() << ": metadata '" << key << "' is '" << text << "', not an integer");
    }
  }

  // Check every parameter before changing any.
  std::vector<Tensor> values;
  for (const nn::Parameter* p : params) {
    const std::string name = kParamPrefix + p->name;
    Tensor t = state->load(name);
    TF_CHECK(t.dtype() == DType::F32 && t.shape() == p->value.shape(),
             file.string() << ": tensor '" << name << "' is " << dtype_name(t.dtype()) << " " << t.shape().str()
                           << ", the model's parameter is F32 " << p->value.shape().str());
    values.push_back(std::move(t));
  }
  optimizer.load_state(*state);
  for (size_t i = 0; i < params.size(); ++i) params[i]->value.copy_from(values[i]);
  return progress;
}

}  // namespace tformer::train
