// Tests for smtp::Reply wire form and is_valid_reply.
#include "smtp/reply.h"

#include <gtest/gtest.h>

namespace tlpmail::smtp {
namespace {

TEST(ReplyTest, WireForm) {
  EXPECT_EQ((Reply{250, "2.1.0", "Ok"}.to_wire()), "250 2.1.0 Ok\r\n");
  EXPECT_EQ((Reply{354, "", "End data with <CR><LF>.<CR><LF>"}.to_wire()),
            "354 End data with <CR><LF>.<CR><LF>\r\n");
  EXPECT_EQ((Reply{250, "2.0.0", ""}.to_wire()), "250 2.0.0\r\n");
}

TEST(ReplyTest, Validity) {
  struct Case {
    Reply reply;
    bool want;
  };
  const Case cases[] = {
      {{250, "2.0.0", "Ok: queued as ABC123"}, true},
      {{451, "4.3.0", "Error: local fault"}, true},
      {{550, "5.7.1", "message is not signed"}, true},
      {{554, "5.123.456", "x"}, true},
      {{250, "", "Ok"}, false},       // enhanced code required
      {{250, "4.0.0", "Ok"}, false},  // class mismatch
      {{354, "3.0.0", "go"}, false},  // not a final reply
      {{199, "1.0.0", "x"}, false},
      {{600, "6.0.0", "x"}, false},
      {{250, "2.0", "Ok"}, false},
      {{250, "2.0.0.0", "Ok"}, false},
      {{250, "2.1234.0", "Ok"}, false},
      {{250, "2..0", "Ok"}, false},
      {{250, "2.0.0", "Ok\r\nMAIL FROM:<x@y>"}, false},  // reply injection
      {{250, "2.0.0", "Ok\x01"}, false},
      {{250, "2.0.0", std::string(501, 'x')}, false},  // line over 512
      {{250, "2.0.0", std::string(500, 'x')}, true},   // exactly 512 with CRLF
  };
  for (const Case& c : cases) {
    const bool got = is_valid_reply(c.reply);
    EXPECT_EQ(got, c.want) << c.reply.code << " " << c.reply.enhanced << " "
                           << c.reply.text.substr(0, 30);
  }
}

}  // namespace
}  // namespace tlpmail::smtp
