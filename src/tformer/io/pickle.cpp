#include "tformer/io/pickle.h"

#include <cstring>
#include <sstream>
#include <unordered_map>

#include "tformer/core/error.h"

namespace tformer::io {

std::string PickleValue::describe() const {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return boolean ? "True" : "False";
    case Kind::Int: return "int " + std::to_string(integer);
    case Kind::Float: return "float";
    case Kind::String: return "str '" + text.substr(0, 64) + "'";
    case Kind::Bytes: return "bytes";
    case Kind::Tuple: return "tuple of " + std::to_string(items.size());
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Global: return "global '" + module + "." + name + "'";
    case Kind::Object: return name;
  }
  return "?";
}

namespace {

// Opcodes, as named in CPython's Lib/pickle.py.
enum Op : uint8_t {
  MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', DUP = '2', NONE = 'N', BININT = 'J',
  BININT1 = 'K', BININT2 = 'M', BINFLOAT = 'G', BINSTRING = 'T', SHORT_BINSTRING = 'U',
  BINUNICODE = 'X', BINBYTES = 'B', SHORT_BINBYTES = 'C', EMPTY_TUPLE = ')', TUPLE = 't',
  EMPTY_LIST = ']', APPEND = 'a', APPENDS = 'e', LIST = 'l', EMPTY_DICT = '}', DICT = 'd',
  SETITEM = 's', SETITEMS = 'u', BINPUT = 'q', LONG_BINPUT = 'r', BINGET = 'h', LONG_BINGET = 'j',
  GLOBAL = 'c', REDUCE = 'R', BUILD = 'b', BINPERSID = 'Q',
  PROTO = 0x80, NEWOBJ = 0x81, TUPLE1 = 0x85, TUPLE2 = 0x86, TUPLE3 = 0x87, NEWTRUE = 0x88,
  NEWFALSE = 0x89, LONG1 = 0x8a, LONG4 = 0x8b, SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d,
  BINBYTES8 = 0x8e, STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95,
};

}  // namespace

class Unpickler::Impl {
 public:
  Impl(std::span<const uint8_t> bytes, PickleHooks hooks, std::string origin)
      : bytes_(bytes), hooks_(std::move(hooks)), origin_(std::move(origin)) {}

  ~Impl() {
    for (auto& c : containers_) {
      c->items.clear();
      c->entries.clear();
    }
  }

  PickleValuePtr load();

