// Every input in fuzz/regressions/ gets a clean answer: a tformer::Error
// naming the file through the public API, and exit status 1 with that
// message through the CLI's classify, convert, tokenize, inspect and eval,
// with no sanitizer report (scripts/test.sh --sanitize) and under 1 GiB.
// They are the files that crashed tformer's parsers, corrupted memory or
// made them allocate without bound: those of ../shared/fuzz-crashes/ (found
// by fuzzing and by reading the code; a test checks each has its copy here)
// and those the project's own fuzz targets found (fuzz/README.md).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "../fuzz/torch_zip.h"
#include "test_io_support.h"
#include "test_trainer_support.h"
#include "test_util.h"
#include "tformer/io/checkpoint.h"
#include "tformer/io/safetensors.h"
#include "tformer/models/bert.h"
#include "tformer/pipelines/text_classification.h"
#include "tformer/tokenizers/bert_tokenizer.h"
#include "tformer/train/dataset.h"

namespace tformer::testing {
namespace {

namespace fs = std::filesystem;
using io::testing::read_bytes;
using io::testing::TempDir;
using io::testing::write_bytes;

// What a folder's inputs are, and so where they go in a model directory.
enum class Kind {
  Safetensors,
  PytorchBin,
  PytorchPickle,
  ShardedIndex,
  BertConfig,
  TokenizerJson,
  TokenizerConfig,
  Dataset
};

struct Input {
  fs::path path;
  Kind kind;
};

// The folders of fuzz/regressions/ are named after the fuzz targets.
const std::map<std::string, Kind>& kinds_by_folder() {
  static const std::map<std::string, Kind> kinds = {
      {"fuzz_safetensors", Kind::Safetensors},       {"fuzz_pytorch_bin", Kind::PytorchBin},
      {"fuzz_pytorch_pickle", Kind::PytorchPickle},  {"fuzz_sharded_index", Kind::ShardedIndex},
      {"fuzz_bert_config", Kind::BertConfig},        {"fuzz_tokenizer_json", Kind::TokenizerJson},
      {"fuzz_tokenizer_config", Kind::TokenizerConfig}, {"fuzz_dataset", Kind::Dataset}};
  return kinds;
}

fs::path regressions_dir() { return source_dir() / "fuzz" / "regressions"; }

// Every input under fuzz/regressions/<target>/.
std::vector<Input> all_inputs() {
  std::vector<Input> inputs;
  for (const auto& folder : fs::directory_iterator(regressions_dir())) {
    auto kind = kinds_by_folder().find(folder.path().filename().string());
    if (kind == kinds_by_folder().end()) {
      ADD_FAILURE() << "no test knows what the inputs of " << folder.path() << " are";
      continue;
    }
    for (const auto& file : fs::directory_iterator(folder.path()))
      if (file.is_regular_file()) inputs.push_back({file.path(), kind->second});
  }
  std::sort(inputs.begin(), inputs.end(), [](const Input& a, const Input& b) { return a.path < b.path; });
  return inputs;
}

// The file a model directory holds the input as.
std::string file_name(Kind kind) {
  switch (kind) {
    case Kind::Safetensors: return "model.safetensors";
    case Kind::PytorchBin:
    case Kind::PytorchPickle: return "pytorch_model.bin";
    case Kind::ShardedIndex: return "model.safetensors.index.json";
    case Kind::BertConfig: return "config.json";
    case Kind::TokenizerJson: return "tokenizer.json";
    case Kind::TokenizerConfig: return "tokenizer_config.json";
    case Kind::Dataset: return "data";  // its extension comes from the input's first byte
  }
  return "";
}

// A fuzz_dataset input: its first byte picks the format, the rest is the file.
std::string dataset_file_name(const std::string& input) {
  static const char* const kNames[] = {"data.tsv", "data.csv", "data.jsonl", "data.tsv"};
  return kNames[input.empty() ? 0 : static_cast<uint8_t>(input[0]) & 3];
}

// A copy of bert-tiny with the input in its place: the weights replaced (a
// sharded index gets bert-tiny's weights as its one shard), or the config,
// or the tokenizer (tokenizer.json is read only without vocab.txt). A data
// file goes beside the model.
fs::path model_dir_with(const Input& input, const fs::path& dir) {
  copy_bert_tiny(dir);
  const std::string name = file_name(input.kind);
  const std::string bytes = read_bytes(input.path);
  switch (input.kind) {
    case Kind::PytorchBin: fs::remove(dir / "model.safetensors"); break;
    case Kind::ShardedIndex: fs::rename(dir / "model.safetensors", dir / "model-00001-of-00001.safetensors"); break;
    case Kind::TokenizerJson: fs::remove(dir / "vocab.txt"); break;
    case Kind::PytorchPickle: {
      fs::remove(dir / "model.safetensors");
      const std::vector<uint8_t> zip =
          tformer_fuzz::torch_zip(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      write_bytes(dir / name, std::string(zip.begin(), zip.end()));
      return dir;
    }
    case Kind::Dataset: write_bytes(dir / dataset_file_name(bytes), bytes.substr(1)); return dir;
    default: break;
  }
  write_bytes(dir / name, bytes);
  return dir;
}

// Where the input lies in the model directory.
fs::path input_file(const Input& input, const fs::path& dir) {
  return input.kind == Kind::Dataset ? dir / dataset_file_name(read_bytes(input.path)) : dir / file_name(input.kind);
}

void load_every_tensor(const io::Checkpoint& checkpoint) {
  for (const std::string& name : checkpoint.names()) {
    const io::TensorInfo& info = checkpoint.info(name);
    if (dtype_is_float(info.dtype)) checkpoint.get_f32(name, info.shape).to_vector();
    else checkpoint.get(name).contiguous();
  }
}

// The entry point each kind of file reaches first, then the whole model.
void load_through_api(const Input& input, const fs::path& dir) {
  const fs::path file = input_file(input, dir);
  switch (input.kind) {
    case Kind::Safetensors: {
      auto st = io::SafetensorsFile::open(file);
      for (const auto& t : st->tensors()) st->load(t.name).contiguous();
      load_every_tensor(io::Checkpoint::open(file));
      break;
    }
    case Kind::PytorchBin:
    case Kind::PytorchPickle: load_every_tensor(io::Checkpoint::open(file)); break;
    case Kind::ShardedIndex: load_every_tensor(io::Checkpoint::open(dir)); break;
    case Kind::BertConfig: models::BertConfig::from_file(file); break;
    case Kind::TokenizerJson:
    case Kind::TokenizerConfig: tokenizers::BertTokenizer::from_pretrained(dir); break;
    case Kind::Dataset: {
      train::DatasetOptions options;
      options.label2id = {{"NEGATIVE", 0}, {"POSITIVE", 1}};
      options.num_labels = 2;
      train::read_dataset(file, options);
      return;
    }
  }
  pipelines::TextClassificationPipeline::from_pretrained(dir)({"This movie is great!"});
}

std::string test_name(const ::testing::TestParamInfo<Input>& info) {
  std::string name = info.param.path.parent_path().filename().string() + "_" + info.param.path.filename().string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

class FuzzRegression : public ::testing::TestWithParam<Input> {};

TEST_P(FuzzRegression, PublicApiGivesAnErrorNamingTheFile) {
  TempDir scratch;
  const fs::path dir = model_dir_with(GetParam(), scratch / "model");
  try {
    load_through_api(GetParam(), dir);
    ADD_FAILURE() << GetParam().path << " loaded without an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(input_file(GetParam(), dir).filename().string()), std::string::npos)
        << "the message does not name the file: " << e.what();
  }
}

// Runs the CLI and checks its answer: exit status 1 and "tformer: error:"
// naming the file when the command reads the input, and in every case no
// sanitizer report and no signal.
void expect_clean_cli(const std::string& args, bool reads_input, const std::string& file) {
  const CommandResult r = run_command(cli() + " " + args + " 2>&1 </dev/null");
  EXPECT_EQ(r.output.find("Sanitizer"), std::string::npos) << args << ":\n" << r.output;
  EXPECT_EQ(r.output.find("runtime error"), std::string::npos) << args << ":\n" << r.output;
  if (reads_input) {
    EXPECT_EQ(r.exit_code, 1) << args << ":\n" << r.output;
    EXPECT_NE(r.output.find("tformer: error: "), std::string::npos) << args << ":\n" << r.output;
    EXPECT_NE(r.output.find(file), std::string::npos) << args << ":\n" << r.output;
  } else {
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << args << ": exit " << r.exit_code << "\n" << r.output;
  }
}

TEST_P(FuzzRegression, CliExitsWithAnError) {
  TempDir scratch;
  const Kind kind = GetParam().kind;
  const fs::path dir = model_dir_with(GetParam(), scratch / "model");
  const std::string model = "'" + dir.string() + "'";
  const fs::path input = input_file(GetParam(), dir);
  const std::string file = input.filename().string();
  const bool weights = kind == Kind::Safetensors || kind == Kind::PytorchBin || kind == Kind::PytorchPickle ||
                       kind == Kind::ShardedIndex;
  const bool tokenizer = kind == Kind::TokenizerJson || kind == Kind::TokenizerConfig;
  expect_clean_cli("classify --model " + model + " 'This movie is great!'", kind != Kind::Dataset, file);
  expect_clean_cli("convert --model " + model + " --out '" + (scratch / "out").string() + "'", weights, file);
  expect_clean_cli("tokenize --model " + model + " 'This movie is great!'", tokenizer, file);
  expect_clean_cli("inspect '" + input.string() + "'", weights && kind != Kind::ShardedIndex, file);
  expect_clean_cli("inspect " + model, weights, file);
  if (kind == Kind::Dataset) expect_clean_cli("eval --model " + model + " --data '" + input.string() + "'", true, file);
}

INSTANTIATE_TEST_SUITE_P(Inputs, FuzzRegression, ::testing::ValuesIn(all_inputs()), test_name);

// ../shared/fuzz-crashes/<target>/ holds inputs (and their .txt and .log
// notes); each input has a byte-identical copy in fuzz/regressions/<target>/
// (user_flows/NAME: fuzz_pytorch_bin/user_flows-NAME), so the tests above
// and scripts/fuzz.sh cover them all.
TEST(FuzzRegressions, EverySharedCrashHasItsCopy) {
  size_t checked = 0;
  for (const auto& folder : fs::directory_iterator(shared_dir() / "fuzz-crashes")) {
    if (!folder.is_directory()) continue;
    const std::string target = folder.path().filename().string();
    for (const auto& file : fs::directory_iterator(folder.path())) {
      const std::string ext = file.path().extension().string();
      if (ext == ".txt" || ext == ".log") continue;
      const fs::path copy = target == "user_flows"
                                ? regressions_dir() / "fuzz_pytorch_bin" / ("user_flows-" + file.path().filename().string())
                                : regressions_dir() / target / file.path().filename();
      ASSERT_TRUE(fs::exists(copy)) << file.path() << " has no copy " << copy;
      EXPECT_EQ(read_bytes(copy), read_bytes(file.path())) << copy;
      ++checked;
    }
  }
  EXPECT_GE(checked, 31u);  // as many as the folder held when this test was written
}

// Memory: the inputs that made tformer allocate without bound (weights,
// config and tokenizer files) go through classify once more here, where the largest
// child process's peak resident size can be read (ctest runs each test in a
// process of its own, so this sees these runs only).
TEST(FuzzRegressions, CliStaysUnderOneGibibyte) {
  TempDir scratch;
  int n = 0;
  for (const Input& input : all_inputs()) {
    if (input.kind != Kind::PytorchBin && input.kind != Kind::PytorchPickle && input.kind != Kind::TokenizerJson &&
        input.kind != Kind::TokenizerConfig && input.kind != Kind::BertConfig)
      continue;
    const fs::path dir = model_dir_with(input, scratch / std::to_string(n++));
    run_command(cli() + " classify --model '" + dir.string() + "' 'This movie is great!' >/dev/null 2>&1");
  }
  rusage usage{};
  ASSERT_EQ(getrusage(RUSAGE_CHILDREN, &usage), 0);
  EXPECT_LT(usage.ru_maxrss, 1L << 20) << "largest CLI run: " << usage.ru_maxrss << " KiB";
}

}  // namespace
}  // namespace tformer::testing
