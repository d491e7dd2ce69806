#include "tformer/train/dataset.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tformer/core/error.h"
#include "tformer/tokenizers/unicode.h"
#include "tformer/train/delimited_reader.h"

namespace tformer::train {

namespace {

using Json = nlohmann::json;

constexpr std::array<std::string_view, 5> kTextNames = {"sentence", "text", "sentence1", "question",
                                                        "question1"};
constexpr std::array<std::string_view, 3> kTextPairNames = {"sentence2", "text_pair", "question2"};
constexpr std::string_view kLabelName = "label";

// A row that cannot become an Example; skip_bad decides whether it is fatal.
struct BadRow {
  std::string message;
};

[[noreturn]] void bad_row(std::string message) { throw BadRow{std::move(message)}; }

// Which of a header's (or JSON object's) names hold the text, pair and label.
struct Columns {
  size_t text = 0;
  std::optional<size_t> text_pair;
  size_t label = 0;
};

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

template <size_t N>
std::optional<size_t> find_column(const std::vector<std::string>& names,
                                  const std::array<std::string_view, N>& candidates,
                                  const char* role) {
  std::optional<size_t> found;
  for (size_t i = 0; i < names.size(); ++i) {
    if (std::find(candidates.begin(), candidates.end(), names[i]) == candidates.end()) continue;
    if (found) bad_row("both '" + names[*found] + "' and '" + names[i] + "' name the " + role);
    found = i;
  }
  return found;
}

Columns find_columns(const std::vector<std::string>& names, const char* what) {
  Columns columns;
  auto text = find_column(names, kTextNames, "text");
  if (!text)
    bad_row(std::string(what) +
            " has no text (sentence, text, sentence1, question or question1); it has: " + join(names));
  columns.text = *text;
  columns.text_pair = find_column(names, kTextPairNames, "text pair");
  auto label = std::find(names.begin(), names.end(), kLabelName);
  if (label == names.end()) bad_row(std::string(what) + " has no 'label'; it has: " + join(names));
  columns.label = label - names.begin();
  return columns;
}

void check_utf8(std::string_view text) {
  if (auto at = tokenizers::unicode::find_invalid_utf8(text))
    bad_row("invalid UTF-8 at byte " + std::to_string(*at) + " of a field");
}

int32_t checked_label(int64_t label, const DatasetOptions& options) {
  if (label < INT32_MIN || label > INT32_MAX)
    bad_row("label " + std::to_string(label) + " is not a 32-bit integer");
  if (options.num_labels && (label < 0 || label >= *options.num_labels))
    bad_row("label " + std::to_string(label) + " is outside [0, " +
            std::to_string(*options.num_labels) + ")");
  return static_cast<int32_t>(label);
}

int32_t parse_label(std::string_view text, const DatasetOptions& options) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc() && end == text.data() + text.size()) return checked_label(value, options);
  auto named = options.label2id.find(std::string(text));
  if (named == options.label2id.end())
    bad_row("label '" + std::string(text) + "' is not an integer and not in label2id");
  return checked_label(named->second, options);
}

// Runs make_example for one row, adding its Example or, for a bad row,
// failing or counting it.
template <class MakeExample>
void add_row(Dataset& dataset, const DatasetOptions& options, size_t line, MakeExample&& make_example) {
  try {
    dataset.examples.push_back(make_example());
    dataset.examples.back().line = line;
  } catch (const BadRow& bad) {
    TF_CHECK(options.skip_bad, dataset.path.string() << ":" << line << ": " << bad.message);
    ++dataset.skipped;
  }
}

