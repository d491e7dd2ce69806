// Checkpoints: the tensors of a Hugging Face model directory, whatever file
// format holds them (model.safetensors, a sharded model.safetensors.index.json,
// pytorch_model.bin, or its sharded index), behind one lookup by name.
//
// Name remapping lives here and only here: old LayerNorm names (`gamma`,
// `beta`) are exposed as `weight`/`bias`, and a model's base prefix (`bert.`)
// may be present or absent in the file.
#pragma once
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tformer/core/tensor.h"
#include "tformer/io/weight_source.h"

namespace tformer::io {

struct TensorInfo {
  std::string name;         // canonical name (after remapping)
  std::string stored_name;  // as written in the file
  DType dtype;
  Shape shape;
  std::filesystem::path file;
};

class Checkpoint : public WeightSource {
 public:
  // `path` is a model directory or one weights file (.safetensors / .bin).
  // Throws tformer::Error naming the file and the tensor on any inconsistency.
  static Checkpoint open(const std::filesystem::path& path);

  // Names (canonical), sorted.
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const override;
  const TensorInfo& info(const std::string& name) const;
  // The tensor in its stored dtype; a view into the memory map when possible
  // (writable: the map is copy-on-write, the file never changes). Marks the
  // tensor used. A missing name is an Error naming the file and the tensor.
  Tensor get(const std::string& name) const;
  // The tensor converted to fp32 (a no-copy view when already fp32), with its
  // shape checked against `expected`: a mismatch names the file and tensor.
  Tensor get_f32(const std::string& name, const Shape& expected) const override;

  // The model's base prefix ("bert"): a name asked for as "bert.x" also finds
  // a stored "x", and "x" finds "bert.x".
  void set_base_prefix(const std::string& prefix);
  // Resolves a requested name to the canonical name present, or "" if absent.
  std::string resolve(const std::string& name) const;

  // Which files the tensors came from, for messages ("dir/model.safetensors").
  std::string source() const override;
  // safetensors `__metadata__` (merged across shards); empty for .bin.
  const std::map<std::string, std::string>& metadata() const;

  // Tracks which tensors a model took, to report unexpected ones (get and
  // get_f32 mark what they return; mark_used is for tensors taken otherwise).
  void mark_used(const std::string& canonical_name) const;
  // Throws naming every stored tensor not taken, except those starting with
  // one of `ignorable_prefixes` (e.g. pre-training heads "cls.").
  void check_all_used(const std::vector<std::string>& ignorable_prefixes) const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace tformer::io
