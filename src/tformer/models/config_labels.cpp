#include "tformer/models/config_labels.h"

#include <nlohmann/json.hpp>

#include "tformer/core/error.h"
#include "tformer/io/json_file.h"

namespace tformer::models {

namespace {
constexpr int64_t kMaxLabels = int64_t(1) << 16;
}

std::vector<std::string> read_id2label(const nlohmann::json& j, const std::string& source) {
  std::vector<std::string> labels;
  if (auto it = j.find("id2label"); it != j.end() && it->is_object() && !it->empty()) {
    TF_CHECK(static_cast<int64_t>(it->size()) <= kMaxLabels,
             source << ": field 'id2label' has " << it->size() << " labels, more than " << kMaxLabels);
    labels.assign(it->size(), "");
    std::vector<bool> seen(it->size(), false);
    for (auto& [key, value] : it->items()) {
      const std::optional<int64_t> id = io::json_key_to_int(key, kMaxLabels);
      TF_CHECK(id, source << ": field 'id2label': key '" << key << "' is not a label id (0, 1, ...)");
      TF_CHECK(*id < static_cast<int64_t>(labels.size()) && !seen[*id] && value.is_string(),
               source << ": field 'id2label': entry '" << key
                      << "' is out of range, repeated or not a string (ids must be 0 to " << labels.size() - 1
                      << ", each once)");
      seen[*id] = true;
      labels[*id] = value.get<std::string>();
    }
    return labels;
  }
  const int64_t n = io::json_int_field(j, "num_labels", 1, kMaxLabels, source).value_or(2);
  for (int64_t i = 0; i < n; ++i) labels.push_back("LABEL_" + std::to_string(i));
  return labels;
}

}  // namespace tformer::models
