// The tokenizer files of a Hugging Face model directory, found and copied as
// a unit (a trained or converted checkpoint must carry its tokenizer along).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace tformer::tokenizers {

// Those present of vocab.txt, tokenizer_config.json, special_tokens_map.json
// and tokenizer.json: the files transformers' BertTokenizer(Fast) reads.
std::vector<std::string> tokenizer_file_names(const std::filesystem::path& dir);

// Copies the tokenizer files from `from` into `to`, each atomically.
void copy_tokenizer_files(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace tformer::tokenizers
