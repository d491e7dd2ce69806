// Splits TSV or CSV text into records of fields (the dataset reader's lower
// half; dataset.h describes the formats).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tformer::train {

struct DelimitedRecord {
  size_t line = 0;  // 1-based line where the record starts
  std::vector<std::string> fields;
  std::string error;  // non-empty: the record is malformed (fields incomplete)
};

class DelimitedReader {
 public:
  // `quoting`: RFC 4180 double quotes (CSV); without it fields are literal (TSV).
  DelimitedReader(std::string_view text, char delimiter, bool quoting);

  // Reads the next record, skipping blank lines; false at the end of the text.
  // After a malformed record, reading resumes at the next line.
  bool next(DelimitedRecord& record);

 private:
  // Reads a quoted field starting at the opening quote; returns false when
  // the field is malformed (record.error says how).
  bool read_quoted(DelimitedRecord& record, std::string& field);
  bool at_record_end() const;
  void skip_record_end();
  void skip_rest_of_line();

  std::string_view text_;
  size_t pos_ = 0;
  size_t line_ = 1;
  char delimiter_;
  bool quoting_;
};

}  // namespace tformer::train
