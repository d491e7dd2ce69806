#include "tformer/pipelines/text_generation.h"

#include <algorithm>
#include <chrono>

#include "tformer/core/error.h"
#include "tformer/tokenizers/unicode.h"

namespace tformer::pipelines {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The length of the longest end of `text` that begins some stop string (text
// that may yet turn out to be a stop string, and so is not streamed yet).
size_t held_back(std::string_view text, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const std::string& stop : stops)
    for (size_t n = std::min(stop.size() - 1, text.size()); n > hold; --n)
      if (text.substr(text.size() - n) == std::string_view(stop).substr(0, n)) {
        hold = n;
        break;
      }
  return hold;
}

// One sequence of the batch as it grows.
struct Sequence {
  std::vector<int32_t> ids;  // prompt, then the generated tokens
  size_t prompt_len = 0;
  bool done = false;
  std::string finish_reason = "length";
  tokenizers::StreamDecoder decoder;
  std::string text;     // the new text so far
  size_t streamed = 0;  // bytes of text already handed to the stream
  size_t stop_checked = 0;
  bool at_text_start = false;  // the next token is the text's first
  bool trim_space_now = false;      // drop the space that starts the next decoded piece
  Sampler sampler;
};

}  // namespace

void GenerationOptions::validate() const {
  TF_CHECK(max_new_tokens >= 0 && max_new_tokens <= (int64_t(1) << 24),
           "max_new_tokens must be in [0, 16777216], got " << max_new_tokens);
  sampling.validate();
  for (const std::string& s : stop) TF_CHECK(!s.empty(), "a stop string may not be empty");
}

TextGenerationPipeline::TextGenerationPipeline(std::unique_ptr<models::CausalLM> model,
                                               std::unique_ptr<tokenizers::Tokenizer> tokenizer)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)) {
  // A model may have more ids than its tokenizer (a vocabulary padded for
  // speed), never fewer: the tokenizer's ids would index past the embeddings.
  TF_CHECK(!tokenizer_ || tokenizer_->vocab_size() <= static_cast<size_t>(model_->info().vocab_size),
           model_->info().source << ": the tokenizer has " << tokenizer_->vocab_size()
                                 << " tokens, more than the model's vocabulary of " << model_->info().vocab_size);
}

TextGenerationPipeline TextGenerationPipeline::from_pretrained(const std::filesystem::path& path) {
  auto model = models::load_causal_lm(path);  // first: a broken model file is the error to report
  return TextGenerationPipeline(std::move(model), tokenizers::load_tokenizer(path));
}

std::vector<Generation> TextGenerationPipeline::operator()(const std::vector<std::string>& prompts,
                                                           const GenerationOptions& options, const TextStream& stream) {
  TF_CHECK(tokenizer_, "text generation from text needs a tokenizer");
  std::vector<std::vector<int32_t>> ids;
  for (size_t i = 0; i < prompts.size(); ++i) {
    try {
      tokenizers::unicode::check_utf8(prompts[i]);
      ids.push_back(tokenizer_->encode(prompts[i]).input_ids);
    } catch (const Error& e) {
      TF_FAIL("prompt " << i + 1 << ": " << e.what());
    }
  }
  return generate_ids(ids, options, stream);
}

