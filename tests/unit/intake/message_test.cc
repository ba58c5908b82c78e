// The intake's decision at the end of DATA without sockets: a Stage over a
// real spool and database (and, for postings, the fixture corpus's keys
// with real gpg) takes a message as the server hands it over and answers
// what DATA gets: queued, already queued, refused (nothing kept, an audit
// row), -request mail kept unverified, and the "unavailable" fallback.
#include "intake/stage.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "corpus_support.h"
#include "queue/env.h"
#include "openpgp/handoff.h"
#include "queue/spool.h"

namespace tlpmail::intake {
namespace {

class IntakeMessageTest : public test_support::CorpusSuite {
 protected:
  void SetUp() override {
    ASSERT_NE(world_, nullptr);
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    db_ = world_->open_db("state-" + name);
    ASSERT_NE(db_, nullptr);
    auto spool = queue::Spool::open(queue::Env::posix(),
                                    (world_->root / ("state-" + name) / "spool").string(), *db_);
    ASSERT_TRUE(spool.has_value()) << spool.error().message;
    spool_ = std::move(*spool);
  }

  Stage stage(bool with_keys) {
    return Stage(Context{world_->config, with_keys ? world_->keys : nullptr, world_->home,
                         spool_.get(), db_.get(), handoff_});
  }
  static smtp::Envelope envelope(const std::string& rcpt) {
    smtp::Envelope e;
    e.mail_from = "alice@a.example";
    e.recipients = {rcpt};
    return e;
  }
  // Hands `raw` over in two writes and the last bytes, as the server does.
  static net::DataOutcome send(const Stage& s, const std::string& rcpt, const std::string& raw) {
    auto m = s.begin("s1", envelope(rcpt));
    const std::size_t third = raw.size() / 3;
    EXPECT_TRUE(m->write(raw.substr(0, third)));
    EXPECT_TRUE(m->write(raw.substr(third, third)));
    return m->finish(raw.substr(2 * third), raw.size());
  }
  std::size_t pending() {
    auto p = spool_->pending();
    EXPECT_TRUE(p.has_value());
    return p ? p->size() : 0;
  }
  std::string audit(const char* column) {
    auto rows = db_->query(std::string("SELECT group_concat(") + column +
                           ", ',') FROM (SELECT * FROM audit_log ORDER BY id)");
    EXPECT_TRUE(rows.has_value());
    return rows && !rows->at(0).is_null(0) ? rows->at(0).text(0) : std::string();
  }

