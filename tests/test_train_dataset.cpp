// Dataset readers: TSV, CSV (RFC 4180 quoting) and JSON Lines; every kind of
// bad row, named by file and line; skip_bad; the real GLUE SST-2 files.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <unistd.h>

#include "test_util.h"
#include "tformer/core/error.h"
#include "tformer/train/dataset.h"

namespace tformer::train {
namespace {

namespace fs = std::filesystem;

class DatasetFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("tformer_test_dataset_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  fs::path write(const std::string& name, const std::string& contents) const {
    fs::path path = dir / name;
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }
  Dataset read(const std::string& name, const std::string& contents, const DatasetOptions& options = {}) {
    return read_dataset(write(name, contents), options);
  }
  // Asserts reading fails with a message that contains "<name>:<line>: " (or
  // "<name>: " when line is 0) and `reason`.
  void expect_bad(const std::string& name, const std::string& contents, size_t line,
                  const std::string& reason, const DatasetOptions& options = {}) {
    SCOPED_TRACE(name + ": " + reason);
    try {
      read(name, contents, options);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      const std::string where = name + ":" + (line ? std::to_string(line) + ":" : "") + " ";
      EXPECT_NE(std::string(e.what()).find(where), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
    }
  }

  fs::path dir;
};

std::vector<std::string> texts(const Dataset& d) {
  std::vector<std::string> out;
  for (const Example& e : d.examples) out.push_back(e.text);
  return out;
}
std::vector<int32_t> labels(const Dataset& d) {
  std::vector<int32_t> out;
  for (const Example& e : d.examples) out.push_back(e.label);
  return out;
}
std::vector<size_t> lines(const Dataset& d) {
  std::vector<size_t> out;
  for (const Example& e : d.examples) out.push_back(e.line);
  return out;
}

TEST_F(DatasetFiles, TsvLabelFirstOrLast) {
  for (const std::string contents : {"label\tsentence\n1\tgood film\n0\tbad film\n",
                                     "sentence\tlabel\ngood film\t1\nbad film\t0\n"}) {
    Dataset d = read("a.tsv", contents);
    EXPECT_EQ(texts(d), (std::vector<std::string>{"good film", "bad film"}));
    EXPECT_EQ(labels(d), (std::vector<int32_t>{1, 0}));
    EXPECT_EQ(lines(d), (std::vector<size_t>{2, 3}));
    EXPECT_FALSE(d.examples[0].text_pair);
    EXPECT_EQ(d.path, dir / "a.tsv");
  }
}

TEST_F(DatasetFiles, TsvPairsExtraColumnsCrlfBlankLinesAndBom) {
  Dataset d = read("pairs.tsv",
                   "\xEF\xBB\xBFidx\tsentence1\tsentence2\tlabel\r\n"
                   "0\tA man sleeps.\tA person rests.\t1\r\n"
                   "\r\n"
                   "1\t\"Quoted\" stays\tliteral \"\"\t0\r\n");
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.examples[0].text, "A man sleeps.");
  EXPECT_EQ(d.examples[0].text_pair, "A person rests.");
  EXPECT_EQ(d.examples[1].text, "\"Quoted\" stays");
  EXPECT_EQ(d.examples[1].text_pair, "literal \"\"");
  EXPECT_EQ(lines(d), (std::vector<size_t>{2, 4}));
}

TEST_F(DatasetFiles, LabelNamesThroughLabel2Id) {
  DatasetOptions options;
  options.label2id = {{"negative", 0}, {"positive", 1}};
  Dataset d = read("named.tsv", "text\tlabel\nfine\tpositive\nawful\tnegative\nok\t1\n", options);
  EXPECT_EQ(labels(d), (std::vector<int32_t>{1, 0, 1}));
}

TEST_F(DatasetFiles, CsvQuoting) {
  Dataset d = read("q.csv",
                   "label,text,text_pair\r\n"
                   "1,\"commas, inside\",plain\r\n"
                   "0,\"doubled \"\"quotes\"\"\",\"\"\r\n"
                   "1,\"two\nlines\",\"crlf\r\ninside\"\n"
                   "0,unquoted \"quote\" kept,last\n"
                   "1,no newline at end,x");
  EXPECT_EQ(texts(d), (std::vector<std::string>{"commas, inside", "doubled \"quotes\"", "two\nlines",
                                                "unquoted \"quote\" kept", "no newline at end"}));
  EXPECT_EQ(d.examples[1].text_pair, "");
  EXPECT_EQ(d.examples[2].text_pair, "crlf\r\ninside");
  EXPECT_EQ(labels(d), (std::vector<int32_t>{1, 0, 1, 0, 1}));
  // Quoted newlines do not start records, but they do advance the line count.
  EXPECT_EQ(lines(d), (std::vector<size_t>{2, 3, 4, 7, 8}));
}

TEST_F(DatasetFiles, CsvQuotedHeaderAndDelimiterAtEnd) {
  Dataset d = read("h.csv", "\"sentence\",\"label\"\n\"a\",1\nb,\n", [] {
    DatasetOptions o;
    o.skip_bad = true;
    return o;
  }());
  EXPECT_EQ(texts(d), (std::vector<std::string>{"a"}));
  EXPECT_EQ(d.skipped, 1u);  // "b," has an empty label
}

TEST_F(DatasetFiles, Jsonl) {
  DatasetOptions options;
  options.label2id = {{"entailment", 0}, {"contradiction", 1}};
  Dataset d = read("d.jsonl",
                   "{\"text\": \"héllo\", \"label\": 1}\n"
                   "\n"
                   "{\"text\": \"a\", \"text_pair\": \"b\", \"label\": \"contradiction\"}\r\n"
                   "{\"sentence\": \"glue export\", \"label\": 0, \"idx\": 7}\n"
                   "{\"text\": \"null pair\", \"text_pair\": null, \"label\": \"1\"}",
                   options);
  EXPECT_EQ(texts(d), (std::vector<std::string>{"héllo", "a", "glue export", "null pair"}));
  EXPECT_EQ(labels(d), (std::vector<int32_t>{1, 1, 0, 1}));
  EXPECT_EQ(lines(d), (std::vector<size_t>{1, 3, 4, 5}));
  EXPECT_EQ(d.examples[1].text_pair, "b");
  EXPECT_FALSE(d.examples[3].text_pair);
}

TEST_F(DatasetFiles, BadRowsNameFileAndLine) {
  expect_bad("train.tsv", "label\tsentence\n1\tok\n0\tfine\nmaybe\tunsure\n", 4,
             "label 'maybe' is not an integer and not in label2id");
  expect_bad("cols.tsv", "label\tsentence\n1\tok\n1\ttoo\tmany\n", 3, "3 fields, but the header has 2");
  expect_bad("cols.csv", "label,sentence\n1\n", 2, "1 fields, but the header has 2");
  expect_bad("float.tsv", "label\tsentence\n1.0\tok\n", 2, "label '1.0' is not an integer");
  expect_bad("utf8.tsv", "label\tsentence\n1\tok\n1\tbad \xC3\x28 byte\n", 3, "invalid UTF-8");
  expect_bad("utf8.csv", "label,sentence\n1,\"bad \xFF\"\n", 2, "invalid UTF-8");
  expect_bad("open.csv", "label,sentence\n1,fine\n0,\"never\nclosed\n", 3, "quoted field is never closed");
  expect_bad("after.csv", "label,sentence\n1,\"closed\"x\n", 2, "text after a closing quote");
  expect_bad("bad.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": }\n", 2,
             "invalid JSON");
  expect_bad("utf8.jsonl", "{\"text\": \"\xED\xA0\x80\", \"label\": 1}\n", 1, "invalid UTF-8");
  expect_bad("array.jsonl", "[1, 2]\n", 1, "expected a JSON object, got array");
  expect_bad("nolabel.jsonl", "{\"text\": \"a\"}\n", 1, "object has no 'label'");
  expect_bad("floatlabel.jsonl", "{\"text\": \"a\", \"label\": 1.5}\n", 1,
             "'label' must be an integer or a string, got number");
  expect_bad("textnum.jsonl", "{\"text\": 5, \"label\": 1}\n", 1, "'text' must be a string");
  expect_bad("huge.jsonl", "{\"text\": \"a\", \"label\": 99999999999}\n", 1, "not a 32-bit integer");
}

