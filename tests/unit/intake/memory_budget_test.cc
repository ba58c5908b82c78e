// The intake's memory budget ([server] max_message_memory): the budget's
// arithmetic, MessageBuffer (charges before it holds, gives back when
// cleared), and whole messages through a Stage over a real spool and
// database (no keys: mail is committed as received): a message that does
// not fit is discarded as it comes and answered 452 4.3.1 with nothing
// spooled, with or without SIZE=; the budget is whole again afterwards.
#include "intake/memory_budget.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "intake/stage.h"
#include "queue/env.h"
#include "queue/spool.h"
#include "store/database.h"
#include "support/temp_dir.h"

namespace tlpmail::intake {
namespace {

constexpr std::uint64_t kMiB = 1 << 20;

TEST(MemoryBudget, ChargesWithinTheLimit) {
  MemoryBudget b(10);
  EXPECT_TRUE(b.try_charge(4, 0));
  EXPECT_TRUE(b.try_charge(6, 0));
  EXPECT_EQ(b.in_use(), 10u);
  EXPECT_FALSE(b.try_charge(1, 4));  // all or nothing
  EXPECT_EQ(b.in_use(), 10u);
  b.release(6);
  EXPECT_TRUE(b.try_charge(5, 4));
  EXPECT_EQ(b.in_use(), 9u);
}

TEST(MemoryBudget, AHolderAloneAlwaysFits) {
  MemoryBudget b(10);
  EXPECT_TRUE(b.try_charge(25, 0));  // nothing else held: progress
  EXPECT_TRUE(b.try_charge(5, 25));  // still the only holder
  EXPECT_FALSE(b.try_charge(1, 0));  // another one must wait
  b.release(30);
  EXPECT_EQ(b.in_use(), 0u);
}

TEST(MemoryBudget, ALowerLimitAppliesToNewCharges) {
  MemoryBudget b(10);
  EXPECT_TRUE(b.try_charge(8, 0));
  b.set_limit(5);
  EXPECT_EQ(b.limit(), 5u);
  EXPECT_FALSE(b.try_charge(1, 0));
  EXPECT_TRUE(b.try_charge(1, 8));  // the holder is alone
  b.release(9);
  EXPECT_TRUE(b.try_charge(5, 0));
}

TEST(MessageBuffer, KeepsTheBytesAcrossGrowthAndChargesInSteps) {
  auto budget = std::make_shared<MemoryBudget>(64 * kMiB);
  std::string want;
  {
    MessageBuffer buf(budget);
    EXPECT_EQ(buf.view(), "");
    for (int i = 0; want.size() < 5 * kMiB + 3; ++i) {
      std::string piece(70'001, static_cast<char>('a' + i % 26));
      want += piece;
      ASSERT_TRUE(buf.append(piece));
      ASSERT_EQ(buf.charged() % MessageBuffer::kChargeStep, 0u);
      ASSERT_GE(buf.charged(), want.size());
      ASSERT_LT(buf.charged(), want.size() + MessageBuffer::kChargeStep);
    }
    EXPECT_EQ(buf.view(), want);
    EXPECT_EQ(buf.size(), want.size());
    EXPECT_EQ(budget->in_use(), buf.charged());
  }
  EXPECT_EQ(budget->in_use(), 0u);  // the destructor gives it back
}

TEST(MessageBuffer, ReserveChargesTheRoomAndTheOverheadAtOnce) {
  auto budget = std::make_shared<MemoryBudget>(8 * kMiB);
  MessageBuffer buf(budget);
  ASSERT_TRUE(buf.reserve(3 * kMiB - 10, 512 * 1024));
  EXPECT_EQ(buf.charged(), 3 * kMiB + 512 * 1024);
  EXPECT_TRUE(buf.append(std::string(3 * kMiB - 10, 'x')));
  EXPECT_EQ(buf.charged(), 3 * kMiB + 512 * 1024);  // within the reservation
  EXPECT_TRUE(buf.append(std::string(20, 'y')));    // beyond what SIZE= said
  EXPECT_EQ(buf.charged(), 4 * kMiB + 512 * 1024);
  buf.clear();
  EXPECT_EQ(budget->in_use(), 0u);
  EXPECT_EQ(buf.view(), "");
}

TEST(MessageBuffer, ARefusedAppendKeepsWhatWasThere) {
  auto budget = std::make_shared<MemoryBudget>(3 * kMiB);
  ASSERT_TRUE(budget->try_charge(1 * kMiB, 0));  // someone else holds 1 MiB
  MessageBuffer buf(budget);
  ASSERT_TRUE(buf.append(std::string(kMiB + 5, 'a')));  // 2 MiB charged: full
  EXPECT_FALSE(buf.append(std::string(kMiB, 'b')));
  EXPECT_EQ(buf.view(), std::string(kMiB + 5, 'a'));
  EXPECT_EQ(budget->in_use(), 3 * kMiB);
  buf.clear();
  EXPECT_EQ(budget->in_use(), 1 * kMiB);
}

TEST(MessageBuffer, WithoutABudgetOnlyTheMappingCounts) {
  MessageBuffer buf(nullptr);
  ASSERT_TRUE(buf.append(std::string(2 * kMiB + 1, 'z')));
  EXPECT_EQ(buf.view().size(), 2 * kMiB + 1);
  EXPECT_EQ(buf.charged(), 3 * kMiB);
}

// A Stage over a real spool and database in a temp folder, with a
// configuration that has one list (ops) and no keys.
class IntakeBudgetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write("tlpmail.toml",
          "[server]\nhostname = \"lists.example.org\"\n"
          "max_message_size = 4194304\n");
    write("directory.toml",
          "[[person]]\nemail = \"alice@a.example\"\nname = \"Alice\"\n"
          "fingerprint = \"0123456789ABCDEF0123456789ABCDEF01234567\"\nclearance = \"RED\"\n");
    write("lists.d/ops.toml",
          "address = \"ops@lists.example.org\"\ntlp_ceiling = \"AMBER\"\n"
          "members = [\"alice@a.example\"]\nadmins = [\"alice@a.example\"]\n");
    std::filesystem::create_directories(root_ / "keys");
    auto loaded = config::load_config(root_ / "tlpmail.toml");
    for (const auto& d : loaded.diagnostics) ADD_FAILURE() << d.to_string();
    ASSERT_TRUE(loaded.ok());
    config_ = loaded.config;
    auto db = store::Database::open(root_ / "tlpmail.db");
    ASSERT_TRUE(db.has_value()) << db.error().message;
    db_ = std::move(*db);
    auto spool = queue::Spool::open(queue::Env::posix(), (root_ / "spool").string(), *db_);
    ASSERT_TRUE(spool.has_value()) << spool.error().message;
    spool_ = std::move(*spool);
  }
  void TearDown() override {
    spool_.reset();
    db_.reset();
  }
  void write(const std::string& name, const std::string& text) {
    std::filesystem::create_directories((root_ / name).parent_path());
    std::ofstream(root_ / name) << text;
  }