std::vector<Generation> TextGenerationPipeline::generate_ids(const std::vector<std::vector<int32_t>>& prompts,
                                                             const GenerationOptions& options,
                                                             const TextStream& stream) {
  options.validate();
  const models::CausalLMInfo& info = model_->info();
  const int64_t batch = static_cast<int64_t>(prompts.size()), vocab = info.vocab_size;
  stats_ = {};
  if (batch == 0) return {};

  // Every sequence and its limits, checked before any work.
  std::vector<Sequence> seqs(batch);
  int64_t longest = 0;
  for (int64_t b = 0; b < batch; ++b) {
    Sequence& s = seqs[b];
    s.ids = prompts[b];
    if (s.ids.empty() && info.bos_token_id) s.ids.push_back(*info.bos_token_id);
    TF_CHECK(!s.ids.empty(), "prompt " << b + 1 << ": empty, and the model has no BOS token to start from");
    TF_CHECK(static_cast<int64_t>(s.ids.size()) <= info.max_positions,
             "prompt " << b + 1 << ": " << s.ids.size() << " tokens, more than the model's context of "
                       << info.max_positions << " (" << info.source << ")");
    for (int32_t id : s.ids)
      TF_CHECK(id >= 0 && id < vocab, "prompt " << b + 1 << ": token id " << id << " is outside the vocabulary of "
                                                << vocab);
    s.prompt_len = s.ids.size();
    longest = std::max<int64_t>(longest, static_cast<int64_t>(s.ids.size()));
    SamplingOptions sampling = options.sampling;
    sampling.seed += static_cast<uint64_t>(b);  // each sequence its own draws, whatever its batch
    s.sampler = Sampler(sampling);
    s.sampler.reserve(vocab);
    // A prompt of special tokens only (an empty text after BOS): the first
    // new token starts the text.
    s.at_text_start = tokenizer_ && std::all_of(s.ids.begin(), s.ids.end(), [&](int32_t id) {
                             return tokenizer_->is_special_id(id);
                           });
  }
  const int64_t capacity = std::min(info.max_positions, longest + std::max<int64_t>(options.max_new_tokens, 1));
  // Room for every token a sequence can reach: the context bounds it
  // whatever max_new_tokens asks for.
  for (Sequence& s : seqs) s.ids.reserve(static_cast<size_t>(capacity));
  const int64_t max_rows = batch * (options.use_cache ? longest : capacity);
  model_->reserve_cache(cache_, batch, capacity);
  std::vector<int32_t> step_ids(max_rows);
  std::vector<int64_t> start(batch), positions(max_rows), logit_rows(batch);
  std::vector<float> key_mask(batch * capacity), logits(batch * vocab);

  auto finish = [&](Sequence& s, size_t index, const char* reason) {
    s.done = true;
    s.finish_reason = reason;
    if (std::string rest = s.decoder.finish(); !rest.empty() && s.finish_reason != "stop") s.text += rest;
    if (stream && s.streamed < s.text.size()) stream(index, std::string_view(s.text).substr(s.streamed));
    s.streamed = s.text.size();
  };
  // Appends a chosen token to sequence b: its text, stop strings, limits.
  auto append = [&](int64_t b, int32_t token) {
    Sequence& s = seqs[b];
    s.ids.push_back(token);
    const bool is_eos = options.stop_at_eos && std::find(info.eos_token_ids.begin(), info.eos_token_ids.end(),
                                                         token) != info.eos_token_ids.end();
    if (is_eos) return finish(s, b, "eos");
    if (tokenizer_ && !tokenizer_->is_special_id(token)) {
      const std::string bytes = tokenizer_->token_bytes(token);
      if (s.at_text_start) {
        // The text's first token: its space goes where the tokenizer's own
        // decode drops it (SentencePiece's dummy prefix; GPT-2 keeps it).
        s.at_text_start = false;
        if (bytes.starts_with(' ') && !tokenizer_->decode({token}, true).starts_with(' ')) s.trim_space_now = true;
      }
      std::string piece = s.decoder.push(bytes);
      if (s.trim_space_now && !piece.empty()) {
        if (piece[0] == ' ') piece.erase(0, 1);
        s.trim_space_now = false;
      }
      s.text += piece;
    }
    for (const std::string& stop : options.stop) {
      const size_t from = s.stop_checked >= stop.size() ? s.stop_checked - stop.size() + 1 : 0;
      if (const size_t at = s.text.find(stop, from); at != std::string::npos) {
        s.text.resize(at);
        return finish(s, b, "stop");
      }
    }
    s.stop_checked = s.text.size();
    const int64_t generated = static_cast<int64_t>(s.ids.size() - s.prompt_len);
    if (generated >= options.max_new_tokens || static_cast<int64_t>(s.ids.size()) >= capacity)
      return finish(s, b, "length");
    const size_t ready = s.text.size() - held_back(s.text, options.stop);
    if (stream && ready > s.streamed) stream(b, std::string_view(s.text).substr(s.streamed, ready - s.streamed));
    s.streamed = std::max(s.streamed, ready);
  };
  // Sequence b's next token, from its row of logits (b is not done: the loops below skip finished ones).
  auto choose = [&](int64_t b) { append(b, seqs[b].sampler.next(logits.data() + b * vocab, vocab, seqs[b].ids)); };
  auto all_done = [&] { return std::all_of(seqs.begin(), seqs.end(), [](const Sequence& s) { return s.done; }); };
  if (options.max_new_tokens == 0)
    for (int64_t b = 0; b < batch; ++b) finish(seqs[b], b, "length");

  // Whole sequences from slot 0, right-padded to the longest: the prefill,
  // and every step when the cache is not reused.
  auto full_forward = [&] {
    int64_t tokens = 0;
    for (const Sequence& s : seqs) tokens = std::max<int64_t>(tokens, static_cast<int64_t>(s.ids.size()));
    for (int64_t b = 0; b < batch; ++b) {
      const Sequence& s = seqs[b];
      const int64_t len = static_cast<int64_t>(s.ids.size());
      start[b] = 0;
      for (int64_t t = 0; t < tokens; ++t) {
        step_ids[b * tokens + t] = t < len ? s.ids[t] : s.ids[len - 1];
        positions[b * tokens + t] = t;
      }
      for (int64_t j = 0; j < capacity; ++j) key_mask[b * capacity + j] = j < len ? 1.0f : 0.0f;
      logit_rows[b] = b * tokens + len - 1;
    }
    const nn::DecodeStep step{batch, tokens, start.data(), positions.data(), key_mask.data(), capacity, tokens};
    model_->forward(step_ids.data(), step, cache_, logit_rows.data(), batch, logits.data());
  };

  auto t0 = Clock::now();
  if (!all_done()) {
    for (const Sequence& s : seqs) stats_.prompt_tokens += static_cast<int64_t>(s.prompt_len);
    full_forward();
    for (int64_t b = 0; b < batch; ++b) choose(b);
  }
  stats_.prefill_seconds = seconds_since(t0);

  t0 = Clock::now();
  while (!all_done()) {
    if (!options.use_cache) {
      full_forward();
    } else {
      // Each sequence's newest token at its own slot; a finished sequence
      // repeats its last step (its output is ignored), so the batch keeps its shape.
      int64_t kv_len = 0;
      for (int64_t b = 0; b < batch; ++b) {
        const Sequence& s = seqs[b];
        start[b] = static_cast<int64_t>(s.ids.size()) - 1;
        positions[b] = start[b];
        step_ids[b] = s.ids.back();
        key_mask[b * capacity + start[b]] = 1.0f;
        kv_len = std::max(kv_len, start[b] + 1);
      }
      const nn::DecodeStep step{batch, 1, start.data(), positions.data(), key_mask.data(), capacity, kv_len};
      model_->forward(step_ids.data(), step, cache_, nullptr, batch, logits.data());
    }
    for (int64_t b = 0; b < batch; ++b) {
      if (seqs[b].done) continue;
      ++stats_.decode_tokens;
      choose(b);
    }
  }
  stats_.decode_seconds = seconds_since(t0);

  std::vector<Generation> out(batch);
  for (int64_t b = 0; b < batch; ++b) {
    Sequence& s = seqs[b];
    out[b].input_ids.assign(s.ids.begin(), s.ids.begin() + static_cast<std::ptrdiff_t>(s.prompt_len));
    out[b].output_ids.assign(s.ids.begin() + static_cast<std::ptrdiff_t>(s.prompt_len), s.ids.end());
    out[b].text = std::move(s.text);
    out[b].finish_reason = s.finish_reason;
  }
  return out;
}

}  // namespace tformer::pipelines
