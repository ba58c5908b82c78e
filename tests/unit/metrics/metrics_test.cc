// lib/metrics without sockets: the registry's text format (escapes,
// cumulative histogram buckets), the endpoint's answers, the state report
// and the collector's counters against a real tlpmail.db in a temp folder,
// and the daemon's status file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <ctime>
#include <fstream>

#include "metrics/collector.h"
#include "metrics/http.h"
#include "metrics/registry.h"
#include "metrics/state_report.h"
#include "metrics/status_file.h"
#include "store/database.h"
#include "support/temp_dir.h"

namespace tlpmail::metrics {
namespace {

using ::tlpmail::testing::TempDir;

TEST(RegistryTest, RendersCountersGaugesAndEscapes) {
  Registry r;
  r.declare("t_total", Type::counter, "Things.");
  r.declare("t_gauge", Type::gauge, "A gauge.");
  r.add("t_total", {{"reason", "a \"quoted\" \\ reason\nnext"}}, 2);
  r.add("t_total", {{"reason", "a \"quoted\" \\ reason\nnext"}});
  r.add("t_total", {{"reason", "x"}}, -5);  // counters never go down
  r.set("t_gauge", {}, 0.25);
  r.set("undeclared", {}, 1);
  EXPECT_EQ(r.render(),
            "# HELP t_total Things.\n"
            "# TYPE t_total counter\n"
            "t_total{reason=\"a \\\"quoted\\\" \\\\ reason\\nnext\"} 3\n"
            "# HELP t_gauge A gauge.\n"
            "# TYPE t_gauge gauge\n"
            "t_gauge 0.25\n");
}

TEST(RegistryTest, HistogramBucketsAreCumulative) {
  Registry r;
  r.declare("h_seconds", Type::histogram, "H.", {0.5, 1, 5});
  for (double v : {0.25, 0.5, 0.75, 3.0, 10.0}) r.observe("h_seconds", {}, v);
  EXPECT_EQ(r.render(),
            "# HELP h_seconds H.\n"
            "# TYPE h_seconds histogram\n"
            "h_seconds_bucket{le=\"0.5\"} 2\n"
            "h_seconds_bucket{le=\"1\"} 3\n"
            "h_seconds_bucket{le=\"5\"} 4\n"
            "h_seconds_bucket{le=\"+Inf\"} 5\n"
            "h_seconds_sum 14.5\n"
            "h_seconds_count 5\n");
}

TEST(RegistryTest, ClearDropsSeries) {
  Registry r;
  r.declare("g", Type::gauge, "G.");
  r.set("g", {{"list", "a@x"}}, 1);
  r.clear("g");
  r.set("g", {{"list", "b@x"}}, 2);
  EXPECT_EQ(r.render(), "# HELP g G.\n# TYPE g gauge\ng{list=\"b@x\"} 2\n");
}

TEST(HttpTest, Answers) {
  struct Case {
    const char* method;
    const char* target;
    int want_status;
    bool want_render;
  };
  const Case cases[] = {
      {"GET", "/metrics", 200, true},  {"GET", "/metrics?x=1", 200, true},
      {"HEAD", "/metrics", 200, true}, {"POST", "/metrics", 405, false},
      {"GET", "/", 404, false},        {"GET", "/metrics/../x", 404, false},
  };
  for (const auto& c : cases) {
    bool rendered = false;
    HttpAnswer got = answer(c.method, c.target, [&] {
      rendered = true;
      return std::string("m 1\n");
    });
    EXPECT_EQ(got.status, c.want_status) << c.method << " " << c.target;
    EXPECT_EQ(rendered, c.want_render) << c.method << " " << c.target;
    EXPECT_EQ(wants_metrics(c.method, c.target), c.want_render);
    if (got.status == 200) {
      EXPECT_EQ(got.content_type, kExpositionType);
      EXPECT_EQ(got.content_length, 4u);
      EXPECT_EQ(got.body, std::string(c.method) == "HEAD" ? "" : "m 1\n");
    }
    if (got.status == 405) {
      EXPECT_EQ(got.allow, "GET, HEAD");
    }
  }
}

// A tlpmail.db with the project's schema and a few rows.
class StateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::Database::open(file());
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
  }
  std::string file() const { return dir_.file("tlpmail.db"); }
  void exec(const std::string& sql, const store::Params& p = {}) {
    auto r = db_->execute(sql, p);
    ASSERT_TRUE(r) << r.error().message << "\n" << sql;
  }
  void copy(std::int64_t id, const std::string& state, std::int64_t queued, std::int64_t updated) {
    exec(
        "INSERT INTO outbox_copies (id, message, recipient, fingerprint, pkesk, state, attempts,"
        " next_attempt_at, queued_at, updated_at, reported) VALUES (?1, 'q1', ?2, 'F', 'P', ?3,"
        " 1, 0, ?4, ?5, 0)",
        {id, "r" + std::to_string(id) + "@x", state, queued, updated});
  }
  void audit(const std::string& verdict, const char* refusal) {
    exec(
        "INSERT INTO audit_log (at, list, verdict, refusal, smtp_reply) VALUES (1, 'ops@x', ?1,"
        " ?2, '250')",
        {verdict, refusal ? store::Value(std::string(refusal)) : store::Value(nullptr)});
  }

