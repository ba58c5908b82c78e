// Runs the fixture corpus (tests/fixtures/make_corpus.py, real gpg) through
// pipeline::Verifier in manifest order: every verdict, SMTP reply, reason
// text and label must be exactly the manifest's; accepted messages are
// recorded so that replays and thread inheritance work for later ones; no
// must_not_contain marker may appear in a verdict, an audit row or the
// database files.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "corpus_support.h"
#include "intake/record.h"
#include "intake/replies.h"
#include "keyring/keyring.h"
#include "openpgp/context.h"
#include "openpgp/list_key.h"
#include "pipeline/verifier.h"
#include "store/database.h"
#include "util/text.h"

namespace tlpmail::pipeline {
namespace {

namespace fs = std::filesystem;

using test_support::read_file;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

using Entry = std::map<std::string, std::string>;

std::vector<Entry> read_manifest(const fs::path& tsv) {
  std::istringstream in(read_file(tsv));
  std::string line;
  std::vector<std::string> header;
  std::vector<Entry> out;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto cells = split(line, '\t');
    if (header.empty()) {
      header = cells;
      continue;
    }
    Entry e;
    for (std::size_t i = 0; i < header.size() && i < cells.size(); ++i) e[header[i]] = cells[i];
    out.push_back(e);
  }
  return out;
}

std::string strip_angles(const std::string& id) {
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') return id.substr(1, id.size() - 2);
  return id;
}

std::string verdict_text(const Verdict& v) {
  std::string s = intake::reply_for(v).to_string() + "\n" + v.reason + "\n" + v.message_id + "\n" +
                  v.parent_message_id + "\n" + v.replay_digest + "\n";
  if (v.signer) s += v.signer->email + " " + v.signer->fingerprint + "\n";
  if (v.decision) {
    for (const auto& r : v.decision->recipients) s += r + "\n";
    for (const auto& l : v.decision->left_out) s += l.email + " " + l.reason + "\n";
    for (const auto& r : v.decision->raises) s += policy::describe(r) + "\n";
  }
  return s;
}

class CorpusTest : public test_support::CorpusSuite {
 protected:
  static void SetUpTestSuite() {
    CorpusSuite::SetUpTestSuite();
    if (world_ == nullptr) return;
    root_ = &world_->root;
    db_ = world_->open_db("state").release();
    ASSERT_NE(db_, nullptr);
    manifest_ = new std::vector<Entry>(read_manifest(world_->corpus() / "manifest.tsv"));
  }

  static void TearDownTestSuite() {
    delete db_;
    delete manifest_;
    CorpusSuite::TearDownTestSuite();
  }