 private:
  [[noreturn]] void fail(const std::string& what) const {
    TF_FAIL(origin_ << ": pickle: " << what << " at byte " << op_pos_);
  }
  const uint8_t* take(uint64_t n) {
    if (n > bytes_.size() - pos_) fail("truncated data (needs " + std::to_string(n) + " more bytes)");
    const uint8_t* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }
  uint64_t read_uint(int width) {
    const uint8_t* p = take(width);
    uint64_t v = 0;
    for (int i = width - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
  }
  std::string read_text(uint64_t n) {
    const uint8_t* p = take(n);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  std::string read_line() {
    std::string line;
    for (;;) {
      char c = static_cast<char>(*take(1));
      if (c == '\n') return line;
      line.push_back(c);
    }
  }
  // Two's-complement little-endian integer of n bytes (LONG1/LONG4).
  int64_t read_long(uint64_t n) {
    if (n > 8) fail("integer of " + std::to_string(n) + " bytes is too large");
    const uint8_t* p = take(n);
    uint64_t v = 0;
    for (uint64_t i = n; i-- > 0;) v = (v << 8) | p[i];
    if (n > 0 && n < 8 && (p[n - 1] & 0x80)) v |= ~uint64_t{0} << (8 * n);
    return static_cast<int64_t>(v);
  }

  PickleValuePtr make(PickleValue::Kind kind) {
    auto v = std::make_shared<PickleValue>();
    v->kind = kind;
    return track(std::move(v));
  }
  // Remembers containers (ours or a hook's) so ~Impl can empty them.
  PickleValuePtr track(PickleValuePtr v) {
    if (!v) fail("a hook returned nothing");
    if (v->is(PickleValue::Kind::Tuple) || v->is(PickleValue::Kind::List) ||
        v->is(PickleValue::Kind::Dict))
      containers_.push_back(v);
    return v;
  }
  PickleValuePtr make_int(int64_t i) {
    auto v = make(PickleValue::Kind::Int);
    v->integer = i;
    return v;
  }
  PickleValuePtr make_text(PickleValue::Kind kind, std::string s) {
    auto v = make(kind);
    v->text = std::move(s);
    return v;
  }

  void push(PickleValuePtr v) { stack_.push_back(std::move(v)); }
  PickleValuePtr pop() {
    if (stack_.size() <= stack_floor()) fail("stack underflow");
    auto v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  PickleValuePtr& top() {
    if (stack_.size() <= stack_floor()) fail("stack underflow");
    return stack_.back();
  }
  size_t stack_floor() const { return marks_.empty() ? 0 : marks_.back(); }
  // Everything pushed since the last MARK, which is removed.
  std::vector<PickleValuePtr> pop_to_mark() {
    if (marks_.empty()) fail("no MARK on the stack");
    std::vector<PickleValuePtr> items(stack_.begin() + marks_.back(), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  PickleValuePtr make_tuple(std::vector<PickleValuePtr> items) {
    auto t = make(PickleValue::Kind::Tuple);
    t->items = std::move(items);
    return t;
  }
  void append_to(const PickleValuePtr& list, std::vector<PickleValuePtr> items) {
    if (!list->is(PickleValue::Kind::List)) fail("APPEND to " + list->describe() + ", not a list");
    for (auto& i : items) list->items.push_back(std::move(i));
  }
  void set_items(const PickleValuePtr& dict, std::vector<PickleValuePtr> kv) {
    if (!dict->is(PickleValue::Kind::Dict)) fail("SETITEM on " + dict->describe() + ", not a dict");
    if (kv.size() % 2) fail("SETITEMS with an odd number of items");
    for (size_t i = 0; i < kv.size(); i += 2) dict->entries.emplace_back(kv[i], kv[i + 1]);
  }
  void memo_put(uint64_t index) { memo_[index] = top(); }
  PickleValuePtr memo_get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) fail("memo entry " + std::to_string(index) + " used before it was set");
    return it->second;
  }
  PickleValuePtr global(const std::string& module, const std::string& name) {
    if (!hooks_.find_class) fail("global '" + module + "." + name + "' is not allowed");
    return track(hooks_.find_class(module, name));
  }
  PickleValuePtr call(const PickleValuePtr& callable, const PickleValuePtr& args) {
    if (!args->is(PickleValue::Kind::Tuple)) fail("call arguments are " + args->describe());
    if (!hooks_.call) fail("calling " + callable->describe() + " is not allowed");
    return track(hooks_.call(callable, args));
  }

  std::span<const uint8_t> bytes_;
  PickleHooks hooks_;
  std::string origin_;
  uint64_t pos_ = 0, op_pos_ = 0;
  std::vector<PickleValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PickleValuePtr> memo_;
  std::vector<PickleValuePtr> containers_;
};

PickleValuePtr Unpickler::Impl::load() {
  using K = PickleValue::Kind;
  for (;;) {
    op_pos_ = pos_;
    const uint8_t op = *take(1);
    switch (op) {
      case PROTO: {
        uint64_t version = read_uint(1);
        if (version > 5) fail("unsupported protocol " + std::to_string(version));
        break;
      }
      case FRAME: read_uint(8); break;  // framing is only a read-ahead hint
      case STOP: {
        auto result = pop();
        if (!stack_.empty() || !marks_.empty()) fail("values left on the stack at STOP");
        return result;
      }
      case MARK: marks_.push_back(stack_.size()); break;
      case POP: pop(); break;
      case POP_MARK: pop_to_mark(); break;
      case DUP: push(top()); break;
      case NONE: push(make(K::None)); break;
      case NEWTRUE:
      case NEWFALSE: {
        auto v = make(K::Bool);
        v->boolean = op == NEWTRUE;
        push(v);
        break;
      }
      case BININT: push(make_int(static_cast<int32_t>(read_uint(4)))); break;
      case BININT1: push(make_int(static_cast<int64_t>(read_uint(1)))); break;
      case BININT2: push(make_int(static_cast<int64_t>(read_uint(2)))); break;
      case LONG1: push(make_int(read_long(read_uint(1)))); break;
      case LONG4: push(make_int(read_long(read_uint(4)))); break;
      case BINFLOAT: {
        uint64_t bits = 0;
        for (const uint8_t* p = take(8), *end = p + 8; p < end; ++p) bits = (bits << 8) | *p;  // big-endian
        auto v = make(K::Float);
        std::memcpy(&v->real, &bits, 8);
        push(v);
        break;
      }
      case SHORT_BINUNICODE: push(make_text(K::String, read_text(read_uint(1)))); break;
      case BINUNICODE: push(make_text(K::String, read_text(read_uint(4)))); break;
      case BINUNICODE8: push(make_text(K::String, read_text(read_uint(8)))); break;
      case SHORT_BINSTRING: push(make_text(K::String, read_text(read_uint(1)))); break;
      case BINSTRING: push(make_text(K::String, read_text(read_uint(4)))); break;
      case SHORT_BINBYTES: push(make_text(K::Bytes, read_text(read_uint(1)))); break;
      case BINBYTES: push(make_text(K::Bytes, read_text(read_uint(4)))); break;
      case BINBYTES8: push(make_text(K::Bytes, read_text(read_uint(8)))); break;
      case EMPTY_TUPLE: push(make_tuple({})); break;
      case TUPLE: push(make_tuple(pop_to_mark())); break;
      case TUPLE1:
      case TUPLE2:
      case TUPLE3: {
        std::vector<PickleValuePtr> items(op - TUPLE1 + 1);
        for (size_t i = items.size(); i-- > 0;) items[i] = pop();
        push(make_tuple(std::move(items)));
        break;
      }
      case EMPTY_LIST: push(make(K::List)); break;
      case LIST: {
        auto list = make(K::List);
        list->items = pop_to_mark();
        push(list);
        break;
      }
      case APPEND: {
        auto item = pop();
        append_to(top(), {item});
        break;
      }
      case APPENDS: {
        auto items = pop_to_mark();
        append_to(top(), std::move(items));
        break;
      }
      case EMPTY_DICT: push(make(K::Dict)); break;
      case DICT: {
        auto dict = make(K::Dict);
        set_items(dict, pop_to_mark());
        push(dict);
        break;
      }
      case SETITEM: {
        auto value = pop();
        auto key = pop();
        set_items(top(), {key, value});
        break;
      }
      case SETITEMS: {
        auto kv = pop_to_mark();
        set_items(top(), std::move(kv));
        break;
      }
      case BINPUT: memo_put(read_uint(1)); break;
      case LONG_BINPUT: memo_put(read_uint(4)); break;
      case MEMOIZE: memo_put(memo_.size()); break;
      case BINGET: push(memo_get(read_uint(1))); break;
      case LONG_BINGET: push(memo_get(read_uint(4))); break;
      case GLOBAL: {
        std::string module = read_line();
        std::string name = read_line();
        push(global(module, name));
        break;
      }
      case STACK_GLOBAL: {
        auto name = pop();
        auto module = pop();
        if (!module->is(K::String) || !name->is(K::String)) fail("STACK_GLOBAL with non-string names");
        push(global(module->text, name->text));
        break;
      }
      case REDUCE:
      case NEWOBJ: {
        auto args = pop();
        auto callable = pop();
        push(call(callable, args));
        break;
      }
      case BUILD: {
        auto state = pop();
        if (!hooks_.build) fail("BUILD (setting object state) is not allowed");
        hooks_.build(top(), state);
        break;
      }
      case BINPERSID: {
        auto pid = pop();
        if (!hooks_.persistent_load) fail("persistent ids are not allowed");
        push(track(hooks_.persistent_load(pid)));
        break;
      }
      default: {
        std::ostringstream os;
        os << "unsupported opcode 0x" << std::hex << static_cast<int>(op);
        fail(os.str());
      }
    }
  }
}

Unpickler::Unpickler(std::span<const uint8_t> bytes, PickleHooks hooks, std::string origin)
    : impl_(std::make_unique<Impl>(bytes, std::move(hooks), std::move(origin))) {}
Unpickler::~Unpickler() = default;
PickleValuePtr Unpickler::load() { return impl_->load(); }

}  // namespace tformer::io