  std::unique_ptr<store::Database> db_;
  std::unique_ptr<queue::Spool> spool_;
  std::shared_ptr<openpgp::Handoff> handoff_ = std::make_shared<openpgp::Handoff>();
};


const std::string kOps = "ops@lists.example.org";

TEST_F(IntakeMessageTest, WithoutKeysEveryMessageIsCommittedAsReceived) {
  const std::string raw = "Subject: x\r\n\r\nhello\r\n";
  auto got = send(stage(false), kOps, raw);
  EXPECT_TRUE(got.new_message);
  ASSERT_EQ(pending(), 1u);
  auto spooled = spool_->pending();
  const std::string id = spooled->front().id;
  EXPECT_EQ(got.reply.to_string(), "250 2.0.0 Ok: queued as " + id);
  auto bytes = spool_->read_message(id);
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(*bytes, raw);
  EXPECT_EQ(audit("verdict"), "");
}

TEST_F(IntakeMessageTest, AcceptedDuplicateAndReplay) {
  const Stage s = stage(true);
  const std::string raw = world_->message("accept-replay-original");
  auto first = send(s, kOps, raw);
  ASSERT_EQ(pending(), 1u);
  const std::string id = spool_->pending()->front().id;
  EXPECT_EQ(first.reply.to_string(), "250 2.0.0 Ok: queued as " + id);
  EXPECT_TRUE(first.new_message);

  // The MTA never saw the 250 and sends the same bytes again.
  auto again = send(s, kOps, raw);
  EXPECT_EQ(again.reply.to_string(), "250 2.0.0 Ok: already queued as " + id);
  EXPECT_FALSE(again.new_message);

  // The same signature under another Message-ID: a replay, nothing kept.
  auto replay = send(s, kOps, world_->message("refuse-replay"));
  EXPECT_EQ(replay.reply.to_string(), "550 5.7.1 signature was already used (replay)");
  EXPECT_FALSE(replay.new_message);

  EXPECT_EQ(pending(), 1u);
  EXPECT_EQ(audit("verdict"), "accepted,duplicate,refused");
  EXPECT_EQ(audit("queue_id"), id + "," + id);  // the refusal has none
  EXPECT_EQ(audit("smtp_reply"), "250 2.0.0,250 2.0.0,550 5.7.1");
}

// An accepted encrypted posting's decryption waits for its fan-out under
// its queue id (openpgp::Handoff); a signed-only posting, a refusal and an
// exact retry leave nothing there.
TEST_F(IntakeMessageTest, AcceptedEncryptedPostingIsHandedToTheFanout) {
  const Stage s = stage(true);
  auto signed_only = send(s, kOps, world_->message("accept-pgpmime-signed"));
  ASSERT_EQ(signed_only.reply.code, 250) << signed_only.reply.to_string();
  EXPECT_EQ(handoff_->size(), 0u);

  const std::string raw = world_->message("accept-pgpmime-combined");
  auto got = send(s, kOps, raw);
  ASSERT_EQ(got.reply.code, 250) << got.reply.to_string();
  ASSERT_EQ(handoff_->size(), 1u);
  std::string id;
  auto spooled = spool_->pending();
  ASSERT_TRUE(spooled);
  for (const auto& m : *spooled) {
    auto bytes = spool_->read_message(m.id);
    if (bytes && *bytes == raw) id = m.id;
  }
  ASSERT_FALSE(id.empty());
  auto again = send(s, kOps, raw);  // an exact retry: already queued
  EXPECT_EQ(again.reply.to_string(), "250 2.0.0 Ok: already queued as " + id);
  EXPECT_EQ(handoff_->size(), 1u);
  auto refused = send(s, kOps, world_->message("refuse-unsigned"));
  EXPECT_EQ(refused.reply.code, 550);
  EXPECT_EQ(handoff_->size(), 1u);

  auto handed = handoff_->take(id, std::time(nullptr));
  ASSERT_TRUE(handed);
  EXPECT_EQ(handed->status, openpgp::DecryptStatus::decrypted);
  EXPECT_NE(handed->plaintext.find("Content-Type"), std::string::npos);
  EXPECT_FALSE(handed->recipients.empty());
}

TEST_F(IntakeMessageTest, RefusedMessageIsNotKept) {
  auto got = send(stage(true), kOps, world_->message("refuse-unsigned"));
  EXPECT_EQ(got.reply.to_string(), "550 5.7.1 message is not signed");
  EXPECT_FALSE(got.new_message);
  EXPECT_EQ(pending(), 0u);
  EXPECT_EQ(audit("verdict"), "refused");
  EXPECT_EQ(audit("refusal"), "unsigned_message");
}

TEST_F(IntakeMessageTest, RequestAddressIsKeptUnverified) {
  auto got = send(stage(true), "ops-request@lists.example.org", "Subject: help\r\n\r\nhelp\r\n");
  EXPECT_TRUE(got.new_message);
  EXPECT_EQ(got.reply.code, 250);
  EXPECT_EQ(pending(), 1u);
  EXPECT_EQ(audit("verdict"), "");
}

TEST_F(IntakeMessageTest, AbortKeepsNothing) {
  auto m = stage(false).begin("s1", envelope(kOps));
  EXPECT_TRUE(m->write("Subject: x\r\n\r\n"));
  m->abort();
  EXPECT_EQ(pending(), 0u);
}

TEST_F(IntakeMessageTest, UnavailableIsTheSpoolsTemporaryReply) {
  auto got = stage(false).unavailable("s1", envelope(kOps), "commit did not finish", 10);
  EXPECT_EQ(got.reply.to_string(), "451 4.3.0 Local error: spool unavailable");
  EXPECT_FALSE(got.new_message);
}

}  // namespace
}  // namespace tlpmail::intake
