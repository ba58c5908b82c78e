// Small tests of single rules: tables of cases, pure functions, no gpg.
#include "pipeline/rules.h"

#include <gtest/gtest.h>

#include "pipeline/verdict.h"

namespace tlpmail::pipeline {
namespace {

TEST(WeakHashReason, NamesTheAlgorithm) {
  EXPECT_EQ(weak_hash_reason("SHA1"), "signature uses a weak hash algorithm (SHA1)");
  EXPECT_EQ(weak_hash_reason("MD5"), "signature uses a weak hash algorithm (MD5)");
}

TEST(SignatureAge, BoundsAreSkewAndMaximumAge) {
  const std::time_t now = 1'800'000'000;
  const Options opt;  // 7 days, 5 minutes
  struct Case {
    const char* name;
    std::time_t created;
    std::time_t expires;
    RefusalKind want;
  };
  const Case cases[] = {
      {"now", now, 0, RefusalKind::none},
      {"within skew", now + 300, 0, RefusalKind::none},
      {"beyond skew", now + 301, 0, RefusalKind::signature_in_future},
      {"one day ahead", now + 86400, 0, RefusalKind::signature_in_future},
      {"exactly 7 days", now - 7 * 86400, 0, RefusalKind::none},
      {"7 days and a second", now - 7 * 86400 - 1, 0, RefusalKind::signature_too_old},
      {"signature expired", now - 60, now - 1, RefusalKind::signature_expired},
      {"signature expires later", now - 60, now + 60, RefusalKind::none},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    openpgp::SignatureFacts s;
    s.status = openpgp::SignatureStatus::good;
    s.created = c.created;
    s.expires = c.expires;
    const auto got = rules::check_signature_age(s, now, opt);
    EXPECT_EQ(got ? got->kind : RefusalKind::none, c.want);
  }
  Options wide;
  wide.max_signature_age = std::chrono::hours(24 * 30);
  openpgp::SignatureFacts s;
  s.created = now - 10 * 86400;
  EXPECT_FALSE(rules::check_signature_age(s, now, wide).has_value());
  EXPECT_EQ(rules::check_signature_age(s, now, opt)->reason, "signature is too old");
}

TEST(CheckSignature, CountsStatusAndHash) {
  auto good = [](std::string hash) {
    openpgp::SignatureFacts s;
    s.status = openpgp::SignatureStatus::good;
    s.hash_algorithm = std::move(hash);
    s.primary_fingerprint = std::string(40, 'A');
    s.replay_digest = std::string(64, 'b');
    s.created = 1'800'000'000;
    return s;
  };
  struct Case {
    const char* name;
    std::vector<openpgp::SignatureFacts> sigs;
    std::string want;  // reason, "" for pass
  };
  openpgp::SignatureFacts bad;
  bad.status = openpgp::SignatureStatus::bad;
  openpgp::SignatureFacts nokey;
  nokey.status = openpgp::SignatureStatus::no_public_key;
  openpgp::SignatureFacts md5;
  md5.status = openpgp::SignatureStatus::weak_hash_refused;
  md5.hash_algorithm = "MD5";
  openpgp::SignatureFacts future;
  future.status = openpgp::SignatureStatus::error;
  future.created = 1'800'000'000 + 86400;
  const std::vector<Case> cases = {
      {"none", {}, "message is not signed"},
      {"two", {good("SHA256"), good("SHA256")}, "message has more than one signature"},
      {"bad", {bad}, "signature is not valid"},
      {"no key", {nokey}, "signing key is not pinned for any member"},
      {"md5", {md5}, "signature uses a weak hash algorithm (MD5)"},
      {"sha1", {good("SHA1")}, "signature uses a weak hash algorithm (SHA1)"},
      {"future", {future}, "signature is dated in the future"},
      {"sha256", {good("SHA256")}, ""},
      {"sha512", {good("SHA512")}, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    rules::Evidence ev;
    ev.signatures = c.sigs;
    const auto got = rules::check_signature(ev, 1'800'000'000, Options{});
    EXPECT_EQ(got ? got->reason : "", c.want);
    EXPECT_EQ(ev.signature != nullptr, c.want.empty());
  }
}

}  // namespace
}  // namespace tlpmail::pipeline
