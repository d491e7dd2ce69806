#include "tformer/io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "tformer/core/checked_size.h"
#include "tformer/core/error.h"
#include "tformer/io/atomic_file.h"
#include "tformer/io/json_file.h"

namespace tformer::io {

namespace {

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

void append_u64_le(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// A size or offset of the header: a JSON integer (the reference library
// refuses 4.0 too) in [0, 2^63).
size_t header_size(const nlohmann::json& v, const std::string& where) {
  TF_CHECK(v.is_number_integer(), where << ": " << json_excerpt(v) << " is not a non-negative integer");
  return static_cast<size_t>(json_to_int(v, 0, INT64_MAX, where));
}

}  // namespace

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
  std::shared_ptr<SafetensorsFile> st(new SafetensorsFile());
  st->file_ = MappedFile::open(path);
  st->parse_header();
  return st;
}

void SafetensorsFile::parse_header() {
  const std::string file = file_->path().string();
  const size_t file_size = file_->size();
  TF_CHECK(file_size >= 8, file << ": not a safetensors file: " << file_size
                                << " bytes, shorter than the 8-byte header length");
  const uint64_t header_len = read_u64_le(file_->data());
  TF_CHECK(header_len <= kMaxSafetensorsHeader,
           file << ": header length " << header_len << " exceeds the 100 MB limit (corrupt file?)");
  TF_CHECK(header_len <= file_size - 8, file << ": header length " << header_len
                                              << " is past the end of the file (" << file_size
                                              << " bytes): truncated or not a safetensors file");
  data_start_ = 8 + header_len;
  const size_t data_size = file_size - data_start_;

  std::string_view header_text(reinterpret_cast<const char*>(file_->data() + 8), header_len);
  nlohmann::json header = parse_json(header_text, file + " (safetensors header)");
  TF_CHECK(header.is_object(), file << ": safetensors header is not a JSON object");

  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      TF_CHECK(entry.is_object(), file << ": field '__metadata__' is not an object");
      for (const auto& [key, value] : entry.items()) {
        TF_CHECK(value.is_string(), file << ": field '__metadata__': value of '" << key
                                         << "' is not a string");
        metadata_[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string where = file + ": tensor '" + name + "'";
    TF_CHECK(entry.is_object(), where << ": entry is not an object");

    auto dtype_field = entry.find("dtype");
    TF_CHECK(dtype_field != entry.end() && dtype_field->is_string(),
             where << ": field 'dtype' is missing or not a string");
    auto dtype = dtype_from_name(dtype_field->get<std::string>());
    TF_CHECK(dtype, where << ": field 'dtype': unknown or unsupported dtype '"
                          << dtype_field->get<std::string>() << "'");

    auto shape_field = entry.find("shape");
    TF_CHECK(shape_field != entry.end() && shape_field->is_array(),
             where << ": field 'shape' is missing or not a list");
    TF_CHECK(shape_field->size() <= static_cast<size_t>(kMaxDims),
             where << ": field 'shape': rank " << shape_field->size() << " exceeds " << kMaxDims);
    std::vector<int64_t> dims;
    for (const auto& d : *shape_field)
      dims.push_back(static_cast<int64_t>(header_size(d, where + ": field 'shape'")));
    const size_t nbytes =
        checked_nbytes(checked_numel(dims, where + ": field 'shape'"), dtype_size(*dtype), where + ": field 'shape'");

    auto offsets_field = entry.find("data_offsets");
    TF_CHECK(offsets_field != entry.end() && offsets_field->is_array() && offsets_field->size() == 2,
             where << ": field 'data_offsets' is not [begin, end] with non-negative integers");
    const size_t begin = header_size((*offsets_field)[0], where + ": field 'data_offsets'");
    const size_t end = header_size((*offsets_field)[1], where + ": field 'data_offsets'");
    TF_CHECK(begin <= end, where << ": field 'data_offsets': begin " << begin << " > end " << end);
    TF_CHECK(end <= data_size, where << ": field 'data_offsets': end " << end
                                     << " is past the data section (" << data_size
                                     << " bytes): truncated file?");
    TF_CHECK(end - begin == nbytes, where << ": field 'data_offsets' spans " << end - begin
                                          << " bytes but shape " << Shape(dims).str() << " of "
                                          << dtype_name(*dtype) << " needs " << nbytes);
    tensors_.push_back({name, *dtype, Shape(dims)});
    spans_.push_back({begin, end});
  }

  // The reference library (safetensors' Metadata::validate and read_metadata)
  // requires the tensors, sorted by offset, to tile the data section exactly:
  // no overlap (InvalidOffset), no hole between tensors (InvalidOffset), and no
  // bytes after the last one (MetadataIncompleteBuffer). We follow that rule.
  std::vector<size_t> order(tensors_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::pair(spans_[a].begin, spans_[a].end) < std::pair(spans_[b].begin, spans_[b].end);
  });
  size_t covered = 0;
  const StoredTensor* previous = nullptr;
  for (size_t i : order) {
    const auto& t = tensors_[i];
    const auto& s = spans_[i];
    TF_CHECK(s.begin >= covered, file << ": tensor '" << t.name << "': data_offsets [" << s.begin
                                      << ", " << s.end << "] overlap tensor '"
                                      << (previous ? previous->name : "") << "'");
    TF_CHECK(s.begin == covered, file << ": tensor '" << t.name << "': data_offsets [" << s.begin
                                      << ", " << s.end << "] leave a hole of " << s.begin - covered
                                      << " bytes before them (safetensors requires tensors to "
                                         "cover the data section contiguously)");
    covered = s.end;
    previous = &t;
  }
  TF_CHECK(covered == data_size, file << ": " << data_size - covered
                                      << " bytes after the last tensor are not described by the "
                                         "header (safetensors requires an exact fit)");

  std::vector<StoredTensor> sorted_tensors;
  std::vector<ByteSpan> sorted_spans;
  for (size_t i : order) {
    index_[tensors_[i].name] = sorted_tensors.size();
    sorted_tensors.push_back(std::move(tensors_[i]));
    sorted_spans.push_back(spans_[i]);
  }
  tensors_ = std::move(sorted_tensors);
  spans_ = std::move(sorted_spans);
}

Tensor SafetensorsFile::load(const std::string& name) const {
  auto it = index_.find(name);
  TF_CHECK(it != index_.end(), path().string() << ": tensor '" << name << "' not found");
  const StoredTensor& t = tensors_[it->second];
  uint8_t* bytes = file_->mutable_data() + data_start_ + spans_[it->second].begin;
  if (reinterpret_cast<uintptr_t>(bytes) % dtype_size(t.dtype) == 0)
    return Tensor::borrow(file_, bytes, t.shape, t.dtype);
  // Misaligned for its dtype (legal in the format): typed access needs a copy.
  Tensor copy = Tensor::empty(t.shape, t.dtype);
  std::memcpy(copy.raw(), bytes, copy.nbytes());
  return copy;
}

void save_safetensors(const std::filesystem::path& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  const std::string file = path.string();
  std::vector<std::pair<std::string, Tensor>> ordered;
  std::set<std::string> seen;
  for (const auto& [name, tensor] : tensors) {
    TF_CHECK(name != "__metadata__", file << ": '__metadata__' cannot name a tensor");
    TF_CHECK(seen.insert(name).second, file << ": tensor '" << name << "' given twice");
    TF_CHECK(tensor.defined(), file << ": tensor '" << name << "' is undefined");
    ordered.emplace_back(name, tensor.contiguous());
  }
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
    size_t sa = dtype_size(a.second.dtype()), sb = dtype_size(b.second.dtype());
    return sa != sb ? sa > sb : a.first < b.first;
  });

  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  size_t offset = 0;
  for (const auto& [name, tensor] : ordered) {
    header[name] = {{"dtype", dtype_name(tensor.dtype())},
                    {"shape", tensor.shape().to_vector()},
                    {"data_offsets", {offset, offset + tensor.nbytes()}}};
    offset += tensor.nbytes();
  }
  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');

  std::string prefix;
  append_u64_le(prefix, header_text.size());
  AtomicFile out(path);
  out.write(prefix);
  out.write(header_text);
  for (const auto& [name, tensor] : ordered) out.write(tensor.raw(), tensor.nbytes());
  out.commit();
}

}  // namespace tformer::io
