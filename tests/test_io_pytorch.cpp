// pytorch_model.bin (torch.save zip) and the safe unpickler. Test files come
// from tests/data/io/make_test_data.py.
#include <gtest/gtest.h>

#include "test_io_support.h"
#include "tformer/io/checkpoint.h"
#include "tformer/io/pickle.h"
#include "tformer/io/pytorch_bin.h"

using namespace tformer;
using namespace tformer::io;
using namespace tformer::io::testing;

namespace {

std::vector<float> floats(const TensorSource& source, const std::string& name) {
  return source.load(name).to_vector();
}

// Checks every tensor make_test_data.py saved, x[i][j] = 4*i + j.
void expect_test_state_dict(const TensorSource& source) {
  const std::string where = source.path().string();
  std::vector<float> x(12), xt, column, base(10);
  for (int i = 0; i < 12; ++i) x[i] = static_cast<float>(i);
  for (int j = 0; j < 4; ++j)
    for (int i = 0; i < 3; ++i) xt.push_back(x[i * 4 + j]);
  for (int i = 0; i < 3; ++i) column.push_back(x[i * 4 + 1]);
  for (int i = 0; i < 10; ++i) base[i] = static_cast<float>(i);

  EXPECT_EQ(floats(source, "contiguous"), x) << where;
  EXPECT_EQ(source.load("transposed").shape(), Shape({4, 3}));
  EXPECT_EQ(floats(source, "transposed"), xt);
  EXPECT_EQ(floats(source, "column"), column);
  EXPECT_EQ(floats(source, "base"), base);
  EXPECT_EQ(floats(source, "slice"), (std::vector<float>{2, 3, 4}));
  EXPECT_EQ(source.load("half").dtype(), DType::F16);
  EXPECT_EQ(floats(source, "half"), (std::vector<float>{0.5f, -1.25f, 3.0f}));
  EXPECT_EQ(source.load("bfloat").dtype(), DType::BF16);
  EXPECT_EQ(floats(source, "bfloat"), (std::vector<float>{0.5f, -1.25f, 3.0f}));
  Tensor longs = source.load("long");
  ASSERT_EQ(longs.dtype(), DType::I64);
  EXPECT_EQ(longs.data<int64_t>()[1], -2);
  EXPECT_EQ(longs.data<int64_t>()[2], int64_t{1} << 40);
  EXPECT_EQ(floats(source, "param"), (std::vector<float>{7, 8}));
  EXPECT_EQ(source.load("empty").shape(), Shape({0, 3}));
  EXPECT_EQ(source.load("scalar").shape(), Shape{});
  EXPECT_EQ(floats(source, "scalar"), (std::vector<float>{3.5f}));
}

// A string literal with embedded NULs, all of it.
template <size_t N>
std::string bytes_of(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

std::span<const uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

TEST(IoPytorchBin, StridedViewsOffsetsAndDtypesAreHonoured) {
  expect_test_state_dict(*open_pytorch_bin(io_test_data("strided.bin")));
}

TEST(IoPytorchBin, DeflatedEntriesAreInflated) {
  expect_test_state_dict(*open_pytorch_bin(io_test_data("deflated.bin")));
}

TEST(IoPytorchBin, LegacyFormatAsksToResave) {
  expect_error([] { open_pytorch_bin(io_test_data("legacy.bin")); }, {"legacy.bin", "legacy", "re-save"});
}

TEST(IoPytorchBin, OsSystemGlobalIsRefused) {
  expect_error([] { open_pytorch_bin(io_test_data("malicious_os_system.bin")); },
               {"malicious_os_system.bin: refusing to load global 'os.system': only tensor data is allowed"});
}

TEST(IoPytorchBin, BuiltinsEvalGlobalIsRefused) {
  expect_error([] { Checkpoint::open(io_test_data("malicious_eval.bin")); },
               {"malicious_eval.bin", "refusing to load global 'builtins.eval'"});
}

TEST(IoPytorchBin, MissingStorageEntryNamesTheTensor) {
  expect_error([] { open_pytorch_bin(io_test_data("missing_storage.bin")); },
               {"missing_storage.bin", "tensor 'w'", "storage", "missing from the archive"});
}

TEST(IoPytorchBin, TruncatedArchiveIsAnError) {
  TempDir dir;
  const std::string whole = read_bytes(shared_fixture("bert-tiny/pytorch_model_bin/pytorch_model.bin"));
  for (size_t keep : {whole.size() / 2, whole.size() - 10, size_t{3}, size_t{0}}) {
    write_bytes(dir / "pytorch_model.bin", whole.substr(0, keep));
    expect_error([&] { open_pytorch_bin(dir / "pytorch_model.bin"); }, {"pytorch_model.bin"});
  }
}

TEST(IoPytorchBin, CorruptPickleFailsItsChecksum) {
  TempDir dir;
  std::string bytes = read_bytes(io_test_data("strided.bin"));
  const size_t at = bytes.find("_rebuild_tensor_v2");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = 'X';
  write_bytes(dir / "corrupt.bin", bytes);
  expect_error([&] { open_pytorch_bin(dir / "corrupt.bin"); }, {"corrupt.bin", "data.pkl", "CRC"});
}

TEST(IoPytorchBin, NotAZipIsAnError) {
  TempDir dir;
  write_bytes(dir / "pytorch_model.bin", "this is not a checkpoint at all");
  expect_error([&] { Checkpoint::open(dir.path()); }, {"pytorch_model.bin", "not a torch.save zip archive"});
}

TEST(PickleUnpickler, ReadsPlainData) {
  // {'a': 1, 'b': [-2, 300, 2**40, -5], 'c': (None, 1.5, True), 'd': 'é'} (protocol 2)
  const std::string bytes = bytes_of(
      "\x80\x02}q\x00(X\x01\x00\x00\x00""aK\x01X\x01\x00\x00\x00""b]q\x01(J\xfe\xff\xff\xffM,\x01"
      "\x8a\x06\x00\x00\x00\x00\x00\x01\x8a\x01\xfb""eX\x01\x00\x00\x00""cNG?\xf8\x00\x00\x00\x00\x00\x00\x88"
      "\x87X\x01\x00\x00\x00""dX\x02\x00\x00\x00\xc3\xa9u.");
  Unpickler unpickler(as_bytes(bytes), {}, "test.pkl");
  PickleValuePtr dict = unpickler.load();
  ASSERT_TRUE(dict->is(PickleValue::Kind::Dict));
  ASSERT_EQ(dict->entries.size(), 4u);
  EXPECT_EQ(dict->entries[0].second->integer, 1);
  const auto& list = dict->entries[1].second->items;
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list[0]->integer, -2);
  EXPECT_EQ(list[1]->integer, 300);
  EXPECT_EQ(list[2]->integer, int64_t{1} << 40);
  EXPECT_EQ(list[3]->integer, -5);
  const auto& tuple = dict->entries[2].second->items;
  ASSERT_EQ(tuple.size(), 3u);
  EXPECT_TRUE(tuple[0]->is(PickleValue::Kind::None));
  EXPECT_EQ(tuple[1]->real, 1.5);
  EXPECT_TRUE(tuple[2]->is(PickleValue::Kind::Bool) && tuple[2]->boolean);
  EXPECT_EQ(dict->entries[3].second->text, "\xc3\xa9");
}

TEST(PickleUnpickler, GlobalsAreRefusedWithoutAHook) {
  const std::string bytes = bytes_of("\x80\x02" "cos\nsystem\n" "X\x02\x00\x00\x00ls\x85R.");
  Unpickler unpickler(as_bytes(bytes), {}, "evil.pkl");
  expect_error([&] { unpickler.load(); }, {"evil.pkl", "global 'os.system' is not allowed"});
}

TEST(PickleUnpickler, MalformedInputIsAnErrorWithItsPosition) {
  struct Case {
    std::string bytes, fragment;
  };
  const Case cases[] = {
      {bytes_of("\x80\x02X\xff\x00\x00\x00""ab"), "truncated"},
      {"\x80\x02.", "stack underflow"},
      {"\x80\x02h\x05.", "memo entry 5"},
      {"\x80\x02\xff", "unsupported opcode 0xff"},
      {"\x80\x02K\x01K\x02.", "left on the stack"},
      {"\x80\x02K\x01K\x02" "a.", "not a list"},
      {"\x80\x02t.", "no MARK"},
      {bytes_of("\x80\x02\x8a\x09\x01\x01\x01\x01\x01\x01\x01\x01\x01."), "too large"},
      {"", "truncated"},
  };
  for (const auto& c : cases) {
    Unpickler unpickler(as_bytes(c.bytes), {}, "bad.pkl");
    expect_error([&] { unpickler.load(); }, {"bad.pkl: pickle: ", c.fragment, "at byte"});
  }
}

TEST(PickleUnpickler, DeepNestingAndCyclesDoNotCrash) {
  // None wrapped in a million 1-tuples: destroying it must not recurse.
  std::string deep = "\x80\x02N" + std::string(1'000'000, '\x85') + ".";
  {
    Unpickler unpickler(as_bytes(deep), {}, "deep.pkl");
    EXPECT_TRUE(unpickler.load()->is(PickleValue::Kind::Tuple));
  }
  // l = []; l.append(l)
  const std::string cycle = bytes_of("\x80\x02]q\x00h\x00" "a.");
  Unpickler unpickler(as_bytes(cycle), {}, "cycle.pkl");
  PickleValuePtr list = unpickler.load();
  EXPECT_EQ(list->items.at(0), list);
}
