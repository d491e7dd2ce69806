#include "tformer/io/checkpoint.h"

#include <fstream>
#include <mutex>
#include <sstream>

#include "tformer/core/error.h"
#include "tformer/io/json_file.h"
#include "tformer/io/pytorch_bin.h"
#include "tformer/io/safetensors.h"

namespace tformer::io {

namespace fs = std::filesystem;

struct Checkpoint::Impl {
  struct Entry {
    TensorInfo info;
    const TensorSource* source;
  };
  std::vector<std::shared_ptr<TensorSource>> sources;
  std::map<std::string, Entry> entries;  // by canonical name
  std::string source_description;
  std::map<std::string, std::string> metadata;
  std::string base_prefix;
  mutable std::mutex used_mutex;
  mutable std::set<std::string> used;

  void add(const TensorSource& source, const StoredTensor& stored);
  // The entry a requested name resolves to, or null; `alternative` gets the
  // other spelling tried (with/without the base prefix), for messages.
  const Entry* lookup(const std::string& requested, std::string* alternative = nullptr) const;
  const Entry& find(const std::string& requested) const;
};

namespace {

// Old checkpoints (TF-converted BERT) name LayerNorm parameters gamma/beta;
// transformers' _fix_key renames them on load, and so do we.
std::string canonical_name(const std::string& stored) {
  auto replace_suffix = [&](std::string_view from, std::string_view to) -> std::string {
    if (stored.size() > from.size() && stored.ends_with(from))
      return stored.substr(0, stored.size() - from.size()) + std::string(to);
    return "";
  };
  if (auto renamed = replace_suffix(".gamma", ".weight"); !renamed.empty()) return renamed;
  if (auto renamed = replace_suffix(".beta", ".bias"); !renamed.empty()) return renamed;
  return stored;
}

// Picks the reader by content, then by extension: a zip or a legacy torch
// pickle (its magic number) is a torch.save file, and so is any .bin/.pt/.pth
// (whose reader explains what is wrong with it); anything else is safetensors.
std::shared_ptr<TensorSource> open_weights_file(const fs::path& path) {
  unsigned char magic[4] = {};
  {
    std::ifstream in(path, std::ios::binary);
    TF_CHECK(in, path.string() << ": cannot open");
    in.read(reinterpret_cast<char*>(magic), sizeof magic);
  }
  const bool is_zip = magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4;
  const bool is_legacy_torch = magic[0] == 0x80 && magic[1] == 0x02 && magic[2] == 0x8a && magic[3] == 0x0a;
  const auto ext = path.extension();
  if (is_zip || is_legacy_torch || ext == ".bin" || ext == ".pt" || ext == ".pth") return open_pytorch_bin(path);
  return SafetensorsFile::open(path);
}

}  // namespace

void Checkpoint::Impl::add(const TensorSource& source, const StoredTensor& stored) {
  std::string name = canonical_name(stored.name);
  auto [it, inserted] =
      entries.emplace(name, Entry{{name, stored.name, stored.dtype, stored.shape, source.path()}, &source});
  TF_CHECK(inserted, source.path().string()
                         << ": tensor '" << stored.name << "' and tensor '" << it->second.info.stored_name
                         << "' (in " << it->second.info.file.string() << ") both load as '" << name
                         << "'");
}

const Checkpoint::Impl::Entry* Checkpoint::Impl::lookup(const std::string& requested,
                                                        std::string* alternative) const {
  const std::string name = canonical_name(requested);
  if (auto it = entries.find(name); it != entries.end()) return &it->second;
  if (base_prefix.empty()) return nullptr;
  const std::string dotted = base_prefix + ".";
  const std::string other = name.starts_with(dotted) ? name.substr(dotted.size()) : dotted + name;
  if (alternative) *alternative = other;
  auto it = entries.find(other);
  return it == entries.end() ? nullptr : &it->second;
}

const Checkpoint::Impl::Entry& Checkpoint::Impl::find(const std::string& requested) const {
  std::string alternative;
  if (const Entry* entry = lookup(requested, &alternative)) return *entry;
  TF_FAIL(source_description << ": tensor '" << requested << "' not found"
                             << (alternative.empty() ? "" : " (also looked for '" + alternative + "')"));
}

namespace {

// {"metadata": {...}, "weight_map": {"tensor name": "shard file name"}}.
void open_sharded(Checkpoint::Impl& impl, const fs::path& index_path) {
  const std::string index = index_path.string();
  nlohmann::json json = read_json_file(index_path);
  TF_CHECK(json.is_object(), index << ": not a JSON object");
  auto weight_map = json.find("weight_map");
  TF_CHECK(weight_map != json.end() && weight_map->is_object(),
           index << ": field 'weight_map' is missing or not an object");

  struct Shard {
    const TensorSource* source;
    std::map<std::string, const StoredTensor*> tensors;
  };
  std::map<std::string, Shard> shards;  // by file name
  for (const auto& [tensor, shard_value] : weight_map->items()) {
    TF_CHECK(shard_value.is_string(), index << ": field 'weight_map': tensor '" << tensor
                                            << "' maps to " << json_excerpt(shard_value)
                                            << ", not a file name");
    const std::string shard_name = shard_value.get<std::string>();
    // Shards live next to the index; a path elsewhere is refused.
    TF_CHECK(!shard_name.empty() && shard_name.find('/') == std::string::npos && shard_name != "." &&
                 shard_name != "..",
             index << ": field 'weight_map': tensor '" << tensor << "' maps to '" << shard_name
                   << "', which is not a file name in the index's directory");
    auto shard = shards.find(shard_name);
    if (shard == shards.end()) {
      fs::path shard_path = index_path.parent_path() / shard_name;
      // The name comes from the file: one the system cannot look up (too long)
      // is missing too, not a filesystem_error.
      std::error_code error;
      const bool present = fs::is_regular_file(shard_path, error);
      TF_CHECK(present, index << ": tensor '" << tensor << "' is in shard '" << shard_name << "', which is missing ("
                              << (error ? error.message() : shard_path.string()) << ")");
      impl.sources.push_back(open_weights_file(shard_path));
      const TensorSource& source = *impl.sources.back();
      for (const auto& [key, value] : source.metadata()) impl.metadata[key] = value;
      Shard opened{&source, {}};
      for (const auto& t : source.tensors()) opened.tensors[t.name] = &t;
      shard = shards.emplace(shard_name, std::move(opened)).first;
    }
    const TensorSource& source = *shard->second.source;
    auto stored = shard->second.tensors.find(tensor);
    TF_CHECK(stored != shard->second.tensors.end(),
             index << ": tensor '" << tensor << "' is listed in shard '" << shard_name
                   << "' but absent from " << source.path().string());
    impl.add(source, *stored->second);
  }
}

}  // namespace

Checkpoint Checkpoint::open(const fs::path& path) {
  Checkpoint ckpt;
  ckpt.impl_ = std::make_shared<Impl>();
  Impl& impl = *ckpt.impl_;
  TF_CHECK(fs::exists(path), path.string() << ": no such file or directory");

  fs::path weights = path;
  if (fs::is_directory(path)) {
    static const char* const kCandidates[] = {"model.safetensors", "model.safetensors.index.json",
                                              "pytorch_model.bin", "pytorch_model.bin.index.json"};
    weights.clear();
    for (const char* candidate : kCandidates) {
      if (fs::is_regular_file(path / candidate)) {
        weights = path / candidate;
        break;
      }
    }
    TF_CHECK(!weights.empty(), path.string() << ": no weights found: looked for model.safetensors, "
                                                "model.safetensors.index.json, pytorch_model.bin, "
                                                "pytorch_model.bin.index.json");
  }
  impl.source_description = weights.string();

  if (weights.string().ends_with(".json")) {
    open_sharded(impl, weights);
  } else {
    impl.sources.push_back(open_weights_file(weights));
    impl.metadata = impl.sources.back()->metadata();
    for (const auto& stored : impl.sources.back()->tensors()) impl.add(*impl.sources.back(), stored);
  }
  return ckpt;
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  for (const auto& [name, entry] : impl_->entries) out.push_back(name);
  return out;
}

bool Checkpoint::contains(const std::string& name) const { return !resolve(name).empty(); }

const TensorInfo& Checkpoint::info(const std::string& name) const { return impl_->find(name).info; }

Tensor Checkpoint::get(const std::string& name) const {
  const Impl::Entry& entry = impl_->find(name);
  mark_used(entry.info.name);
  return entry.source->load(entry.info.stored_name);
}

Tensor Checkpoint::get_f32(const std::string& name, const Shape& expected) const {
  const TensorInfo& info = this->info(name);
  TF_CHECK(info.shape == expected, info.file.string() << ": tensor '" << info.stored_name
                                                      << "': expected shape " << expected.str()
                                                      << ", found " << info.shape.str());
  TF_CHECK(dtype_is_float(info.dtype), info.file.string()
                                           << ": tensor '" << info.stored_name << "': dtype "
                                           << dtype_name(info.dtype)
                                           << " is not a floating-point type");
  return get(name).to(DType::F32);
}

void Checkpoint::set_base_prefix(const std::string& prefix) { impl_->base_prefix = prefix; }

std::string Checkpoint::resolve(const std::string& name) const {
  const Impl::Entry* entry = impl_->lookup(name);
  return entry ? entry->info.name : "";
}

std::string Checkpoint::source() const { return impl_->source_description; }

const std::map<std::string, std::string>& Checkpoint::metadata() const { return impl_->metadata; }

void Checkpoint::mark_used(const std::string& canonical_name) const {
  std::lock_guard lock(impl_->used_mutex);
  impl_->used.insert(canonical_name);
}

void Checkpoint::check_all_used(const std::vector<std::string>& ignorable_prefixes) const {
  std::vector<std::string> unused;
  {
    std::lock_guard lock(impl_->used_mutex);
    for (const auto& [name, entry] : impl_->entries) {
      if (impl_->used.count(name)) continue;
      bool ignorable = false;
      for (const auto& prefix : ignorable_prefixes) ignorable = ignorable || name.starts_with(prefix);
      if (!ignorable) unused.push_back(entry.info.stored_name);
    }
  }
  if (unused.empty()) return;
  std::ostringstream list;
  for (size_t i = 0; i < unused.size(); ++i) list << (i ? ", " : "") << "'" << unused[i] << "'";
  TF_FAIL(source() << ": " << unused.size() << " tensor" << (unused.size() == 1 ? "" : "s")
                   << " not used by the model: " << list.str());
}

}  // namespace tformer::io
