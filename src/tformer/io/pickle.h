// A safe unpickler: it understands the data opcodes of pickle protocols 2-5
// (what torch.save writes) and builds plain values. It never imports or calls
// anything itself: GLOBAL, REDUCE, BUILD and persistent ids go to hooks that
// the caller supplies, so what a pickle may construct is exactly what the
// hooks allow (an unset hook refuses the opcode).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace tformer::io {

struct PickleValue;
using PickleValuePtr = std::shared_ptr<PickleValue>;

struct PickleValue {
  enum class Kind { None, Bool, Int, Float, String, Bytes, Tuple, List, Dict, Global, Object };
  Kind kind = Kind::None;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0;
  std::string text;                    // String, Bytes
  std::vector<PickleValuePtr> items;   // Tuple, List
  std::vector<std::pair<PickleValuePtr, PickleValuePtr>> entries;  // Dict, in pickle order
  std::string module, name;            // Global (what find_class accepted)
  std::shared_ptr<const void> object;  // Object: made by a hook; `name` says what it is

  bool is(Kind k) const { return kind == k; }
  std::string describe() const;  // for messages: "int", "str 'abc'", "global 'a.b'"
};

struct PickleHooks {
  // GLOBAL / STACK_GLOBAL: the value standing for module.name, or throw.
  std::function<PickleValuePtr(const std::string& module, const std::string& name)> find_class;
  // BINPERSID.
  std::function<PickleValuePtr(const PickleValuePtr& pid)> persistent_load;
  // REDUCE and NEWOBJ: callable(*args).
  std::function<PickleValuePtr(const PickleValuePtr& callable, const PickleValuePtr& args)> call;
  // BUILD: obj.__setstate__(state); may leave obj unchanged.
  std::function<void(const PickleValuePtr& obj, const PickleValuePtr& state)> build;
};

class Unpickler {
 public:
  // `origin` prefixes every error message (the file the pickle came from).
  Unpickler(std::span<const uint8_t> bytes, PickleHooks hooks, std::string origin);
  // Empties every container it created: this breaks reference cycles a
  // hostile pickle can make, and keeps destruction of deeply nested values
  // from recursing. Values from load() are only valid while it lives.
  ~Unpickler();
  Unpickler(const Unpickler&) = delete;
  Unpickler& operator=(const Unpickler&) = delete;

  // Runs to STOP and returns the result. Throws tformer::Error
  // "origin: pickle: <what> at byte N" on anything malformed.
  PickleValuePtr load();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tformer::io
