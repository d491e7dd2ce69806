// Labelled text for fine-tuning a sequence classifier, read from TSV, CSV or
// JSON Lines (chosen by the file's extension).
//
// TSV (.tsv) and CSV (.csv): a header row names the columns, so their order is
// free and extra columns (GLUE's `idx`) are ignored:
//   text       sentence | text | sentence1 | question | question1   (required)
//   text pair  sentence2 | text_pair | question2                     (optional)
//   label      label                                                 (required)
// e.g. GLUE SST-2's `label<TAB>sentence`, or `sentence1<TAB>sentence2<TAB>label`.
// TSV fields are taken literally (no quoting, as GLUE's files and Python's
// csv.QUOTE_NONE); CSV follows RFC 4180: a field in double quotes may hold
// commas, newlines and doubled quotes (""), and a quote inside an unquoted
// field is kept literally, as Python's csv module does.
// JSON Lines (.jsonl): one object per line, keyed by the same names
// ({"text": ..., "label": ...}, {"sentence": ..., "label": ..., "idx": ...}).
//
// In every format: lines may end in LF or CRLF; blank lines are skipped; a
// UTF-8 byte-order mark is ignored. A label is an integer, or a name looked
// up in label2id (JSON: a number or a string). Rows must have as many fields
// as the header, and valid UTF-8.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tformer::train {

struct Example {
  std::string text;
  std::optional<std::string> text_pair;
  int32_t label = 0;
  size_t line = 0;  // 1-based line of the file where the row starts
};

struct DatasetOptions {
  // Label names (the model config's label2id) accepted besides integers.
  std::map<std::string, int32_t> label2id;
  // When set, every label must lie in [0, num_labels): rejects, for example,
  // the -1 that marks GLUE's unlabelled test rows.
  std::optional<int32_t> num_labels;
  // Skip and count bad rows instead of failing on the first. Problems with
  // the file as a whole (unreadable, empty, bad header) always fail.
  bool skip_bad = false;
};

struct Dataset {
  std::vector<Example> examples;
  size_t skipped = 0;  // bad rows left out under skip_bad
  std::filesystem::path path;
};

// Throws tformer::Error naming the file and line:
//   "data/train.tsv:17: label 'maybe' is not an integer and not in label2id".
Dataset read_dataset(const std::filesystem::path& path, const DatasetOptions& options = {});

}  // namespace tformer::train
