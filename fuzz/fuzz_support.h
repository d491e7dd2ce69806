// Shared helpers of the libFuzzer targets in fuzz/ (built with
// -DTFORMER_BUILD_FUZZERS=ON, run by scripts/fuzz.sh).
//
// tformer's loaders take paths, so each target hands its input to the library
// as a user's file would reach it: in a memfd opened through /proc/self/fd/N,
// or, where the file name or its directory matters, as a named file in a
// per-process temporary directory that is rewritten on every run.
//
// A tformer::Error is the library rejecting bad input, which is fine; any
// other exception (std::bad_alloc, nlohmann::json's, std::out_of_range ...)
// escapes to libFuzzer and is reported as a finding, like a crash.
#pragma once
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "tformer/core/error.h"
#include "tformer/core/tensor.h"
#include "tformer/io/checkpoint.h"
#include "tformer/io/tensor_source.h"

namespace tformer_fuzz {

namespace fs = std::filesystem;

[[noreturn]] inline void die(const std::string& what) {
  std::fprintf(stderr, "fuzz target setup failed: %s\n", what.c_str());
  std::abort();
}

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs `body`, accepting a tformer::Error as the library's answer to bad input.
template <class Body>
void expect_only_tformer_errors(Body&& body) {
  try {
    body();
  } catch (const tformer::Error&) {
  }
}

// An in-memory file, reused from run to run: path() opens it like any file.
class MemFile {
 public:
  explicit MemFile(const char* name) : fd_(memfd_create(name, MFD_CLOEXEC)) {
    if (fd_ < 0) die(std::string("memfd_create: ") + std::strerror(errno));
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;

  const std::string& path() const { return path_; }
  // Replaces the file's contents with these bytes.
  void write(const void* data, size_t size) const {
    if (ftruncate(fd_, 0) != 0) die("ftruncate");
    for (size_t done = 0; done < size;) {
      const ssize_t n = pwrite(fd_, static_cast<const char*>(data) + done, size - done, done);
      if (n <= 0) die("pwrite");
      done += static_cast<size_t>(n);
    }
  }

 private:
  int fd_;
  std::string path_;
};

// A directory of its own for this process ($TMPDIR or /tmp), removed at exit.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/tformer-fuzz-XXXXXX";
    if (!mkdtemp(pattern.data())) die("mkdtemp " + pattern + ": " + std::strerror(errno));
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }
  // (Re)writes `name` in the directory with these bytes; returns its path.
  fs::path write(const std::string& name, const void* data, size_t size) const {
    const fs::path file = path_ / name;
    FILE* f = std::fopen(file.c_str(), "wb");
    if (!f) die("cannot write " + file.string());
    if (size && std::fwrite(data, 1, size, f) != size) die("short write to " + file.string());
    if (std::fclose(f) != 0) die("cannot close " + file.string());
    return file;
  }
  fs::path write(const std::string& name, std::string_view text) const {
    return write(name, text.data(), text.size());
  }
  void copy_in(const fs::path& from, const std::string& name) const {
    std::error_code ec;
    fs::copy_file(from, path_ / name, fs::copy_options::overwrite_existing, ec);
    if (ec) die("cannot copy " + from.string() + ": " + ec.message());
  }

 private:
  fs::path path_;
};

// ../shared beside the checkout (the reference vocabularies), or $TFORMER_SHARED_DIR.
inline fs::path shared_dir() {
  if (const char* dir = std::getenv("TFORMER_SHARED_DIR"); dir && *dir) return dir;
#ifdef TFORMER_SHARED_DIR
  return TFORMER_SHARED_DIR;
#else
  die("set TFORMER_SHARED_DIR to the shared/ folder");
#endif
}

// Reads every byte of a tensor, the way a model would: float types through
// to_vector (fp32 conversion, any strides), the rest byte by byte.
inline void touch(const tformer::Tensor& t) {
  volatile float sink = 0;
  if (tformer::dtype_is_float(t.dtype())) {
    float sum = 0;
    for (float v : t.to_vector()) sum += v;
    sink = sink + sum;
    return;
  }
  const tformer::Tensor c = t.contiguous();
  const auto* bytes = static_cast<const uint8_t*>(c.raw());
  uint32_t sum = 0;
  for (size_t i = 0, n = c.nbytes(); i < n; ++i) sum += bytes[i];
  sink = sink + static_cast<float>(sum);
}

// Loads and reads every tensor of one weights file.
inline void load_all(const tformer::io::TensorSource& source) {
  for (const auto& stored : source.tensors()) touch(source.load(stored.name));
}

// Loads every tensor of a checkpoint by its canonical name, as a model does
// (get_f32 for float tensors, get for the rest), after listing and looking
// each one up.
inline void load_all(const tformer::io::Checkpoint& checkpoint) {
  (void)checkpoint.source();
  for (const auto& [key, value] : checkpoint.metadata()) (void)(key.size() + value.size());
  for (const std::string& name : checkpoint.names()) {
    const tformer::io::TensorInfo& info = checkpoint.info(name);
    if (checkpoint.resolve(name) != name) die("Checkpoint::resolve('" + name + "') is not itself");
    if (tformer::dtype_is_float(info.dtype))
      touch(checkpoint.get_f32(name, info.shape));
    else
      touch(checkpoint.get(name));
  }
}

}  // namespace tformer_fuzz
