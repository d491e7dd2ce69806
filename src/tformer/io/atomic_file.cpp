#include "tformer/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "tformer/core/error.h"

namespace tformer::io {

namespace {
std::filesystem::path parent_dir(const std::filesystem::path& path) {
  auto dir = path.parent_path();
  return dir.empty() ? std::filesystem::path(".") : dir;
}
}  // namespace

AtomicFile::AtomicFile(const std::filesystem::path& path) : path_(path) {
  // Same directory as the destination, so rename() never crosses filesystems.
  std::string temp_name = ".";  // hidden; built piecewise (GCC 12 misfires -Wrestrict on "." + s)
  temp_name += path.filename().string();
  temp_name += ".tmp.XXXXXX";
  std::string pattern = (parent_dir(path) / temp_name).string();
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  fd_ = ::mkstemp(name.data());
  TF_CHECK(fd_ >= 0, path.string() << ": cannot create a temporary file to write it: "
                                   << std::strerror(errno));
  temp_path_ = name.data();
  // mkstemp creates 0600; give the file the permissions a plain create would.
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd_, 0666 & ~mask);
}

AtomicFile::~AtomicFile() {
  if (!committed_) discard();
}

void AtomicFile::discard() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
}

void AtomicFile::write(const void* data, size_t n) {
  TF_CHECK(fd_ >= 0 && !committed_, path_.string() << ": write after commit");
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0 && errno == EINTR) continue;
    TF_CHECK(w > 0, path_.string() << ": write failed: " << std::strerror(errno));
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void AtomicFile::commit() {
  TF_CHECK(fd_ >= 0 && !committed_, path_.string() << ": commit called twice");
  TF_CHECK(::fsync(fd_) == 0, path_.string() << ": fsync failed: " << std::strerror(errno));
  int rc = ::close(fd_);
  fd_ = -1;
  TF_CHECK(rc == 0, path_.string() << ": close failed: " << std::strerror(errno));
  TF_CHECK(::rename(temp_path_.c_str(), path_.c_str()) == 0,
           path_.string() << ": cannot rename the temporary file into place: " << std::strerror(errno));
  committed_ = true;
  // The rename is only durable once the directory entry is on disk.
  int dir_fd = ::open(parent_dir(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

void write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
  AtomicFile file(path);
  file.write(contents);
  file.commit();
}

}  // namespace tformer::io