void read_delimited(std::string_view text, char delimiter, bool quoting, const DatasetOptions& options,
                    Dataset& dataset) {
  const std::string file = dataset.path.string();
  DelimitedReader reader(text, delimiter, quoting);
  DelimitedRecord record;
  TF_CHECK(reader.next(record), file << ": empty file, expected a header row naming the columns");
  Columns columns;
  try {
    if (!record.error.empty()) bad_row(record.error);
    for (const std::string& name : record.fields) check_utf8(name);
    columns = find_columns(record.fields, "header");
  } catch (const BadRow& bad) {
    TF_FAIL(file << ":" << record.line << ": " << bad.message);
  }
  const size_t num_columns = record.fields.size();
  while (reader.next(record)) {
    add_row(dataset, options, record.line, [&] {
      if (!record.error.empty()) bad_row(record.error);
      if (record.fields.size() != num_columns)
        bad_row(std::to_string(record.fields.size()) + " fields, but the header has " +
                std::to_string(num_columns));
      for (const std::string& field : record.fields) check_utf8(field);
      Example example;
      example.label = parse_label(record.fields[columns.label], options);
      example.text = std::move(record.fields[columns.text]);
      if (columns.text_pair) example.text_pair = std::move(record.fields[*columns.text_pair]);
      return example;
    });
  }
  TF_CHECK(!dataset.examples.empty() || dataset.skipped > 0, file << ": no rows after the header");
}

Example example_from_json(std::string_view line, const DatasetOptions& options) {
  check_utf8(line);
  Json object;
  try {
    object = Json::parse(line);
  } catch (const Json::exception& e) {  // parse_error, or out_of_range for 1e400
    bad_row(std::string("invalid JSON: ") + e.what());
  }
  if (!object.is_object()) bad_row(std::string("expected a JSON object, got ") + object.type_name());
  std::vector<std::string> keys;
  std::vector<const Json*> values;
  for (const auto& [key, value] : object.items()) {
    keys.push_back(key);
    values.push_back(&value);
  }
  const Columns columns = find_columns(keys, "object");
  auto string_at = [&](size_t i) {
    if (!values[i]->is_string()) bad_row("'" + keys[i] + "' must be a string");
    return values[i]->get<std::string>();
  };
  Example example;
  example.text = string_at(columns.text);
  if (columns.text_pair && !values[*columns.text_pair]->is_null())
    example.text_pair = string_at(*columns.text_pair);
  const Json& label = *values[columns.label];
  if (label.is_number_unsigned()) {  // nlohmann reads every non-negative integer as unsigned
    example.label = checked_label(int64_t(std::min<uint64_t>(label.get<uint64_t>(), INT64_MAX)), options);
  } else if (label.is_number_integer()) {
    example.label = checked_label(label.get<int64_t>(), options);
  } else if (label.is_string()) {
    example.label = parse_label(label.get<std::string>(), options);
  } else {
    bad_row(std::string("'label' must be an integer or a string, got ") + label.type_name());
  }
  return example;
}

void read_jsonl(std::string_view text, const DatasetOptions& options, Dataset& dataset) {
  size_t line_number = 0;
  bool any_line = false;
  while (!text.empty()) {
    ++line_number;
    size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    any_line = true;
    add_row(dataset, options, line_number, [&] { return example_from_json(line, options); });
  }
  TF_CHECK(any_line, dataset.path.string() << ": empty file, expected one JSON object per line");
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  TF_CHECK(in, path.string() << ": cannot read: " << std::strerror(errno));
  std::ostringstream contents;
  contents << in.rdbuf();
  TF_CHECK(!in.bad(), path.string() << ": read error");
  return std::move(contents).str();
}

}  // namespace

Dataset read_dataset(const std::filesystem::path& path, const DatasetOptions& options) {
  Dataset dataset;
  dataset.path = path;
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  TF_CHECK(extension == ".tsv" || extension == ".csv" || extension == ".jsonl",
           path.string() << ": unknown dataset format '" << extension
                         << "' (expected .tsv, .csv or .jsonl)");
  const std::string contents = read_file(path);
  std::string_view text = contents;
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // byte-order mark
  if (extension == ".jsonl") {
    read_jsonl(text, options, dataset);
  } else {
    read_delimited(text, extension == ".tsv" ? '\t' : ',', extension == ".csv", options, dataset);
  }
  return dataset;
}

}  // namespace tformer::train