  Stage stage(std::shared_ptr<MemoryBudget> budget) {
    return Stage(Context{config_, nullptr, {}, spool_.get(), db_.get(), nullptr}, std::move(budget));
  }
  static smtp::Envelope envelope(std::optional<std::uint64_t> size = std::nullopt) {
    smtp::Envelope e;
    e.mail_from = "alice@a.example";
    e.recipients = {"ops-request@lists.example.org"};
    e.declared_size = size;
    return e;
  }
  // `size` bytes of message in writes of 256 KiB, as the server batches them.
  static void write_message(net::MessageIntake& m, std::size_t size) {
    const std::string batch(256 * 1024, 'x');
    for (std::size_t done = 0; done < size; done += batch.size()) {
      EXPECT_TRUE(m.write(batch.substr(0, std::min(batch.size(), size - done))));
    }
  }
  static std::string finish(net::MessageIntake& m, std::size_t size) {
    return m.finish("\r\n", size + 2).reply.to_string();
  }
  std::size_t pending() {
    auto p = spool_->pending();
    EXPECT_TRUE(p.has_value());
    return p ? p->size() : 0;
  }
  std::size_t temp_files() {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e :
         std::filesystem::directory_iterator(root_ / "spool" / "tmp")) {
      ++n;
    }
    return n;
  }

  ::tlpmail::testing::TempDir tmp_;
  const std::filesystem::path root_{tmp_.path()};
  std::shared_ptr<const config::Config> config_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<queue::Spool> spool_;
};

bool is_queued(const std::string& reply) { return reply.rfind("250 2.0.0 Ok: queued as ", 0) == 0; }

