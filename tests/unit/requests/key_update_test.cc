// requests::update_key with real gpg and a real configuration tree: what
// a member's update-key request may bring (a later expiry, a subkey, a
// user ID, a revocation), in every shape a client sends it (armored
// application/pgp-keys, a binary .gpg attachment, a key pasted into the
// text, an inline-signed request), that third-party certifications never
// reach the stored key, and every refusal (another fingerprint, nothing
// new, too many or too large parts, no key) leaving keys.d untouched.
#include "requests/key_update.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "keyring/two_members_fixture.h"
#include "openpgp/gpg_test_keys.h"
#include "openpgp/key_material.h"
#include "openpgp/temp_home.h"
#include "support/files.h"

namespace tlpmail::requests {
namespace {

namespace fs = std::filesystem;
namespace tk = tlpmail::testkeys;

constexpr const char* kList = "ops@lists.example.org";

std::string base64(std::string_view in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0, line = 0;
  auto put = [&](char c) {
    out += c;
    if (++line == 76) {
      out += "\r\n";
      line = 0;
    }
  };
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    put(t[v >> 18]);
    put(t[(v >> 12) & 63]);
    put(t[(v >> 6) & 63]);
    put(t[v & 63]);
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    put(t[v >> 18]);
    put(t[(v >> 12) & 63]);
    put(i + 1 < in.size() ? t[(v >> 6) & 63] : '=');
    put('=');
  }
  return out + "\r\n";
}

struct Attachment {
  std::string type, name, data;
  bool binary = false;
};

// A multipart/mixed entity: the command text, then the attachments.
pipeline::RequestContent mime_request(const std::string& text,
                                      const std::vector<Attachment>& atts) {
  std::string e =
      "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n\r\n" +
      text + "\r\n";
  for (const Attachment& a : atts) {
    e += "--b1\r\nContent-Type: " + a.type + "\r\nContent-Disposition: attachment";
    if (!a.name.empty()) e += "; filename=\"" + a.name + "\"";
    e += "\r\n";
    if (a.binary) {
      e += "Content-Transfer-Encoding: base64\r\n\r\n" + base64(a.data);
    } else {
      e += "\r\n" + a.data + "\r\n";
    }
  }
  e += "--b1--\r\n";
  pipeline::RequestContent c;
  c.entity = e;
  c.is_mime = true;
  c.body_text = text;
  return c;
}

class KeyUpdateTest : public tk::TwoMembersTest {
 protected:
  void SetUp() override {
    TwoMembersTest::SetUp();
    if (HasFatalFailure()) return;
    write_config();
    reload();
  }

  // The tree of write_tree() with list kList and bob's key as it is now.
  void write_config() {
    config_ = write_tree(kList, tk::export_public(gen(), bob_));
    ASSERT_TRUE(config_);
  }

  // Loads keys_dir and keys.d into the daemon's home, as tlpmaild does.
  void reload() {
    auto r = keyring::load_keys(*config_, home_->path(), std::time(nullptr));
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_FALSE(r->has_errors());
    keys_ = std::move(*r);
  }

  // update-key from bob with `content`.
  KeyUpdate update(const pipeline::RequestContent& content) {
    auto ctx = openpgp::Context::open(home_->path());
    EXPECT_TRUE(ctx);
    if (!ctx) return {};
    const keyring::PersonKey* key = keys_.find(kBob);
    EXPECT_TRUE(key);
    auto r = update_key(*ctx, KeyUpdateInput{*config_, keys_, *config_->directory.find_list(kList),
                                             *key, content, std::time(nullptr)});
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : KeyUpdate{};
  }

  fs::path stored() const { return keyring::updated_key_file(*config_, bob_); }

