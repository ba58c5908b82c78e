// openpgp::Handoff: one use per message, the bounds (messages, bytes,
// largest plaintext, age, a clock that went back) and what it refuses to
// keep. No gpg: a Decryption is a value here.
#include "openpgp/handoff.h"

#include <gtest/gtest.h>

#include <string>

namespace tlpmail::openpgp {
namespace {

Decryption decrypted(const std::string& text) {
  Decryption d;
  d.status = DecryptStatus::decrypted;
  d.plaintext = text;
  d.recipients = {"0123456789ABCDEF"};
  return d;
}

TEST(HandoffTest, TakenOnceByItsMessage) {
  Handoff h;
  h.put("q1", decrypted("secret body"), 1000);
  EXPECT_EQ(h.size(), 1u);
  EXPECT_EQ(h.bytes(), 11u);
  EXPECT_FALSE(h.take("q2", 1000));
  auto got = h.take("q1", 1001);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->plaintext, "secret body");
  EXPECT_EQ(got->recipients, std::vector<std::string>{"0123456789ABCDEF"});
  EXPECT_FALSE(h.take("q1", 1001)) << "one use";
  EXPECT_EQ(h.size(), 0u);
  EXPECT_EQ(h.bytes(), 0u);
}

TEST(HandoffTest, KeepsOnlyWhatFitsTheBounds) {
  Handoff::Limits limits;
  limits.max_messages = 3;
  limits.max_bytes = 100;
  limits.max_age = 60;
  Handoff h(limits);
  for (int i = 1; i <= 4; ++i)
    h.put("q" + std::to_string(i), decrypted(std::string(10, 'a')), 1000);
  EXPECT_EQ(h.size(), 3u);
  // Full: the newest is not kept; the oldest, which the fan-out takes
  // next under a backlog, stay.
  EXPECT_FALSE(h.take("q4", 1000));
  EXPECT_TRUE(h.take("q1", 1000));
  h.put("q5", decrypted(std::string(10, 'e')), 1000);  // room again
  EXPECT_TRUE(h.take("q5", 1000));

  // Bytes: 20 held, 60 fit, another 60 do not.
  h.put("big", decrypted(std::string(60, 'b')), 1000);
  h.put("bigger", decrypted(std::string(60, 'c')), 1000);
  EXPECT_EQ(h.bytes(), 80u);
  EXPECT_FALSE(h.take("bigger", 1000));
  EXPECT_TRUE(h.take("big", 1000));

  // Larger than the whole budget: not kept, and what was there stays.
  const std::size_t before = h.size();
  h.put("huge", decrypted(std::string(101, 'd')), 1000);
  EXPECT_EQ(h.size(), before);
  EXPECT_FALSE(h.take("huge", 1000));

  // Larger than kLargest, whatever the budget.
  Handoff::Limits roomy;
  roomy.max_bytes = 2 * Handoff::kLargest;
  Handoff large(roomy);
  large.put("over", decrypted(std::string(Handoff::kLargest + 1, 'x')), 1000);
  EXPECT_EQ(large.size(), 0u);
  large.put("at", decrypted(std::string(Handoff::kLargest, 'x')), 1000);
  EXPECT_EQ(large.size(), 1u);
}

TEST(HandoffTest, AgeAndClock) {
  Handoff::Limits limits;
  limits.max_age = 60;
  Handoff h(limits);
  h.put("old", decrypted("a"), 1000);
  EXPECT_FALSE(h.take("old", 1060)) << "60 s old: too old";
  h.put("back", decrypted("b"), 1000);
  EXPECT_FALSE(h.take("back", 999)) << "the clock went back";
  h.put("fine", decrypted("c"), 1000);
  EXPECT_TRUE(h.take("fine", 1059));
  // An old entry is dropped by the next put, taken or not.
  h.put("stale", decrypted("d"), 1000);
  h.put("new", decrypted("e"), 2000);
  EXPECT_EQ(h.size(), 1u);
  EXPECT_EQ(h.bytes(), 1u);
}

TEST(HandoffTest, RefusesWhatIsNoDecryption) {
  Handoff h;
  Decryption failed;
  failed.status = DecryptStatus::no_secret_key;
  h.put("q1", failed, 1000);
  h.put("", decrypted("x"), 1000);
  EXPECT_EQ(h.size(), 0u);
}

TEST(HandoffTest, SharedDecryptionKeepsItsValue) {
  auto shared = shared_decryption(decrypted("body"));
  EXPECT_EQ(shared->plaintext, "body");
  Handoff h;
  h.put("q1", std::move(*shared), 1000);
  auto got = h.take("q1", 1000);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->plaintext, "body");
}

}  // namespace
}  // namespace tlpmail::openpgp