const std::string kBusy =
    "452 4.3.1 not enough memory for this message now, please try again later";

TEST_F(IntakeBudgetTest, AMessageThatDoesNotFitGets452AndARetryFits) {
  auto budget = std::make_shared<MemoryBudget>(6 * kMiB);
  const Stage s = stage(budget);
  // A declares 3 MiB: charged at once (plus the transit allowance).
  auto a = s.begin("s1", envelope(3 * kMiB));
  EXPECT_FALSE(a->is_discarding());
  EXPECT_EQ(budget->in_use(), 3 * kMiB + kTransitAllowance);
  write_message(*a, kMiB);
  // B declares nothing and grows until the budget says no.
  auto b = s.begin("s2", envelope());
  write_message(*b, 3 * kMiB);
  EXPECT_TRUE(b->is_discarding());
  EXPECT_EQ(finish(*b, 3 * kMiB), kBusy);
  EXPECT_EQ(pending(), 0u);
  EXPECT_EQ(budget->in_use(), 3 * kMiB + kTransitAllowance);  // B gave everything back

  write_message(*a, 2 * kMiB);
  EXPECT_TRUE(is_queued(finish(*a, 3 * kMiB)));
  EXPECT_EQ(budget->in_use(), 0u);
  // The MTA retries B: now it fits.
  auto again = s.begin("s3", envelope());
  write_message(*again, 3 * kMiB);
  EXPECT_FALSE(again->is_discarding());
  EXPECT_TRUE(is_queued(finish(*again, 3 * kMiB)));
  EXPECT_EQ(pending(), 2u);
  EXPECT_EQ(temp_files(), 0u);
  EXPECT_EQ(budget->in_use(), 0u);
}

TEST_F(IntakeBudgetTest, ADeclaredSizeThatDoesNotFitIsRefusedFromTheStart) {
  auto budget = std::make_shared<MemoryBudget>(6 * kMiB);
  const Stage s = stage(budget);
  auto a = s.begin("s1", envelope(4 * kMiB));
  auto b = s.begin("s2", envelope(3 * kMiB));
  EXPECT_FALSE(a->is_discarding());
  EXPECT_TRUE(b->is_discarding());  // nothing of it is ever kept
  EXPECT_EQ(budget->in_use(), 4 * kMiB + kTransitAllowance);
  write_message(*b, 3 * kMiB);
  EXPECT_EQ(temp_files(), 0u);  // not even a spool file
  EXPECT_EQ(finish(*b, 3 * kMiB), kBusy);
  a->abort();
  EXPECT_EQ(budget->in_use(), 0u);
  EXPECT_EQ(pending(), 0u);
}

TEST_F(IntakeBudgetTest, AMessageAloneAlwaysFits) {
  // max_message_memory = max_message_size: one message of that size at a time.
  auto budget = std::make_shared<MemoryBudget>(4 * kMiB);
  const Stage s = stage(budget);
  auto a = s.begin("s1", envelope(4 * kMiB - 2));
  EXPECT_FALSE(a->is_discarding());
  write_message(*a, 4 * kMiB - 2);
  EXPECT_TRUE(is_queued(finish(*a, 4 * kMiB - 2)));
  EXPECT_EQ(budget->in_use(), 0u);
}

TEST_F(IntakeBudgetTest, DroppedMessagesGiveTheirChargeBack) {
  auto budget = std::make_shared<MemoryBudget>(6 * kMiB);
  const Stage s = stage(budget);
  {
    auto a = s.begin("s1", envelope(2 * kMiB));
    write_message(*a, kMiB);
    a->abort();
    EXPECT_EQ(budget->in_use(), 0u);
    auto b = s.begin("s2", envelope());
    write_message(*b, kMiB);
    EXPECT_GT(budget->in_use(), 0u);
  }  // b dropped without finish() or abort()
  EXPECT_EQ(budget->in_use(), 0u);
  EXPECT_EQ(pending(), 0u);
}

TEST_F(IntakeBudgetTest, WithoutABudgetNothingIsRefused) {
  const Stage s = stage(nullptr);
  auto a = s.begin("s1", envelope(4 * kMiB));
  write_message(*a, 4 * kMiB - 2);
  EXPECT_TRUE(is_queued(finish(*a, 4 * kMiB - 2)));
}

}  // namespace
}  // namespace tlpmail::intake
