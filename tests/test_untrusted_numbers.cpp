// The checks every loader sizes memory and reads integers through: overflow-
// checked shape, byte and strided-view arithmetic (core/checked_size.h), and
// JSON's integers, depth and excerpts (io/json_file.h).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "test_io_support.h"
#include "tformer/core/checked_size.h"
#include "tformer/core/tensor.h"
#include "tformer/io/json_file.h"

namespace tformer {
namespace {

using io::testing::expect_error;
using nlohmann::json;
using Dims = std::vector<int64_t>;

constexpr int64_t k2to32 = int64_t(1) << 32;

TEST(CheckedSize, NumelOfOrdinaryAndEmptyShapes) {
  EXPECT_EQ(checked_numel(Dims{2, 7, 32}, "t"), 448);
  EXPECT_EQ(checked_numel(Dims{}, "t"), 1);
  EXPECT_EQ(checked_numel(Dims{0, 5}, "t"), 0);
  EXPECT_EQ(checked_numel(Dims{INT64_MAX}, "t"), INT64_MAX);
}

TEST(CheckedSize, NumelRefusesNegativeAndOverflowingShapes) {
  expect_error([] { checked_numel(Dims{3, -1}, "model.bin: tensor 'w'"); }, {"model.bin: tensor 'w'", "negative"});
  expect_error([] { checked_numel(Dims{INT64_MIN}, "x"); }, {"negative"});
  expect_error([] { checked_numel(Dims{k2to32, k2to32}, "x"); }, {"2^63"});
  // No element, but strides of 2^64: refused too.
  expect_error([] { checked_numel(Dims{0, k2to32, k2to32}, "x"); }, {"2^63"});
  expect_error([] { checked_numel(Dims{k2to32, k2to32, 0}, "x"); }, {"2^63"});
}

TEST(CheckedSize, NbytesRefusesWrappingByteCounts) {
  EXPECT_EQ(checked_nbytes(10, 4, "t"), 40u);
  EXPECT_EQ(checked_nbytes(0, 8, "t"), 0u);
  expect_error([] { checked_nbytes((int64_t(1) << 61) + 1, 8, "st 'w'"); }, {"st 'w'", "overflow"});
  expect_error([] { checked_nbytes(int64_t(1) << 62, 2, "x"); }, {"overflow"});  // 2^63 > PTRDIFF_MAX
  expect_error([] { checked_nbytes(-1, 4, "x"); }, {"negative"});
}

TEST(CheckedSize, ViewExtentIsTheLastElementPlusOne) {
  EXPECT_EQ(checked_view_extent(0, Dims{2, 3}, Dims{3, 1}, "v"), 6);
  EXPECT_EQ(checked_view_extent(5, Dims{2, 3}, Dims{3, 1}, "v"), 11);
  EXPECT_EQ(checked_view_extent(0, Dims{3, 2}, Dims{1, 3}, "v"), 6);   // a transpose
  EXPECT_EQ(checked_view_extent(0, Dims{2, 2}, Dims{4, 1}, "v"), 6);   // a slice of rows
  EXPECT_EQ(checked_view_extent(7, Dims{0, 5}, Dims{0, 0}, "v"), 0);   // no element: touches nothing
  EXPECT_EQ(checked_view_extent(3, Dims{}, Dims{}, "v"), 4);           // a scalar
  EXPECT_EQ(checked_view_extent(0, Dims{1, 4}, Dims{0, 1}, "v"), 4);   // size-1 dims may have any stride
}

TEST(CheckedSize, ViewExtentRefusesHostileViews) {
  expect_error([] { checked_view_extent(-1, Dims{2}, Dims{1}, "bin 'w'"); }, {"bin 'w'", "negative storage offset"});
  expect_error([] { checked_view_extent(0, Dims{2}, Dims{-1}, "x"); }, {"negative stride"});
  expect_error([] { checked_view_extent(0, Dims{INT64_MIN}, Dims{1}, "x"); }, {"negative dimension"});
  expect_error([] { checked_view_extent(0, Dims{2}, Dims{1, 1}, "x"); }, {"rank"});
  expect_error([] { checked_view_extent(0, Dims{3}, Dims{INT64_MAX / 2 + 1}, "x"); }, {"overflow"});
  expect_error([] { checked_view_extent(INT64_MAX, Dims{1}, Dims{1}, "x"); }, {"overflow"});
  // A stride-0 view repeating one stored element 2^29 times.
  expect_error([] { checked_view_extent(0, Dims{int64_t(1) << 29}, Dims{0}, "x"); }, {"repeats"});
}

TEST(CheckedSize, ShapeAndTensorRefuseWhatCannotBeSized) {
  expect_error([] { Shape({4, -2}); }, {"negative"});
  expect_error([] { Shape({0, k2to32, k2to32}); }, {"2^63"});
  expect_error([] { Tensor::empty({int64_t(1) << 62}, DType::F32); }, {"overflow"});
  EXPECT_EQ(Tensor::empty({0, 3}).numel(), 0);
}

TEST(JsonToInt, TakesIntegersAndIntegralFloatsInRange) {
  EXPECT_EQ(io::json_to_int(json(42), 0, 100, "f"), 42);
  EXPECT_EQ(io::json_to_int(json(-3), -5, 5, "f"), -3);
  EXPECT_EQ(io::json_to_int(json::parse("2.0"), 0, 5, "f"), 2);
  EXPECT_EQ(io::json_to_int(json::parse("1e3"), 0, 1000, "f"), 1000);
  EXPECT_EQ(io::json_to_int(json(INT64_MIN), INT64_MIN, 0, "f"), INT64_MIN);
  EXPECT_EQ(io::json_to_int(json::parse("9223372036854775807"), 0, INT64_MAX, "f"), INT64_MAX);
}

TEST(JsonToInt, RefusesEverythingElseNamingTheField) {
  const std::string where = "config.json: field 'vocab_size'";
  for (const char* text : {"4.5e19", "1e300", "-1e300", "9223372036854775808", "18446744073709551615", "2.5",
                           "\"12\"", "true", "null", "[1]", "{}"}) {
    SCOPED_TRACE(text);
    expect_error([&] { io::json_to_int(json::parse(text), INT64_MIN, INT64_MAX, where); },
                 {"config.json: field 'vocab_size'", "expected an integer"});
  }
  expect_error([&] { io::json_to_int(json::parse("3e9"), INT32_MIN, INT32_MAX, where); }, {"3000000000"});
  expect_error([&] { io::json_to_int(json(101), 0, 100, where); }, {"[0, 100]", "101"});
  expect_error([&] { io::json_to_int(json(-1), 0, 100, where); }, {"[0, 100]", "-1"});
}

TEST(JsonToInt, FieldIsAbsentWhenMissingOrNull) {
  const json object = json::parse(R"({"a": 3, "b": null, "c": 1e30})");
  EXPECT_EQ(io::json_int_field(object, "a", 0, 10, "cfg.json"), 3);
  EXPECT_FALSE(io::json_int_field(object, "b", 0, 10, "cfg.json").has_value());
  EXPECT_FALSE(io::json_int_field(object, "z", 0, 10, "cfg.json").has_value());
  expect_error([&] { io::json_int_field(object, "c", 0, 10, "cfg.json"); }, {"cfg.json: field 'c'", "1e+30"});
}

TEST(JsonKeyToInt, TakesDecimalIdsOnly) {
  EXPECT_EQ(io::json_key_to_int("0", 10), 0);
  EXPECT_EQ(io::json_key_to_int("30522", INT32_MAX), 30522);
  EXPECT_EQ(io::json_key_to_int("2147483647", INT32_MAX), INT32_MAX);
  for (const char* key : {"", "-1", "+1", "1e3", " 1", "1 ", "0x10", "12abc", "2147483648", "99999999999999999999"})
    EXPECT_FALSE(io::json_key_to_int(key, INT32_MAX).has_value()) << key;
  EXPECT_FALSE(io::json_key_to_int("11", 10).has_value());
}

TEST(JsonParse, NumberPastDoublesRangeIsAnError) {
  // nlohmann reports 1e400 as out_of_range, not as a parse error.
  expect_error([] { io::parse_json(R"({"total_size": 1e400})", "model.safetensors.index.json"); },
               {"model.safetensors.index.json", "invalid JSON"});
}

std::string nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(JsonDepth, RealNestingParsesAndDeepNestingIsRefused) {
  EXPECT_NO_THROW(io::parse_json(nested(io::kMaxJsonDepth), "ok.json"));
  const int levels = io::kMaxJsonDepth;
  EXPECT_NO_THROW(io::parse_json(std::string(levels, '[') + "1" + std::string(levels, ']'), "ok.json"));
  expect_error([] { io::parse_json(nested(io::kMaxJsonDepth + 1), "deep.json"); }, {"deep.json", "nested deeper"});
  // 100,000 levels in 200 KB: refused without recursing once per level.
  expect_error([] { io::parse_json("{\"padding\": " + nested(100'000) + "}", "tokenizer.json"); },
               {"tokenizer.json", "nested deeper"});
  // Brackets inside strings are text, not nesting.
  EXPECT_NO_THROW(io::parse_json("[\"" + std::string(1000, '[') + "\"]", "s.json"));
}

TEST(JsonExcerpt, CutsLongValuesAtACharacterBoundary) {
  EXPECT_EQ(io::json_excerpt(json(12)), "12");
  const std::string excerpt = io::json_excerpt(json(std::string(200, 'x')));
  EXPECT_LE(excerpt.size(), 64u);
  EXPECT_TRUE(excerpt.ends_with("...")) << excerpt;
  // "é" is two bytes: a cut never leaves half of one.
  const std::string accents = io::json_excerpt(json(std::string(56, 'a') + "éééééééééé"));
  EXPECT_NO_THROW(json::parse("\"" + accents.substr(1, accents.size() - 4) + "\""));
}

}  // namespace
}  // namespace tformer
