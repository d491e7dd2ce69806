#include "tformer/io/pytorch_bin.h"

#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "tformer/core/checked_size.h"
#include "tformer/core/error.h"
#include "tformer/io/mapped_file.h"
#include "tformer/io/pickle.h"
#include "tformer/io/zip_reader.h"

namespace tformer::io {

namespace {

using Kind = PickleValue::Kind;

// One storage a tensor refers to: ('storage', torch.FloatStorage, '0', 'cpu', numel).
struct StorageRef {
  std::string key;  // entry <folder>/data/<key>
  DType dtype;
  int64_t numel;
};

// The arguments of torch._utils._rebuild_tensor_v2 that define the data.
struct TensorRecord {
  std::shared_ptr<const StorageRef> storage;
  int64_t offset = 0;  // in elements
  std::vector<int64_t> size, stride;
  int64_t extent = 0;  // elements of the storage the view spans (add_tensor checks it)
};

// The typed storage classes torch.save names, and what they hold.
std::optional<DType> storage_dtype(const std::string& qualified_name) {
  static const std::map<std::string, DType> kStorages = {
      {"torch.FloatStorage", DType::F32},  {"torch.DoubleStorage", DType::F64},
      {"torch.HalfStorage", DType::F16},   {"torch.BFloat16Storage", DType::BF16},
      {"torch.LongStorage", DType::I64},   {"torch.IntStorage", DType::I32},
      {"torch.ShortStorage", DType::I16},  {"torch.CharStorage", DType::I8},
      {"torch.ByteStorage", DType::U8},    {"torch.BoolStorage", DType::Bool},
  };
  auto it = kStorages.find(qualified_name);
  return it == kStorages.end() ? std::nullopt : std::optional(it->second);
}

// Everything a state dict's pickle may name; all else is refused.
bool is_allowed_global(const std::string& qualified_name) {
  static const std::unordered_set<std::string> kCallables = {
      "collections.OrderedDict",
      "torch._utils._rebuild_tensor_v2",
      "torch._utils._rebuild_parameter",
      "torch._utils._rebuild_parameter_with_state",
  };
  return kCallables.count(qualified_name) || storage_dtype(qualified_name).has_value();
}

bool is_contiguous(const std::vector<int64_t>& size, const std::vector<int64_t>& stride) {
  int64_t expected = 1;
  for (size_t i = size.size(); i-- > 0;) {
    if (size[i] == 0) return true;
    if (size[i] != 1 && stride[i] != expected) return false;  // size-1 dims may have any stride
    expected *= size[i];
  }
  return true;
}

// Copies the strided elements of `src` into contiguous `dst`, row-major.
void gather_strided(const uint8_t* src, size_t elem, const std::vector<int64_t>& size,
                    const std::vector<int64_t>& stride, uint8_t* dst) {
  const int64_t numel = Shape(size).numel();
  std::vector<int64_t> index(size.size(), 0);
  int64_t offset = 0;  // in elements, for the current index
  for (int64_t n = 0; n < numel; ++n) {
    std::memcpy(dst + n * elem, src + offset * elem, elem);
    for (size_t d = size.size(); d-- > 0;) {
      if (++index[d] < size[d]) {
        offset += stride[d];
        break;
      }
      offset -= stride[d] * (size[d] - 1);
      index[d] = 0;
    }
  }
}

class PytorchBinFile : public TensorSource {
 public:
  explicit PytorchBinFile(const std::filesystem::path& path);
  const std::filesystem::path& path() const override { return file_->path(); }
  const std::vector<StoredTensor>& tensors() const override { return tensors_; }
  Tensor load(const std::string& name) const override;
  const std::map<std::string, std::string>& metadata() const override { return no_metadata_; }

 private:
  [[noreturn]] void fail(const std::string& what) const { TF_FAIL(name_ << ": " << what); }
  PickleHooks hooks();
  PickleValuePtr rebuild_tensor(const PickleValue& args);
  void add_tensor(const std::string& name, TensorRecord record);
  // The storage's bytes: in the map when stored, else inflated (and cached).
  struct StorageBytes {
    std::span<const uint8_t> bytes;
    bool in_map;  // may be handed out as a view
  };
  StorageBytes storage_bytes(const StorageRef& storage) const;

  std::string name_;
  std::shared_ptr<MappedFile> file_;
  std::unique_ptr<ZipReader> zip_;
  std::string folder_;  // "archive/"
  std::vector<StoredTensor> tensors_;
  std::vector<TensorRecord> records_;
  std::unordered_map<std::string, size_t> index_;
  std::map<std::string, std::string> no_metadata_;
  mutable std::mutex inflated_mutex_;
  mutable std::map<std::string, std::vector<uint8_t>> inflated_;  // deflated storages, by entry
};

PytorchBinFile::PytorchBinFile(const std::filesystem::path& path)
    : name_(path.string()), file_(MappedFile::open(path)) {
  if (!looks_like_zip(file_->bytes())) {
    // Before PyTorch 1.6, torch.save wrote a pickle starting with a magic number.
    static const uint8_t kLegacyMagic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8};
    const bool legacy = file_->size() >= sizeof kLegacyMagic &&
                        std::memcmp(file_->data(), kLegacyMagic, sizeof kLegacyMagic) == 0;
    fail(std::string(legacy ? "legacy (pre-1.6, non-zip) torch.save format is not supported"
                            : "not a torch.save zip archive") +
         "; re-save it with torch.save(model.state_dict(), path) from PyTorch >= 1.6, or as "
         "safetensors with model.save_pretrained(dir, safe_serialization=True)");
  }
  zip_ = std::make_unique<ZipReader>(file_);

