// Input: a fine-tuning data file. The first byte picks its format (bits 0-1:
// .tsv, .csv, .jsonl; 3 is .tsv again) and whether bad rows are skipped
// (bit 2); the rest is the file, read by train::read_dataset with a
// two-label config's label2id, as `tformer train` does.
#include "fuzz_support.h"
#include "tformer/train/dataset.h"

using namespace tformer_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return -1;
  static const TempDir dir;
  static const char* const kNames[] = {"data.tsv", "data.csv", "data.jsonl", "data.tsv"};
  const auto path = dir.write(kNames[data[0] & 3], data + 1, size - 1);

  tformer::train::DatasetOptions options;
  options.label2id = {{"negative", 0}, {"positive", 1}};
  options.num_labels = 2;
  options.skip_bad = data[0] & 4;
  expect_only_tformer_errors([&] {
    const tformer::train::Dataset dataset = tformer::train::read_dataset(path, options);
    size_t chars = dataset.skipped;
    for (const auto& example : dataset.examples) {
      if (example.label < 0 || example.label >= *options.num_labels)
        die("read_dataset returned label " + std::to_string(example.label) + " outside [0, num_labels)");
      chars += example.text.size() + (example.text_pair ? example.text_pair->size() : 0);
    }
    volatile size_t sink = chars;
    (void)sink;
  });
  return 0;
}