TEST_F(DatasetFiles, BadFiles) {
  expect_bad("empty.tsv", "", 0, "empty file, expected a header row");
  expect_bad("blank.csv", "\n\r\n", 0, "empty file");
  expect_bad("empty.jsonl", "\n", 0, "empty file");
  expect_bad("header_only.tsv", "label\tsentence\n", 0, "no rows after the header");
  expect_bad("nolabel.tsv", "idx\tsentence\n0\tok\n", 1, "header has no 'label'; it has: idx, sentence");
  expect_bad("notext.csv", "label,words\n1,ok\n", 1, "header has no text (sentence, text");
  expect_bad("headerless.tsv", "1\tgood film\n0\tbad film\n", 1, "header has no text");
  expect_bad("twotext.tsv", "question\tsentence\tlabel\nq\ts\t1\n", 1,
             "both 'question' and 'sentence' name the text");
  expect_bad("data.txt", "label\tsentence\n", 0, "unknown dataset format '.txt'");
  try {
    read_dataset(dir / "missing.tsv");
    ADD_FAILURE() << "read a missing file";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.tsv: cannot read"), std::string::npos) << e.what();
  }
}

TEST_F(DatasetFiles, NumLabelsBoundsLabels) {
  DatasetOptions options;
  options.num_labels = 2;
  expect_bad("range.tsv", "label\tsentence\n1\tok\n2\tthree classes?\n", 3, "label 2 is outside [0, 2)",
             options);
  options.label2id = {{"neutral", 2}};
  expect_bad("range.jsonl", "{\"text\": \"a\", \"label\": \"neutral\"}\n", 1, "label 2 is outside [0, 2)",
             options);
}

