// pytorch_model.bin as written by torch.save (PyTorch >= 1.6): a zip archive
// holding <folder>/data.pkl (a pickle of the state dict whose tensors refer to
// storages by persistent id), <folder>/data/<key> (each storage's raw bytes,
// stored uncompressed) and <folder>/version. The folder name varies.
//
// The pickle is read by a safe unpickler that builds only the state dict:
// the only globals it accepts are the ones torch's tensor-rebuild protocol
// uses; anything else (os.system, builtins.eval, ...) is refused.
#pragma once
#include <filesystem>
#include <memory>

#include "tformer/io/tensor_source.h"

namespace tformer::io {

// Throws tformer::Error naming the file (and tensor) on anything unexpected,
// including the legacy non-zip torch.save format.
std::shared_ptr<TensorSource> open_pytorch_bin(const std::filesystem::path& path);

}  // namespace tformer::io
