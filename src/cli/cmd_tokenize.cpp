// tformer tokenize: shows how a model's tokenizer splits text: BERT's
// WordPiece, GPT-2's byte-level BPE or Llama's SentencePiece (a llama2.c
// model file's, beside it). Texts come from the arguments or, without any,
// from stdin one per line; --pair (BERT) splits each text at its first TAB
// into a sentence pair.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/common.h"
#include "tformer/core/error.h"
#include "tformer/tokenizers/bert_tokenizer.h"
#include "tformer/tokenizers/tokenizer.h"
#include "tformer/tokenizers/unicode.h"

namespace tformer::cli {

namespace {

namespace tk = tokenizers;

struct TokenizeArgs {
  std::string model;
  bool json = false;
  bool pair = false;
  std::optional<size_t> max_length;
  std::vector<std::string> texts;
};

void print_json(const tk::Encoding& encoding) {
  const nlohmann::ordered_json line = {{"tokens", encoding.tokens},
                                       {"input_ids", encoding.input_ids},
                                       {"token_type_ids", encoding.token_type_ids},
                                       {"attention_mask", encoding.attention_mask}};
  std::cout << line.dump() << '\n';
}

// "tok tok tok<TAB>id id id"
void print_plain(const tk::Encoding& encoding) {
  std::string line;
  for (size_t i = 0; i < encoding.tokens.size(); ++i) line += (i ? " " : "") + encoding.tokens[i];
  line += '\t';
  for (size_t i = 0; i < encoding.input_ids.size(); ++i) line += (i ? " " : "") + std::to_string(encoding.input_ids[i]);
  std::cout << line << '\n';
}

tk::Encoding encode_one(const tk::BertTokenizer& tokenizer, const TokenizeArgs& args, const std::string& text) {
  // Checked here so that byte offsets count from the start of the whole
  // line, not of the half after the TAB.
  tk::unicode::check_utf8(text);
  tk::EncodeOptions options;
  if (args.max_length) {
    options.max_length = args.max_length;
    options.truncation = tk::Truncation::LongestFirst;
  }
  const size_t tab = args.pair ? text.find('\t') : std::string::npos;
  if (tab == std::string::npos) return tokenizer.encode(text, options);
  return tokenizer.encode_pair(std::string_view(text).substr(0, tab), std::string_view(text).substr(tab + 1), options);
}

void run_tokenize(const TokenizeArgs& args) {
  const std::filesystem::path path = resolve_model_dir(args.model);
  // A decoder's tokenizer (GPT-2 or SentencePiece files), else BERT's.
  std::unique_ptr<tk::Tokenizer> decoder = tk::find_tokenizer(path);
  std::optional<tk::BertTokenizer> bert;
  if (decoder)
    TF_CHECK(!args.pair && !args.max_length, "--pair and --max-length apply to BERT tokenizers; "
                                                 << path.string() << " holds a " << decoder->kind() << " tokenizer");
  else
    bert = tk::BertTokenizer::from_pretrained(path);
  const bool from_stdin = args.texts.empty();
  const std::vector<std::string> texts = from_stdin ? read_stdin_lines() : args.texts;
  for (size_t i = 0; i < texts.size(); ++i) {
    tk::Encoding encoding;
    try {
      encoding = decoder ? decoder->encode(texts[i]) : encode_one(*bert, args, texts[i]);
    } catch (const Error& e) {
      TF_FAIL((from_stdin ? "stdin line " : "argument ") << i + 1 << ": " << e.what());
    }
    args.json ? print_json(encoding) : print_plain(encoding);
  }
}

}  // namespace

void register_tokenize(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "tokenize",
      "Split texts into tokens and ids with a model's tokenizer (BERT WordPiece with [CLS]/[SEP], GPT-2 "
      "byte-level BPE, SentencePiece with BOS; texts from the arguments, else stdin one per line)");
  cmd->add_option("--model", args->model,
                  "model directory (vocab.txt, tokenizer.json, vocab.json + merges.txt, tokenizer.model or tok*.bin) "
                  "or llama2.c model file (default: the bundled model)");
  cmd->add_flag("--json", args->json,
                "one JSON object per text: tokens, input_ids, token_type_ids, attention_mask");
  cmd->add_flag("--pair", args->pair, "each text is a sentence pair separated by its first TAB");
  cmd->add_option("--max-length", args->max_length, "truncate (longest first) to this many tokens, specials included")
      ->check(CLI::PositiveNumber);
  cmd->add_option("text", args->texts, "texts to tokenize (default: stdin, one per line)");
  cmd->callback([args] { run_tokenize(*args); });
}

}  // namespace tformer::cli
