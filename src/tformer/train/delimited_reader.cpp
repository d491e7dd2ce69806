#include "tformer/train/delimited_reader.h"

#include <algorithm>

namespace tformer::train {

DelimitedReader::DelimitedReader(std::string_view text, char delimiter, bool quoting)
    : text_(text), delimiter_(delimiter), quoting_(quoting) {}

bool DelimitedReader::at_record_end() const {
  if (pos_ >= text_.size() || text_[pos_] == '\n') return true;
  // A CR ends a record only as part of CRLF or at the very end; elsewhere it is data.
  return text_[pos_] == '\r' && (pos_ + 1 == text_.size() || text_[pos_ + 1] == '\n');
}

void DelimitedReader::skip_record_end() {
  if (pos_ < text_.size() && text_[pos_] == '\r') ++pos_;
  if (pos_ < text_.size() && text_[pos_] == '\n') {
    ++pos_;
    ++line_;
  }
}

void DelimitedReader::skip_rest_of_line() {
  while (!at_record_end()) ++pos_;
  skip_record_end();
}

bool DelimitedReader::read_quoted(DelimitedRecord& record, std::string& field) {
  ++pos_;  // the opening quote
  for (;;) {
    size_t close = text_.find('"', pos_);
    if (close == std::string_view::npos) {
      record.error = "quoted field is never closed";
      pos_ = text_.size();
      return false;
    }
    std::string_view piece = text_.substr(pos_, close - pos_);
    line_ += std::count(piece.begin(), piece.end(), '\n');
    field.append(piece);
    pos_ = close + 1;
    if (pos_ < text_.size() && text_[pos_] == '"') {  // "" stands for one quote
      field.push_back('"');
      ++pos_;
    } else if (at_record_end() || text_[pos_] == delimiter_) {
      return true;
    } else {
      record.error = "text after a closing quote (a quote inside a quoted field is written \"\")";
      return false;
    }
  }
}

bool DelimitedReader::next(DelimitedRecord& record) {
  while (pos_ < text_.size() && at_record_end()) skip_record_end();  // blank lines
  if (pos_ >= text_.size()) return false;
  record.line = line_;
  record.fields.clear();
  record.error.clear();
  for (;;) {
    std::string field;
    if (quoting_ && pos_ < text_.size() && text_[pos_] == '"') {
      if (!read_quoted(record, field)) {
        skip_rest_of_line();
        return true;
      }
    } else {
      size_t start = pos_;
      while (!at_record_end() && text_[pos_] != delimiter_) ++pos_;
      field.assign(text_.substr(start, pos_ - start));
    }
    record.fields.push_back(std::move(field));
    if (at_record_end()) {
      skip_record_end();
      return true;
    }
    ++pos_;  // the delimiter
  }
}

}  // namespace tformer::train