  TempDir dir_;
  std::unique_ptr<store::Database> db_;
};

TEST_F(StateTest, ReportsWhatWaits) {
  const std::int64_t now = 1'000'000;
  exec("INSERT INTO spool_messages VALUES ('q1', ?1, 'a@x', 10, 'received', ?1)", {now - 100});
  exec("INSERT INTO spool_messages VALUES ('q2', ?1, 'a@x', 10, 'done', ?1)", {now - 5000});
  exec(
      "INSERT INTO outbox_messages (id, kind, list, list_message_id, envelope_from, head, tail,"
      " shared_data, created_at) VALUES ('q1', 'copy', 'ops@x', 'm', 'b@x', '', '', '', 1)");
  copy(1, "deferred", now - 7200, now - 60);
  copy(2, "deferred", now - 60, now - 30);
  copy(3, "delivered", now - 300, now - 200);
  copy(4, "failed", now - 90000, now - 1000);
  copy(5, "failed", now - 900000, now - 800000);  // more than a day ago
  auto r = read_state(*db_, now);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->spooled, 1);
  EXPECT_EQ(r->oldest_spooled_at, now - 100);
  EXPECT_EQ(r->copies.at("deferred"), 2);
  EXPECT_EQ(r->copies.at("queued"), 0);
  EXPECT_EQ(r->copies.at("failed"), 2);
  EXPECT_EQ(r->oldest_deferred_at, now - 7200);
  EXPECT_EQ(r->deferred_over_hour, 1);
  EXPECT_EQ(r->last_delivery_at, now - 200);
  EXPECT_EQ(r->failed_last_day, 1);
}

TEST_F(StateTest, CollectorCountsOnlyWhatHappensAfterItsStart) {
  const std::time_t start = 2'000'000;
  exec(
      "INSERT INTO outbox_messages (id, kind, list, list_message_id, envelope_from, head, tail,"
      " shared_data, created_at) VALUES ('q1', 'copy', 'ops@x', 'm', 'b@x', '', '', '', 1)");
  audit("accepted", nullptr);  // before the start: not counted
  copy(1, "delivered", start - 50, start - 10);
  Registry reg;
  Collector c(reg, file());
  c.start(start);
  audit("accepted", nullptr);
  audit("refused", "unsigned");
  audit("refused", "unsigned");
  copy(2, "delivered", start - 3, start + 1);
  copy(3, "failed", start - 3, start + 2);
  copy(4, "delivered", start, start + 5);  // recorded in the second of the scrape: next time
  c.refresh(start + 5);
  std::string text = reg.render();
  EXPECT_NE(text.find("tlpmail_messages_total{verdict=\"accepted\",reason=\"none\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("tlpmail_messages_total{verdict=\"refused\",reason=\"unsigned\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("tlpmail_copies_total{state=\"delivered\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tlpmail_copies_total{state=\"failed\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tlpmail_delivery_seconds_bucket{le=\"5\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tlpmail_outbox_copies{state=\"delivered\"} 3\n"), std::string::npos) << text;

  audit("refused", "unsigned");
  c.refresh(start + 6);
  text = reg.render();
  EXPECT_NE(text.find("tlpmail_messages_total{verdict=\"refused\",reason=\"unsigned\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("tlpmail_copies_total{state=\"delivered\"} 2\n"), std::string::npos) << text;
}

TEST(StatusFileTest, WriteReadRemove) {
  TempDir dir;
  auto none = read_status(dir.path());
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  DaemonStatus s;
  s.pid = ::getpid();
  s.version = "9.9.9";
  s.started_at = 1234;
  s.listen = {"127.0.0.1:1", "[::1]:2"};
  s.metrics = "127.0.0.1:3";
  ASSERT_TRUE(write_status(dir.path(), s));
  auto got = read_status(dir.path());
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->pid, s.pid);
  EXPECT_EQ((*got)->version, "9.9.9");
  EXPECT_EQ((*got)->started_at, 1234);
  EXPECT_EQ((*got)->listen, s.listen);
  EXPECT_EQ((*got)->metrics, "127.0.0.1:3");
  EXPECT_FALSE(is_tlpmaild_alive(s.pid));  // alive, but a test program, not tlpmaild
  EXPECT_FALSE(is_tlpmaild_alive(0));
  remove_status(dir.path(), s.pid + 1);  // not ours: stays
  EXPECT_TRUE(std::filesystem::exists(dir.file(kStatusFileName)));
  remove_status(dir.path(), s.pid);
  EXPECT_FALSE(std::filesystem::exists(dir.file(kStatusFileName)));
  std::ofstream(dir.file(kStatusFileName)) << "pid = \n";
  EXPECT_FALSE(read_status(dir.path()));
}

}  // namespace
}  // namespace tlpmail::metrics