  std::shared_ptr<const config::Config> config_;
  keyring::KeyReport keys_;
};

TEST_F(KeyUpdateTest, LaterExpirySubkeyAndUserIdAreStoredWithoutOthersCertifications) {
  extend_bob();
  tk::add_subkey(gen(), bob_, "cv25519", "encr", "3y");
  tk::gpg(gen(), {"--quick-add-uid", bob_, "Bob B <bob@home.example>"});
  // Alice certifies Bob's key: a third-party signature the list drops.
  tk::gpg(gen(), {"--local-user", alice_, "--quick-sign-key", bob_});
  const std::string sent = tk::gpg(gen(), {"--armor", "--export", bob_});
  ASSERT_NE(tk::gpg(gen(), {"--with-colons", "--list-sigs", bob_}).find(alice_.substr(24)),
            std::string::npos);

  KeyUpdate u = update(mime_request("update-key", {{"application/pgp-keys", "bob.asc", sent}}));
  EXPECT_TRUE(u.stored) << u.text;
  EXPECT_EQ(u.text.rfind("Your key " + bob_ + " was updated:\n", 0), 0u) << u.text;
  for (const std::string& want :
       {std::string("  - the list can use your key until "),
        std::string("  - primary key expires "), std::string("  - new subkey "),
        std::string("cv25519, encrypt, expires "),
        std::string("  - new user ID \"Bob B <bob@home.example>\"\n"),
        std::string("The list uses the new version from now on.\n")}) {
    EXPECT_NE(u.text.find(want), std::string::npos) << want << "\n" << u.text;
  }
  ASSERT_TRUE(fs::exists(stored()));
  // The stored key: Bob's own signatures only.
  auto check = tk::new_home();
  ASSERT_TRUE(check);
  tk::gpg(check->path().string(), {"--import", stored().string()});
  const std::string sigs = tk::gpg(check->path().string(), {"--with-colons", "--list-sigs", bob_});
  EXPECT_EQ(sigs.find(alice_.substr(24)), std::string::npos) << sigs;
  EXPECT_NE(sigs.find("bob@home.example"), std::string::npos) << sigs;

  // The next load uses it: ok for two years, from mail.
  reload();
  const keyring::PersonKey* b = keys_.find(kBob);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->status, keyring::KeyStatus::ok) << b->status_word;
  EXPECT_EQ(b->source, keyring::KeySource::mail);
  EXPECT_GT(b->usable_until, std::time(nullptr) + 700 * 86400);

  // The same key again brings nothing new: refused, the file unchanged.
  const std::string before = testing::read_file(stored());
  u = update(mime_request("update-key", {{"application/pgp-keys", "bob.asc", sent}}));
  EXPECT_FALSE(u.stored);
  EXPECT_NE(u.text.find("holds nothing the list does not have already"), std::string::npos)
      << u.text;
  EXPECT_NE(u.text.find("Nothing was changed.\n"), std::string::npos);
  EXPECT_EQ(testing::read_file(stored()), before);
}

TEST_F(KeyUpdateTest, EveryShapeOfKeyIsFound) {
  extend_bob();
  const std::string armored = tk::export_public(gen(), bob_);
  const std::string binary = tk::gpg(gen(), {"--export", bob_});
  ASSERT_FALSE(binary.empty());
  struct Case {
    const char* name;
    pipeline::RequestContent content;
  };
  pipeline::RequestContent inline_signed;
  inline_signed.entity = "update-key\n\n" + armored;
  inline_signed.is_mime = false;
  const Case cases[] = {
      {"binary .gpg as octet-stream",
       mime_request("update-key", {{"application/octet-stream", "bob.gpg", binary, true}})},
      {"binary without a key name (public key packet first)",
       mime_request("update-key", {{"application/octet-stream", "data.bin", binary, true}})},
      {"armored as text/plain attachment",
       mime_request("update-key", {{"text/plain", "key.txt", armored}})},
      {"pasted into the message text", mime_request("update-key\n\n" + armored, {})},
      {"inline-signed request", inline_signed},
  };
  for (const Case& c : cases) {
    KeyParts parts = find_key_parts(c.content);
    EXPECT_EQ(parts.problem, "") << c.name;
    EXPECT_EQ(parts.parts.size(), 1u) << c.name;
    // All the way: the daemon's home still holds the 10-day key (no
    // reload in between), so each one is an update and stored.
    fs::remove(stored());
    KeyUpdate u = update(c.content);
    EXPECT_TRUE(u.stored) << c.name << "\n" << u.text;
    EXPECT_TRUE(fs::exists(stored())) << c.name;
  }
  // A detached signature (a signature packet, like a revocation
  // certificate) counts only where the part says it is a key.
  const std::string sig =
      tk::gpg(gen(), {"--detach-sign", "--local-user", bob_, "-o", "-", root() + "/tlpmail.toml"});
  ASSERT_FALSE(sig.empty());
  EXPECT_EQ(find_key_parts(
                mime_request("update-key", {{"application/octet-stream", "msg.sig", sig, true}}))
                .parts.size(),
            0u);
  EXPECT_EQ(find_key_parts(
                mime_request("update-key", {{"application/octet-stream", "bob.rev", sig, true}}))
                .parts.size(),
            1u);
}

