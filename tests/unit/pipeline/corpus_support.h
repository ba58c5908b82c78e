// Shared by the tests that run on the fixture corpus
// (tests/fixtures/make_corpus.py, real gpg): a generated corpus under ROOT/c
// with its configuration, the verifier's GnuPG home ROOT/g (the members'
// keys loaded, every list key imported) and fresh databases under ROOT.
// Test plumbing only; used by tests/unit/pipeline and tests/unit/intake.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "keyring/keyring.h"
#include "openpgp/context.h"
#include "openpgp/list_key.h"
#include "pipeline/verifier.h"
#include "store/database.h"
#include "support/files.h"

namespace tlpmail::test_support {

using ::tlpmail::testing::read_file;

// Stops the gpg-agents of ROOT/g and of the corpus homes, then removes ROOT.
inline void remove_corpus_root(const std::filesystem::path& root) {
  const std::string kill =
      "gpgconf --homedir " + (root / "g").string() + " --kill all >/dev/null 2>&1";
  (void)std::system(kill.c_str());
  const std::string remove = "python3 " + std::string(TLPMAIL_SOURCE_DIR) +
                             "/tests/fixtures/make_corpus.py --remove " + (root / "c").string() +
                             " >/dev/null 2>&1";
  (void)std::system(remove.c_str());
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
}

class CorpusWorld {
 public:
  // Generates the corpus and loads it; on any failure reports it (a test
  // failure) and returns null. REQUIRES: openpgp::initialize() succeeded.
  static std::unique_ptr<CorpusWorld> make() {
    char tmpl[] = "/tmp/tlpt-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return nullptr;
    }
    std::unique_ptr<CorpusWorld> w(new CorpusWorld(tmpl));
    return w->load() ? std::move(w) : nullptr;
  }
  ~CorpusWorld() {
    gpg.reset();
    remove_corpus_root(root);
  }
  CorpusWorld(const CorpusWorld&) = delete;
  CorpusWorld& operator=(const CorpusWorld&) = delete;

  std::filesystem::path corpus() const { return root / "c"; }
  std::string message(const std::string& name) const {
    return read_file(corpus() / "messages" / (name + ".eml"));
  }
  // A fresh database in ROOT/NAME.
  std::unique_ptr<store::Database> open_db(const std::string& name) const {
    std::filesystem::create_directories(root / name);
    auto db = store::Database::open(root / name / "tlpmail.db");
    EXPECT_TRUE(db.has_value()) << db.error().message;
    return db ? std::move(db).value() : nullptr;
  }
  const directory::MailingList* list(const std::string& address) const {
    return config->directory.find_list(address);
  }

  std::filesystem::path root;
  std::filesystem::path home;  // ROOT/g
  std::shared_ptr<const config::Config> config;
  std::shared_ptr<const keyring::KeyReport> keys;
  std::optional<openpgp::Context> gpg;

 private:
  explicit CorpusWorld(std::filesystem::path r) : root(std::move(r)), home(root / "g") {}

  bool load() {
    const std::string cmd = "python3 " + std::string(TLPMAIL_SOURCE_DIR) +
                            "/tests/fixtures/make_corpus.py " + corpus().string() + " >/dev/null";
    if (std::system(cmd.c_str()) != 0) {
      ADD_FAILURE() << cmd;
      return false;
    }
    auto loaded = config::load_config(corpus() / "config" / "tlpmail.toml");
    for (const auto& d : loaded.diagnostics) {
      if (d.severity == config::Severity::error) ADD_FAILURE() << d.to_string();
    }
    if (!loaded.ok()) return false;
    config = loaded.config;
    auto k = keyring::load_keys(*config, home, std::time(nullptr));
    if (!k) {
      ADD_FAILURE() << k.error().message;
      return false;
    }
    keys = std::make_shared<const keyring::KeyReport>(std::move(*k));
    auto ctx = openpgp::Context::open(home);
    if (!ctx) {
      ADD_FAILURE() << ctx.error().message;
      return false;
    }
    gpg.emplace(std::move(*ctx));
    for (const auto& l : config->directory.lists()) {
      auto fpr = openpgp::import_secret_key_file(
          *gpg, corpus() / "list-keys" / (l.address + ".sec.asc"), l.address);
      if (!fpr) {
        ADD_FAILURE() << fpr.error().message;
        return false;
      }
    }
    return true;
  }
};

// The base of a test suite on the corpus, made once for the suite (real
// gpg, a few seconds). world_ and the pointers into it stay null when it
// could not be made: the failure is reported and each test asserts what
// it uses before use.
class CorpusSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(openpgp::initialize().has_value());
    world_ = CorpusWorld::make().release();
    ASSERT_NE(world_, nullptr);
    config_ = &world_->config;
    keys_ = world_->keys.get();
    gpg_ = &*world_->gpg;
  }
  static void TearDownTestSuite() {
    config_ = nullptr;
    keys_ = nullptr;
    gpg_ = nullptr;
    delete world_;
    world_ = nullptr;
  }

  // What a test with replay state of its own works with: a fresh database
  // ROOT/<name> and a verifier on the corpus over it; `db` is null (the
  // failure reported) when the database could not be opened.
  struct OwnDatabase {
    std::unique_ptr<store::Database> db;
    std::unique_ptr<pipeline::Verifier> verifier;
  };
  static OwnDatabase own_database(const std::string& name) {
    OwnDatabase o;
    o.db = world_->open_db(name);
    if (o.db) o.verifier = std::make_unique<pipeline::Verifier>(**config_, *keys_, *o.db);
    return o;
  }

  static inline CorpusWorld* world_ = nullptr;
  static inline const std::shared_ptr<const config::Config>* config_ = nullptr;
  static inline const keyring::KeyReport* keys_ = nullptr;
  static inline openpgp::Context* gpg_ = nullptr;
};

}  // namespace tlpmail::test_support
