// Errors: one exception type whose message names where the problem is
// (file → field → reason), so a user can act on it without a debugger.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace tformer {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {
[[noreturn]] inline void throw_error(const std::ostringstream& os) { throw Error(os.str()); }
}  // namespace detail

}  // namespace tformer

// TF_CHECK(cond, "file.safetensors: tensor 'x': " << detail): throws tformer::Error when cond is false.
#define TF_CHECK(cond, msg)                          \
  do {                                               \
    if (!(cond)) {                                   \
      std::ostringstream tf_check_os_;               \
      tf_check_os_ << msg;                           \
      ::tformer::detail::throw_error(tf_check_os_);  \
    }                                                \
  } while (0)

#define TF_FAIL(msg) TF_CHECK(false, msg)
