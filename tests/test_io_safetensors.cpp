// safetensors reader/writer, atomic writes and JSON files.
// GCC 12 reports a false -Wrestrict inside std::string code that gtest's
// INSTANTIATE_TEST_SUITE_P inlines (GCC bug 105329).
#pragma GCC diagnostic ignored "-Wrestrict"
#include <gtest/gtest.h>

#include <cstring>

#include "test_io_support.h"
#include "tformer/io/atomic_file.h"
#include "tformer/io/json_file.h"
#include "tformer/io/safetensors.h"

using namespace tformer;
using namespace tformer::io;
using namespace tformer::io::testing;

namespace {

// An 8-byte little-endian header length, the header, then `data_size` bytes.
std::string raw_safetensors(const std::string& header, size_t data_size, uint64_t declared_length) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((declared_length >> (8 * i)) & 0xff));
  return out + header + std::string(data_size, '\x01');
}
std::string raw_safetensors(const std::string& header, size_t data_size) {
  return raw_safetensors(header, data_size, header.size());
}

template <class T>
std::vector<T> values_of(const Tensor& t) {
  const T* p = static_cast<const T*>(t.raw());
  return std::vector<T>(p, p + t.numel());
}

}  // namespace

TEST(SafetensorsFile, RoundTripKeepsDtypesShapesValuesAndMetadata) {
  TempDir dir;
  Tensor f32 = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor transposed = f32.transpose(0, 1);  // written contiguous
  Tensor bf16 = f32.to(DType::BF16);
  Tensor f16 = Tensor::from_vector({0.5f, -2.0f, 1024.0f}, {3}).to(DType::F16);
  Tensor i64 = Tensor::empty({2}, DType::I64);
  i64.data<int64_t>()[0] = -7;
  i64.data<int64_t>()[1] = int64_t{1} << 40;
  Tensor byte = Tensor::zeros({3}, DType::U8);  // odd size: the writer must keep others aligned
  byte.data<uint8_t>()[1] = 200;
  Tensor empty = Tensor::empty({0, 4});

  const auto path = dir / "model.safetensors";
  save_safetensors(path,
                   {{"byte", byte}, {"f32", f32}, {"transposed", transposed}, {"bf16", bf16},
                    {"f16", f16}, {"i64", i64}, {"empty", empty}},
                   {{"format", "pt"}, {"note", "tformer test"}});

  const std::string bytes = read_bytes(path);
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  EXPECT_EQ(header_len % 8, 0u) << "header must be padded to a multiple of 8";

  auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file->metadata().at("format"), "pt");
  EXPECT_EQ(file->metadata().at("note"), "tformer test");
  ASSERT_EQ(file->tensors().size(), 7u);
  EXPECT_EQ(file->load("f32").to_vector(), f32.to_vector());
  EXPECT_EQ(file->load("transposed").shape(), Shape({3, 2}));
  EXPECT_EQ(file->load("transposed").to_vector(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(file->load("bf16").dtype(), DType::BF16);
  EXPECT_EQ(values_of<uint16_t>(file->load("bf16")), values_of<uint16_t>(bf16));
  EXPECT_EQ(values_of<uint16_t>(file->load("f16")), values_of<uint16_t>(f16));
  EXPECT_EQ(values_of<int64_t>(file->load("i64")), values_of<int64_t>(i64));
  EXPECT_EQ(values_of<uint8_t>(file->load("byte")), values_of<uint8_t>(byte));
  EXPECT_EQ(file->load("empty").shape(), Shape({0, 4}));
  for (const auto& t : file->tensors()) {
    Tensor loaded = file->load(t.name);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(loaded.raw()) % dtype_size(t.dtype), 0u) << t.name;
  }
}

TEST(SafetensorsFile, ViewsOfTheMapAreWritableWithoutTouchingTheFile) {
  TempDir dir;
  const auto path = dir / "w.safetensors";
  save_safetensors(path, {{"w", Tensor::from_vector({1, 2}, {2})}});
  const std::string before = read_bytes(path);
  auto file = SafetensorsFile::open(path);
  Tensor view = file->load("w");
  view.data<float>()[0] = 42;  // copy-on-write page
  EXPECT_EQ(file->load("w").data<float>()[0], 42);
  EXPECT_EQ(read_bytes(path), before);
}