TEST_F(DatasetFiles, SkipBadCountsAndKeepsGoodRows) {
  DatasetOptions options;
  options.skip_bad = true;
  options.num_labels = 2;
  Dataset d = read("mixed.csv",
                   "sentence,label\n"
                   "good,1\n"
                   "bad label,maybe\n"
                   "too,many,fields\n"
                   "\"unclosed,1\n"
                   "never reached,0\n",
                   options);
  EXPECT_EQ(texts(d), (std::vector<std::string>{"good"}));
  EXPECT_EQ(d.skipped, 3u);

  Dataset j = read("mixed.jsonl", "{\"text\":\"a\",\"label\":0}\nnot json\n{\"text\":\"b\",\"label\":5}\n"
                   "{\"text\":\"c\",\"label\":1}\n", options);
  EXPECT_EQ(texts(j), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(lines(j), (std::vector<size_t>{1, 4}));
  EXPECT_EQ(j.skipped, 2u);
  // Problems with the file as a whole are not rows to skip.
  expect_bad("nolabel.tsv", "sentence\nok\n", 1, "header has no 'label'", options);
}

fs::path sst2(const std::string& name) { return tformer::testing::shared_dir() / "data/sst2" / name; }

TEST(DatasetSst2, TrainAndDevCountsAndLabels) {
  DatasetOptions options;
  options.num_labels = 2;
  const auto start = std::chrono::steady_clock::now();
  Dataset train = read_dataset(sst2("train.tsv"), options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 1.0) << "reading SST-2 train.tsv";
  Dataset dev = read_dataset(sst2("dev.tsv"), options);

  auto positives = [](const Dataset& d) {
    return std::accumulate(d.examples.begin(), d.examples.end(), size_t{0},
                           [](size_t n, const Example& e) { return n + e.label; });
  };
  ASSERT_EQ(train.examples.size(), 67'349u);
  EXPECT_EQ(positives(train), 37'569u);  // 29,780 negative
  EXPECT_EQ(train.skipped, 0u);
  EXPECT_EQ(train.examples.front().text, "hide new secretions from the parental units");
  EXPECT_EQ(train.examples.back().line, 67'350u);
  ASSERT_EQ(dev.examples.size(), 872u);
  EXPECT_EQ(positives(dev), 444u);  // 428 negative
  EXPECT_EQ(dev.examples.front().text, "one long string of cliches .");
}

TEST(DatasetSst2, UnlabelledTestSetIsNotTrainingData) {
  DatasetOptions options;
  options.num_labels = 2;
  try {
    read_dataset(sst2("test_unlabeled.tsv"), options);
    FAIL() << "read -1 labels as training data";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("test_unlabeled.tsv:2: label -1 is outside [0, 2)"),
              std::string::npos)
        << e.what();
  }
  // Without a label count the rows read, -1 and all (idx ignored).
  Dataset test = read_dataset(sst2("test_unlabeled.tsv"));
  EXPECT_EQ(test.examples.size(), 1'821u);
  EXPECT_EQ(test.examples[0].label, -1);
  EXPECT_EQ(test.examples[0].text, "uneasy mishmash of styles and genres .");
}

}  // namespace
}  // namespace tformer::train
