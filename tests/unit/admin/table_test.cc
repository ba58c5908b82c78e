// Tests of tlpmailctl's column alignment and date format.
#include "admin/table.h"

#include <gtest/gtest.h>

namespace tlpmail::admin {
namespace {

TEST(Table, AlignsColumnsWithTwoSpaces) {
  Table t({"EMAIL", "CLEARANCE", "KEY"});
  t.add({"alice@csirt-a.example", "RED", "ok"});
  t.add({"bo@b.example", "AMBER+STRICT", "expires in 3 days"});
  EXPECT_EQ(t.render(),
            "EMAIL                  CLEARANCE     KEY\n"
            "alice@csirt-a.example  RED           ok\n"
            "bo@b.example           AMBER+STRICT  expires in 3 days\n");
}

TEST(Table, CountsCodePointsNotBytes) {
  Table t({"NAME", "X"});
  t.add({"J\xc3\xbcrgen", "1"});
  t.add({"Jurgen", "2"});
  EXPECT_EQ(t.render(), "NAME    X\nJ\xc3\xbcrgen  1\nJurgen  2\n");
}

TEST(Table, EmptyLastCellLeavesNoTrailingSpace) {
  Table t({"A", "B"});
  t.add({"x", ""});
  EXPECT_EQ(t.render(), "A  B\nx\n");
}

}  // namespace
}  // namespace tlpmail::admin