TEST(SafetensorsFile, MisalignedTensorIsCopiedToAlignedMemory) {
  TempDir dir;
  const auto path = dir / "odd.safetensors";
  // A 1-byte tensor first puts the F32 tensor at data offset 1.
  std::string header =
      R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}})";
  std::string bytes = raw_safetensors(header, 0);
  bytes.push_back('\x07');
  const float values[2] = {1.5f, -3.0f};
  bytes.append(reinterpret_cast<const char*>(values), sizeof values);
  write_bytes(path, bytes);
  auto file = SafetensorsFile::open(path);
  Tensor b = file->load("b");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.raw()) % 4, 0u);
  EXPECT_EQ(b.to_vector(), (std::vector<float>{1.5f, -3.0f}));
  EXPECT_EQ(file->load("a").data<uint8_t>()[0], 7);
}

TEST(SafetensorsFile, SaveRefusesDuplicateNames) {
  TempDir dir;
  Tensor t = Tensor::zeros({1});
  expect_error([&] { save_safetensors(dir / "dup.safetensors", {{"x", t}, {"x", t}}); },
               {"dup.safetensors", "tensor 'x'", "twice"});
  EXPECT_FALSE(fs::exists(dir / "dup.safetensors"));
}

// Each hostile file must be refused with an Error naming the file and the
// offending tensor or field, never a crash.
struct HostileCase {
  const char* name;
  std::string bytes;
  std::vector<std::string> fragments;
};

// gtest prints a parameter in test listings (and ctest names); the case name
// reads better than its bytes.
void PrintTo(const HostileCase& c, std::ostream* os) { *os << c.name; }

class SafetensorsHostile : public ::testing::TestWithParam<HostileCase> {};

TEST_P(SafetensorsHostile, IsRefusedWithAMessageNamingFileAndField) {
  TempDir dir;
  const auto path = dir / "hostile.safetensors";
  write_bytes(path, GetParam().bytes);
  try {
    SafetensorsFile::open(path);
    ADD_FAILURE() << "expected a tformer::Error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("hostile.safetensors"), std::string::npos) << message;
    for (const auto& fragment : GetParam().fragments)
      EXPECT_NE(message.find(fragment), std::string::npos) << "lacks '" << fragment << "': " << message;
  }
}

namespace {
std::string tensor_entry(const std::string& name, const std::string& dtype, const std::string& shape,
                         const std::string& offsets) {
  std::string entry = "\"";  // appended piecewise: GCC 12 misfires -Wrestrict on "..." + s
  entry += name;
  entry += "\":{\"dtype\":\"";
  entry += dtype;
  entry += "\",\"shape\":";
  entry += shape;
  entry += ",\"data_offsets\":";
  entry += offsets;
  return entry + "}";
}
std::string one_tensor(const std::string& dtype, const std::string& shape, const std::string& offsets) {
  std::string header = "{";
  header += tensor_entry("w", dtype, shape, offsets);
  return header + "}";
}
}  // namespace

