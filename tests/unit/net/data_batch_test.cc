// The byte batch between the session's data chunks and the intake's writes.
#include <gtest/gtest.h>

#include "net/intake.h"

namespace tlpmail::net {
namespace {

TEST(DataBatch, CollectsUntilTheLimitAndHandsOver) {
  DataBatch b(10);
  EXPECT_TRUE(b.is_empty());
  b.append("12345");
  EXPECT_FALSE(b.is_full());
  b.append("6789");
  EXPECT_FALSE(b.is_full());
  b.append("0ab");
  EXPECT_TRUE(b.is_full());
  EXPECT_EQ(b.size(), 12u);
  EXPECT_EQ(b.take(), "1234567890ab");
  EXPECT_TRUE(b.is_empty());
  EXPECT_FALSE(b.is_full());
  b.append("x");
  b.clear();
  EXPECT_TRUE(b.is_empty());
  EXPECT_EQ(b.take(), "");
  EXPECT_EQ(DataBatch().limit(), 256u * 1024u);
}

}  // namespace
}  // namespace tlpmail::net
