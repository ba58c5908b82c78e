// The intake's replies: every refusal kind maps to one reply, local faults
// are temporary and hide their text. Pure functions, no gpg.
#include "intake/replies.h"

#include <gtest/gtest.h>

#include <string>

namespace tlpmail::intake {
namespace {

using pipeline::kReasonExpired;
using pipeline::kReasonReplay;
using pipeline::kReasonUnsigned;
using pipeline::RefusalKind;

TEST(ReplyFor, MapsEveryKindToOneReply) {
  struct Case {
    RefusalKind kind;
    std::string reason;
    smtp::Reply want;
  };
  const Case cases[] = {
      {RefusalKind::none, "", {250, "2.0.0", "message accepted"}},
      {RefusalKind::malformed,
       "message is malformed (x)",
       {550, "5.6.0", "message is malformed (x)"}},
      {RefusalKind::unsupported_format, "y", {550, "5.6.0", "y"}},
      {RefusalKind::unsigned_message,
       std::string(kReasonUnsigned),
       {550, "5.7.1", "message is not signed"}},
      {RefusalKind::replay,
       std::string(kReasonReplay),
       {550, "5.7.1", "signature was already used (replay)"}},
      {RefusalKind::tlp_above_ceiling,
       "TLP:RED is above this list's ceiling TLP:AMBER",
       {550, "5.7.1", "TLP:RED is above this list's ceiling TLP:AMBER"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(to_string(c.kind)));
    const smtp::Reply got = reply_for(c.kind, c.reason);
    EXPECT_EQ(got, c.want);
  }
  EXPECT_EQ(reply_for(RefusalKind::key_expired, kReasonExpired).to_string(),
            "550 5.7.1 signing key is expired");
}

TEST(ReplyForFault, LocalFaultsAreTemporaryAndHideTheirText) {
  const smtp::Reply t = reply_for_fault(Error::temporary("database: database is locked"));
  EXPECT_EQ(t, (smtp::Reply{451, "4.3.0", "local error, please try again later"}));
  EXPECT_EQ(reply_for_fault(Error::corrupt("database: disk image is malformed")).code, 451);
  EXPECT_EQ(reply_for_fault(Error::permanent("gpg: 2 usable list keys")).code, 451);
  EXPECT_EQ(reply_for_fault(Error::refused(std::string(kReasonReplay))),
            (smtp::Reply{550, "5.7.1", "signature was already used (replay)"}));
}

}  // namespace
}  // namespace tlpmail::intake