INSTANTIATE_TEST_SUITE_P(
    Io, SafetensorsHostile,
    ::testing::Values(
        HostileCase{"ShorterThanHeaderLength", "abc", {"shorter than the 8-byte header length"}},
        HostileCase{"HeaderLengthOver100MB", raw_safetensors("{}", 0, 200'000'000), {"header length 200000000", "100 MB"}},
        HostileCase{"HeaderLengthPastEnd", raw_safetensors("{}", 0, 1000), {"header length 1000", "past the end"}},
        HostileCase{"HeaderNotJson", raw_safetensors("{\"w\": nope}", 0), {"invalid JSON", "column"}},
        HostileCase{"HeaderNotObject", raw_safetensors("[1, 2]", 0), {"not a JSON object"}},
        HostileCase{"UnknownDtype", raw_safetensors(one_tensor("F9", "[1]", "[0,4]"), 4), {"tensor 'w'", "dtype", "'F9'"}},
        HostileCase{"NegativeDim", raw_safetensors(one_tensor("F32", "[-1]", "[0,4]"), 4), {"tensor 'w'", "field 'shape'", "-1"}},
        HostileCase{"FractionalDim", raw_safetensors(one_tensor("F32", "[1.5]", "[0,4]"), 4), {"tensor 'w'", "field 'shape'"}},
        HostileCase{"ShapeNotList", raw_safetensors(one_tensor("F32", "\"2x2\"", "[0,4]"), 4), {"tensor 'w'", "field 'shape'"}},
        HostileCase{"OffsetsNotPair", raw_safetensors(one_tensor("F32", "[1]", "[4]"), 4), {"tensor 'w'", "field 'data_offsets'"}},
        HostileCase{"OffsetsReversed", raw_safetensors(one_tensor("F32", "[1]", "[8,4]"), 8), {"tensor 'w'", "begin 8 > end 4"}},
        HostileCase{"EndPastData", raw_safetensors(one_tensor("F32", "[4]", "[0,16]"), 8), {"tensor 'w'", "past the data section"}},
        HostileCase{"SpanDiffersFromShape", raw_safetensors(one_tensor("F32", "[3]", "[0,8]"), 8), {"tensor 'w'", "needs 12"}},
        HostileCase{"ShapeOverflows", raw_safetensors(one_tensor("F32", "[4294967296,4294967296]", "[0,4]"), 4), {"tensor 'w'", "overflows"}},
        HostileCase{"OverlappingTensors",
                    raw_safetensors("{" + tensor_entry("a", "F32", "[2]", "[0,8]") + "," + tensor_entry("b", "F32", "[2]", "[4,12]") + "}", 12),
                    {"tensor 'b'", "overlap tensor 'a'"}},
        HostileCase{"HoleBetweenTensors",
                    raw_safetensors("{" + tensor_entry("a", "F32", "[1]", "[0,4]") + "," + tensor_entry("b", "F32", "[1]", "[8,12]") + "}", 12),
                    {"tensor 'b'", "hole of 4 bytes"}},
        HostileCase{"BytesAfterLastTensor", raw_safetensors(one_tensor("F32", "[1]", "[0,4]"), 8), {"4 bytes after the last tensor"}},
        HostileCase{"TruncatedData", raw_safetensors(one_tensor("F32", "[4]", "[0,16]"), 10), {"tensor 'w'", "truncated"}},
        HostileCase{"MetadataValueNotString", raw_safetensors(R"({"__metadata__":{"k":1}})", 0), {"field '__metadata__'", "'k'"}},
        HostileCase{"EntryNotObject", raw_safetensors(R"({"w":[1]})", 0), {"tensor 'w'", "not an object"}}),
    [](const ::testing::TestParamInfo<HostileCase>& info) { return std::string(info.param.name); });

TEST(IoAtomicFile, WriterThrowingMidwayLeavesThePreviousFileAndNoTemporary) {
  TempDir dir;
  const auto path = dir / "config.json";
  write_bytes(path, "previous contents");
  try {
    AtomicFile out(path);
    out.write("half of the new ");
    throw std::runtime_error("simulated failure while writing");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(read_bytes(path), "previous contents");
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) entries += e.path().filename() != "config.json";
  EXPECT_EQ(entries, 0u) << "temporary file left behind";
}

TEST(IoAtomicFile, CommitReplacesTheFile) {
  TempDir dir;
  const auto path = dir / "weights.safetensors";
  write_bytes(path, "old");
  save_safetensors(path, {{"w", Tensor::from_vector({1, 2}, {2})}});
  EXPECT_EQ(SafetensorsFile::open(path)->load("w").to_vector(), (std::vector<float>{1, 2}));
  write_file_atomically(dir / "note.txt", "hello");
  EXPECT_EQ(read_bytes(dir / "note.txt"), "hello");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 2);
}

TEST(IoAtomicFile, UnwritableDirectoryIsAnErrorNamingThePath) {
  TempDir dir;
  expect_error([&] { write_file_atomically(dir / "missing" / "out.bin", "x"); }, {"out.bin", "temporary"});
}

TEST(IoJsonFile, ParseErrorNamesFileLineAndColumn) {
  TempDir dir;
  write_bytes(dir / "config.json", "{\n  \"a\": 1,\n  \"b\": oops\n}\n");
  expect_error([&] { read_json_file(dir / "config.json"); }, {"config.json", "line 3", "column"});
  expect_error([&] { read_json_file(dir / "absent.json"); }, {"absent.json", "cannot read"});
  write_bytes(dir / "ok.json", R"({"x": [1, 2]})");
  EXPECT_EQ(read_json_file(dir / "ok.json")["x"][1], 2);
}