  static const fs::path* root_;
  static store::Database* db_;
  static std::vector<Entry>* manifest_;
};

const fs::path* CorpusTest::root_ = nullptr;
store::Database* CorpusTest::db_ = nullptr;
std::vector<Entry>* CorpusTest::manifest_ = nullptr;

TEST_F(CorpusTest, EveryFixtureGetsItsExactVerdict) {
  ASSERT_NE(manifest_, nullptr);
  ASSERT_EQ(manifest_->size(), 60u);
  Verifier verifier(**config_, *keys_, *db_);
  std::vector<std::string> markers;
  std::string all_verdicts;
  int sequence = 0;
  for (const Entry& e : *manifest_) {
    ++sequence;
    SCOPED_TRACE(e.at("name"));
    const directory::MailingList* list = (*config_)->directory.find_list(e.at("list"));
    ASSERT_NE(list, nullptr);
    const std::string raw = read_file(*root_ / "c" / e.at("file"));
    const std::time_t now = std::time(nullptr);
    auto got = verifier.verify(*gpg_, *list, raw, now);
    ASSERT_TRUE(got.has_value()) << got.error().message;
    const Verdict& v = *got;

    const bool want_accept = e.at("expect") == "accept";
    EXPECT_EQ(v.accepted, want_accept) << intake::reply_for(v).to_string();
    EXPECT_EQ(intake::reply_for(v).code, std::stoi(e.at("smtp_code")));
    EXPECT_EQ(intake::reply_for(v).enhanced, e.at("enhanced_code"));
    if (want_accept) {
      ASSERT_TRUE(v.label.has_value());
      EXPECT_EQ(policy::to_string(*v.label), e.at("label"));
      EXPECT_EQ(v.refusal, RefusalKind::none);
      ASSERT_TRUE(v.signer.has_value());
      EXPECT_EQ(v.signer->fingerprint, e.at("signer_fingerprint"));
      EXPECT_TRUE(iequals(v.signer->email, e.at("signer")));
      EXPECT_FALSE(v.replay_digest.empty());
      ASSERT_TRUE(v.decision.has_value());
      EXPECT_FALSE(v.decision->recipients.empty());
    } else {
      EXPECT_EQ(intake::reply_for(v).text, e.at("reason"));
      EXPECT_EQ(v.reason, e.at("reason"));
      EXPECT_NE(v.refusal, RefusalKind::none);
      EXPECT_FALSE(v.label.has_value());
    }
    EXPECT_EQ(v.message_id, strip_angles(e.at("message_id")));
    if (!e.at("parent").empty()) {
      EXPECT_FALSE(v.parent_message_id.empty());
    }

    const std::string queue_id = v.accepted ? "Q" + std::to_string(sequence) : "";
    auto recorded = intake::record(*db_, v, *list, queue_id, now);
    EXPECT_TRUE(recorded.has_value()) << recorded.error().message;

    all_verdicts += verdict_text(v);
    for (const std::string& m : split(e.at("must_not_contain"), ',')) {
      if (!m.empty()) markers.push_back(m);
    }
  }

  // Every verdict has its audit row; refusals without a queue id.
  auto counts = db_->query(
      "SELECT COUNT(*), SUM(verdict = 'accepted'), SUM(queue_id IS NULL) FROM audit_log");
  ASSERT_TRUE(counts.has_value());
  EXPECT_EQ(counts->at(0).integer(0), 60);
  EXPECT_EQ(counts->at(0).integer(1), 19);
  EXPECT_EQ(counts->at(0).integer(2), 41);

  // The markers appear nowhere: verdicts, audit rows, database files.
  ASSERT_FALSE(markers.empty());
  std::string audit;
  for (const char* sql : {"SELECT * FROM audit_log", "SELECT * FROM audit_recipients",
                          "SELECT * FROM thread_index", "SELECT * FROM replay_digests"}) {
    auto rows = db_->query(sql);
    ASSERT_TRUE(rows.has_value()) << rows.error().message;
    for (const auto& row : *rows) {
      for (std::size_t i = 0; i < row.size(); ++i) {
        if (!row.is_null(i) && std::holds_alternative<std::string>(row[i])) {
          audit += row.text(i) + "\n";
        }
      }
    }
  }
  std::string files;
  for (const auto& f : fs::directory_iterator(*root_ / "state")) files += read_file(f.path());
  for (const std::string& m : markers) {
    EXPECT_EQ(all_verdicts.find(m), std::string::npos) << m;
    EXPECT_EQ(audit.find(m), std::string::npos) << m;
    EXPECT_EQ(files.find(m), std::string::npos) << m;
  }
}

// A message encrypted to another list's key (both keys are in the home)
// is refused, never read.
TEST_F(CorpusTest, CiphertextForAnotherListIsRefused) {
  ASSERT_NE(manifest_, nullptr);
  auto [db, verifier] = own_database("other-list");
  ASSERT_NE(db, nullptr);
  const auto* ops = (*config_)->directory.find_list("ops@lists.example.org");
  ASSERT_NE(ops, nullptr);
  const std::string raw = world_->message("accept-red-on-red-list");
  auto got = verifier->verify(*gpg_, *ops, raw, std::time(nullptr));
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_FALSE(got->accepted);
  EXPECT_EQ(got->refusal, RefusalKind::not_encrypted_to_list);
  EXPECT_EQ(intake::reply_for(*got).to_string(), "550 5.7.1 message is not encrypted to this list's key");
}

// Replay digests are global: a signature accepted on one list is a replay
// on every other list too (docs/pipeline.md, "Replay").
TEST_F(CorpusTest, ASignatureAcceptedOnOneListIsAReplayOnAnother) {
  ASSERT_NE(manifest_, nullptr);
  auto [db, verifier] = own_database("cross-list");
  ASSERT_NE(db, nullptr);
  const auto* ops = (*config_)->directory.find_list("ops@lists.example.org");
  const auto* red = (*config_)->directory.find_list("red@lists.example.org");
  ASSERT_TRUE(ops && red);
  const std::string raw = world_->message("accept-replay-original");
  const std::time_t now = std::time(nullptr);
  auto first = verifier->verify(*gpg_, *red, raw, now);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(first->accepted) << intake::reply_for(*first).to_string();
  ASSERT_TRUE(intake::record(*db, *first, *red, "Q1", now).has_value());
  auto again = verifier->verify(*gpg_, *ops, raw, now);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(intake::reply_for(*again).to_string(), "550 5.7.1 signature was already used (replay)");
  // The same verdict recorded twice (a lost race) is an exact retry of Q1;
  // with another Message-ID it is refused by intake::record().
  auto twice = intake::record(*db, *first, *red, "Q2", now);
  ASSERT_TRUE(twice.has_value());
  EXPECT_EQ(twice->duplicate_of, "Q1");
  Verdict other_id = *first;
  other_id.message_id = "other@example.org";
  twice = intake::record(*db, other_id, *red, "Q2", now);
  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(intake::reply_for_fault(twice.error()).to_string(),
            "550 5.7.1 signature was already used (replay)");
}

}  // namespace
}  // namespace tlpmail::pipeline
