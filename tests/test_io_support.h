// Helpers shared by the io tests (tests/test_io_*.cpp).
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <random>
#include <string>

#include "tformer/core/error.h"

namespace tformer::io::testing {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("tformer_io_test_" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

inline void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline fs::path shared_fixture(const std::string& relative) {
  return fs::path(TFORMER_SHARED_DIR) / "fixtures" / relative;
}

inline fs::path io_test_data(const std::string& name) {
  return fs::path(TFORMER_SOURCE_DIR) / "tests" / "data" / "io" / name;
}

// Runs `action`, which must throw tformer::Error whose message contains every
// one of `fragments` (the file name, the tensor or field, the reason).
inline void expect_error(const std::function<void()>& action, std::initializer_list<std::string> fragments) {
  try {
    action();
  } catch (const tformer::Error& e) {
    const std::string message = e.what();
    for (const auto& fragment : fragments)
      EXPECT_NE(message.find(fragment), std::string::npos)
          << "message lacks '" << fragment << "': " << message;
    return;
  }
  ADD_FAILURE() << "expected a tformer::Error";
}

}  // namespace tformer::io::testing