TEST_F(KeyUpdateTest, RefusalsChangeNothing) {
  extend_bob();
  const std::string bob_key = tk::export_public(gen(), bob_);
  const std::string other =
      tk::generate(gen(), "Bob New", "bob.new@csirt-b.example", "ed25519", "sign,cert", "2y");
  struct Case {
    const char* name;
    pipeline::RequestContent content;
    std::string want;
  };
  std::vector<Attachment> five;
  for (int i = 0; i < 5; ++i) five.push_back({"application/pgp-keys", "k.asc", bob_key});
  const Case cases[] = {
      {"no key", mime_request("update-key", {}), "No key was found in your message.\n"},
      {"another fingerprint",
       mime_request("update-key",
                    {{"application/pgp-keys", "new.asc", tk::export_public(gen(), other)}}),
       "Your message holds a key with another primary fingerprint:\n  " + other + "\n"},
      {"another person's key with mine",
       mime_request("update-key", {{"application/pgp-keys", "both.asc",
                                    bob_key + tk::export_public(gen(), alice_)}}),
       "Your message holds a key with another primary fingerprint:\n  " + alice_ + "\n"},
      {"a secret key",
       mime_request("update-key", {{"application/octet-stream", "bob.key",
                                    tk::gpg(gen(), {"--export-secret-keys", bob_}), true}}),
       "the attachment \"bob.key\" holds a SECRET key."},
      {"too many key parts", mime_request("update-key", five), "more than 4 parts holding keys"},
      {"a part over the key file size",
       mime_request("update-key", {{"application/pgp-keys", "big.asc",
                                    std::string(openpgp::kMaxPublicKeyFileSize + 10, 'A')}}),
       "the attachment \"big.asc\" is larger than 1024 KiB."},
      {"garbage that says it is a key",
       mime_request("update-key", {{"application/pgp-keys", "x.asc", "hello"}}),
       "the attachment \"x.asc\" cannot be used: "},
  };
  for (const Case& c : cases) {
    KeyUpdate u = update(c.content);
    EXPECT_FALSE(u.stored) << c.name;
    EXPECT_NE(u.text.find(c.want), std::string::npos) << c.name << "\n" << u.text;
    EXPECT_NE(u.text.find("Nothing was changed.\n"), std::string::npos) << c.name;
    EXPECT_FALSE(fs::exists(stored())) << c.name;
  }
}

TEST_F(KeyUpdateTest, RevocationIsStoredAndSaid) {
  std::string rev = testing::read_file(gen() + "/openpgp-revocs.d/" + bob_ + ".rev");
  rev.erase(rev.find(":-----BEGIN"), 1);
  rev = rev.substr(rev.find("-----BEGIN"));
  KeyUpdate u = update(mime_request("update-key", {{"application/pgp-keys", "bob.rev", rev}}));
  EXPECT_TRUE(u.stored) << u.text;
  EXPECT_NE(u.text.find("  - your key is revoked\n"), std::string::npos) << u.text;
  EXPECT_NE(u.text.find("the list sends you nothing and accepts nothing signed by this"),
            std::string::npos)
      << u.text;
  reload();
  EXPECT_EQ(keys_.find(kBob)->status, keyring::KeyStatus::revoked);
  EXPECT_FALSE(keys_.find(kBob)->usable);
  EXPECT_EQ(keys_.find(kBob)->source, keyring::KeySource::mail);
  EXPECT_TRUE(keys_.find(kAlice)->usable);
}

// find_key_parts without gpg: the bounds on what a request may hold, and
// what is no key.
TEST(FindKeyParts, BoundsAndNonKeys) {
  const std::string armored =
      "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ\n-----END PGP PUBLIC KEY BLOCK-----\n";
  // More leaves than kMaxRequestParts: the whole request is refused.
  std::vector<Attachment> many(kMaxRequestParts, {"text/plain", "n.txt", "note"});
  KeyParts p = find_key_parts(mime_request("update-key", many));
  EXPECT_NE(p.problem.find("more than 32 parts"), std::string::npos) << p.problem;
  EXPECT_TRUE(p.parts.empty());
  // Exactly at the limit is fine (the text part plus 31 attachments).
  many.pop_back();
  p = find_key_parts(mime_request("update-key", many));
  EXPECT_EQ(p.problem, "");
  EXPECT_TRUE(p.parts.empty());
  // Text without key material, an image, a plain .txt: nothing.
  p = find_key_parts(mime_request(
      "update-key", {{"image/png", "a.png", "\x89PNG", true}, {"text/plain", "x.txt", "hi"}}));
  EXPECT_EQ(p.problem, "");
  EXPECT_TRUE(p.parts.empty());
  // An inline message without a key block: nothing.
  pipeline::RequestContent plain;
  plain.entity = "update-key\n";
  EXPECT_TRUE(find_key_parts(plain).parts.empty());
  // Where each part is named for the member.
  p = find_key_parts(
      mime_request("update-key\n" + armored, {{"application/pgp-keys", "bob.asc", armored}}));
  ASSERT_EQ(p.parts.size(), 2u);
  EXPECT_EQ(p.parts[0].where, "the text of your message");
  EXPECT_EQ(p.parts[1].where, "the attachment \"bob.asc\"");
  // A file name with control characters is cleaned in the answer.
  p = find_key_parts(mime_request("x", {{"application/pgp-keys", "a\tb.asc", armored}}));
  ASSERT_EQ(p.parts.size(), 1u);
  EXPECT_EQ(p.parts[0].where.find('\t'), std::string::npos) << p.parts[0].where;
}

}  // namespace
}  // namespace tlpmail::requests
