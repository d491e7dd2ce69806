// StreamDecoder: token bytes in, valid UTF-8 out as soon as each character
// is complete, SentencePiece's one U+FFFD per byte of a broken sequence.
#include <gtest/gtest.h>

#include <string>

#include "tformer/tokenizers/tokenizer.h"

namespace tformer::tokenizers {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(StreamDecoder, HoldsACharacterBackUntilItsLastByte) {
  StreamDecoder d;
  EXPECT_EQ(d.push("caf"), "caf");
  EXPECT_EQ(d.push("\xC3"), "");
  EXPECT_EQ(d.push("\xA9!"), "\xC3\xA9!");  // é
  EXPECT_EQ(d.push("\xF0\x9F"), "");
  EXPECT_EQ(d.push("\x98"), "");
  EXPECT_EQ(d.push("\x80"), "\xF0\x9F\x98\x80");  // 😀 over three pushes
  EXPECT_EQ(d.finish(), "");
}

TEST(StreamDecoder, BrokenSequencesBecomeOneReplacementPerByte) {
  StreamDecoder d;
  EXPECT_EQ(d.push("\xF0\x9F"), "");
  EXPECT_EQ(d.push("A"), kFffd + kFffd + "A");  // a 4-byte sequence cut short after 2
  EXPECT_EQ(d.push("\x80"), kFffd);              // a lone continuation byte
  EXPECT_EQ(d.push("\xC0\xAF"), kFffd + kFffd);  // an overlong form
  EXPECT_EQ(d.push("\xED\xA0\x80"), kFffd + kFffd + kFffd);  // a UTF-16 surrogate
  EXPECT_EQ(d.push("\xFF"), kFffd);
  EXPECT_EQ(d.push("\xE2\x82"), "");
  EXPECT_EQ(d.finish(), kFffd + kFffd);  // what was left at the end
  EXPECT_EQ(d.push("ok"), "ok");         // and the decoder starts afresh
}

}  // namespace
}  // namespace tformer::tokenizers