  const ZipEntry* pickle_entry = nullptr;
  for (const auto& e : zip_->entries()) {
    const size_t slash = e.name.find('/');
    if (slash != std::string::npos && e.name.substr(slash + 1) == "data.pkl") {
      pickle_entry = &e;
      folder_ = e.name.substr(0, slash + 1);
      break;
    }
  }
  if (!pickle_entry) fail("no <folder>/data.pkl in the zip archive: not a torch.save file");
  if (const ZipEntry* order = zip_->find(folder_ + "byteorder")) {
    std::vector<uint8_t> text = zip_->read(*order);
    if (std::string(text.begin(), text.end()) != "little") fail("big-endian checkpoints are not supported");
  }

  const std::vector<uint8_t> pickle_bytes = zip_->read(*pickle_entry);
  Unpickler unpickler(pickle_bytes, hooks(), name_);
  PickleValuePtr state_dict = unpickler.load();
  if (!state_dict->is(Kind::Dict)) fail("data.pkl holds " + state_dict->describe() + ", not a state dict");
  for (const auto& [key, value] : state_dict->entries) {
    if (!key->is(Kind::String)) fail("state dict key " + key->describe() + " is not a string");
    if (!value->is(Kind::Object) || value->name != "tensor")
      fail("tensor '" + key->text + "': value is " + value->describe() + ", not a tensor");
    add_tensor(key->text, *static_cast<const TensorRecord*>(value->object.get()));
  }
}

PickleHooks PytorchBinFile::hooks() {
  PickleHooks hooks;
  hooks.find_class = [this](const std::string& module, const std::string& name) {
    const std::string qualified = module + "." + name;
    if (!is_allowed_global(qualified))
      fail("refusing to load global '" + qualified + "': only tensor data is allowed");
    auto v = std::make_shared<PickleValue>();
    v->kind = Kind::Global;
    v->module = module;
    v->name = name;
    return v;
  };
  hooks.persistent_load = [this](const PickleValuePtr& pid) {
    const auto& f = pid->items;
    if (!pid->is(Kind::Tuple) || f.size() != 5 || !f[0]->is(Kind::String) || f[0]->text != "storage" ||
        !f[1]->is(Kind::Global) || !f[2]->is(Kind::String) || !f[4]->is(Kind::Int) || f[4]->integer < 0)
      fail("unexpected persistent id " + pid->describe() +
           " (expected ('storage', type, key, location, numel))");
    auto dtype = storage_dtype(f[1]->module + "." + f[1]->name);
    if (!dtype) fail("storage '" + f[2]->text + "': unsupported storage type " + f[1]->describe());
    auto v = std::make_shared<PickleValue>();
    v->kind = Kind::Object;
    v->name = "storage";
    v->object = std::make_shared<const StorageRef>(StorageRef{f[2]->text, *dtype, f[4]->integer});
    return v;
  };
  hooks.call = [this](const PickleValuePtr& callable, const PickleValuePtr& args) {
    const std::string qualified =
        callable->is(Kind::Global) ? callable->module + "." + callable->name : callable->describe();
    const auto& a = args->items;
    if (qualified == "collections.OrderedDict" && a.empty()) {
      auto v = std::make_shared<PickleValue>();
      v->kind = Kind::Dict;
      return v;
    }
    if (qualified == "torch._utils._rebuild_tensor_v2") return rebuild_tensor(*args);
    // _rebuild_parameter(data, requires_grad, backward_hooks[, state]): the data is all we keep.
    if ((qualified == "torch._utils._rebuild_parameter" ||
         qualified == "torch._utils._rebuild_parameter_with_state") &&
        !a.empty() && a[0]->is(Kind::Object) && a[0]->name == "tensor")
      return a[0];
    fail("refusing to call " + qualified + " with " + args->describe() + ": only tensor data is allowed");
  };
  hooks.build = [this](const PickleValuePtr& obj, const PickleValuePtr&) {
    // An OrderedDict's state (its _metadata attribute) is of no use to us.
    if (!obj->is(Kind::Dict) && !(obj->is(Kind::Object) && obj->name == "tensor"))
      fail("refusing to set the state of " + obj->describe());
  };
  return hooks;
}

// _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
//                    backward_hooks[, metadata])
PickleValuePtr PytorchBinFile::rebuild_tensor(const PickleValue& args) {
  const auto& a = args.items;
  auto int_tuple = [](const PickleValuePtr& v, std::vector<int64_t>& out) {
    if (!v->is(Kind::Tuple)) return false;
    for (const auto& item : v->items) {
      if (!item->is(Kind::Int)) return false;
      out.push_back(item->integer);
    }
    return true;
  };
  TensorRecord record;
  if ((a.size() != 6 && a.size() != 7) || !a[0]->is(Kind::Object) || a[0]->name != "storage" ||
      !a[1]->is(Kind::Int) || !int_tuple(a[2], record.size) || !int_tuple(a[3], record.stride) ||
      record.size.size() != record.stride.size())
    fail("malformed _rebuild_tensor_v2 arguments " + args.describe());
  record.storage = std::static_pointer_cast<const StorageRef>(a[0]->object);
  record.offset = a[1]->integer;
  auto v = std::make_shared<PickleValue>();
  v->kind = Kind::Object;
  v->name = "tensor";
  v->object = std::make_shared<const TensorRecord>(std::move(record));
  return v;
}

void PytorchBinFile::add_tensor(const std::string& name, TensorRecord record) {
  const std::string tensor = "tensor '" + name + "'";
  const std::string where = name_ + ": " + tensor;  // for the checks that do not go through fail()
  const StorageRef& storage = *record.storage;
  if (record.size.size() > static_cast<size_t>(kMaxDims))
    fail(tensor + ": rank " + std::to_string(record.size.size()) + " exceeds " + std::to_string(kMaxDims));
  // The view must lie inside its storage, and the storage inside its entry:
  // load() then reads nothing it was not given.
  record.extent = checked_view_extent(record.offset, record.size, record.stride, where);
  if (record.extent > storage.numel)
    fail(tensor + ": view reaches element " + std::to_string(record.extent - 1) + " of storage '" +
         storage.key + "', which has " + std::to_string(storage.numel));
  const size_t storage_bytes =
      checked_nbytes(storage.numel, dtype_size(storage.dtype), where + ": storage '" + storage.key + "'");
  const ZipEntry* entry = zip_->find(folder_ + "data/" + storage.key);
  if (!entry)
    fail(tensor + ": storage '" + folder_ + "data/" + storage.key + "' is missing from the archive");
  if (entry->uncompressed_size < storage_bytes)
    fail(tensor + ": storage '" + entry->name + "' has " + std::to_string(entry->uncompressed_size) +
         " bytes, fewer than its " + std::to_string(storage.numel) + " elements need");
  StoredTensor stored{name, storage.dtype, Shape(record.size)};
  if (auto it = index_.find(name); it != index_.end()) {  // a repeated key: the last one wins, as in Python
    tensors_[it->second] = std::move(stored);
    records_[it->second] = std::move(record);
    return;
  }
  index_[name] = tensors_.size();
  tensors_.push_back(std::move(stored));
  records_.push_back(std::move(record));
}

PytorchBinFile::StorageBytes PytorchBinFile::storage_bytes(const StorageRef& storage) const {
  const ZipEntry& entry = *zip_->find(folder_ + "data/" + storage.key);
  if (entry.method == 0) return {zip_->stored_bytes(entry), true};
  std::lock_guard lock(inflated_mutex_);
  auto& inflated = inflated_[entry.name];
  if (inflated.empty() && entry.uncompressed_size > 0) inflated = zip_->read(entry);
  return {inflated, false};
}

Tensor PytorchBinFile::load(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) fail("tensor '" + name + "' not found");
  const TensorRecord& record = records_[it->second];
  const StoredTensor& info = tensors_[it->second];
  const size_t elem = dtype_size(info.dtype);
  if (info.shape.numel() == 0) return Tensor::empty(info.shape, info.dtype);
  const StorageBytes storage = storage_bytes(*record.storage);
  // add_tensor checked the view against the storage's declared size and that
  // against the entry; the bytes at hand are checked once more, since the
  // copy below trusts them.
  if (storage.bytes.size() / elem < static_cast<uint64_t>(record.extent))
    fail("tensor '" + name + "': storage '" + record.storage->key + "' holds fewer elements than its view needs");
  const uint8_t* first = storage.bytes.data() + record.offset * elem;
  if (storage.in_map && is_contiguous(record.size, record.stride) &&
      reinterpret_cast<uintptr_t>(first) % elem == 0)
    return Tensor::borrow(file_, file_->mutable_data() + (first - file_->data()), info.shape, info.dtype);
  // A strided view (a transpose, a slice of a shared storage), misaligned or
  // inflated data: copy it into a contiguous tensor of its own.
  Tensor copy = Tensor::empty(info.shape, info.dtype);
  gather_strided(first, elem, record.size, record.stride, static_cast<uint8_t*>(copy.raw()));
  return copy;
}

}  // namespace

std::shared_ptr<TensorSource> open_pytorch_bin(const std::filesystem::path& path) {
  return std::make_shared<PytorchBinFile>(path);
}

}  // namespace tformer::io
