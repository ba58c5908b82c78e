// Tests of the published forms of a list key: z-base-32 and the WKD hash
// against the known answers of the WKD draft and of gpg-wks-client, v4
// fingerprints against gpg's, and the packets kept for Autocrypt and WKD
// (checked by importing them into a fresh home with real gpg), with the
// refusals of select_key_packets.
#include "openpgp/publish.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "openpgp/crypto_fixture.h"
#include "openpgp/packets.h"
#include "openpgp/session_key.h"

namespace tlpmail::openpgp {
namespace {

using testing::CryptoTest;
namespace tk = tlpmail::testkeys;

const std::string kList = "ops@lists.example";

TEST(Zbase32, KnownAnswers) {
  struct Case {
    std::string in, want;
  };
  const Case cases[] = {
      {"", ""},
      {std::string(1, '\0'), "yy"},
      {std::string(1, '\xf0'), "6y"},               // 11110 000(00)
      {std::string("\x00\x00\x00\x00\x00", 5), "yyyyyyyy"},
      {std::string("\xff\xff\xff\xff\xff", 5), "99999999"},
  };
  for (const Case& c : cases) EXPECT_EQ(zbase32(c.in), c.want) << c.want;
}

TEST(WkdHash, KnownAnswers) {
  // The example of draft-koch-openpgp-webkey-service ("Joe.Doe@Example.ORG").
  EXPECT_EQ(wkd_hash("Joe.Doe"), "iy9q119eutrkn8s1mk4r39qejnbu3n5q");
  // Lower-cased first: the same for any case.
  EXPECT_EQ(wkd_hash("joe.doe"), "iy9q119eutrkn8s1mk4r39qejnbu3n5q");
  EXPECT_EQ(wkd_hash("JOE.DOE"), "iy9q119eutrkn8s1mk4r39qejnbu3n5q");
  EXPECT_EQ(wkd_hash("ops").size(), 32u);
  EXPECT_NE(wkd_hash("ops"), wkd_hash("ops-request"));
}

class PublishTest : public CryptoTest {
 protected:
  // The key in a fresh home: (user IDs, subkey capabilities) of its colon listing.
  struct Seen {
    std::string fingerprint;
    std::vector<std::string> uids;
    std::vector<std::string> subkeys;  // capability field of each "sub" line
  };
  // A new key for kList as find_list_key() finds it (the key just made);
  // nullopt, and a test failure, when it does not.
  std::optional<KeyFacts> new_list_key() {
    const std::string fpr = make_list_key(kList);
    auto facts = find_list_key(*ctx_, kList);
    EXPECT_TRUE(facts && facts->has_value());
    if (!facts || !facts->has_value()) return std::nullopt;
    EXPECT_EQ((*facts)->fingerprint, fpr);
    return *facts;
  }
  Seen import_elsewhere(const std::string& binary) {
    auto other = tk::new_home();
    EXPECT_TRUE(other);
    const std::string h = other->path().string();
    tk::write_file(h + "/key.gpg", binary);
    tk::gpg(h, {"--import", h + "/key.gpg"});
    const std::string colons = tk::gpg(h, {"--with-colons", "--list-keys"});
    Seen s;
    bool want_fpr = false;
    for (const std::vector<std::string>& f : tk::colon_records(colons)) {
      if (f[0] == "pub") want_fpr = true;
      if (f[0] == "fpr" && want_fpr) {
        s.fingerprint = f[9];
        want_fpr = false;
      }
      if (f[0] == "uid") s.uids.push_back(f[9]);
      if (f[0] == "sub") s.subkeys.push_back(f[11]);
    }
    return s;
  }
};

TEST_F(PublishTest, V4FingerprintMatchesGpg) {
  const std::string fpr = make_list_key(kList);
  auto binary = export_key(*ctx_, fpr, KeyExport::public_minimal, false);
  ASSERT_TRUE(binary) << binary.error().message;
  auto packets = split_packets(*binary);
  ASSERT_TRUE(packets);
  ASSERT_EQ((*packets)[0].tag, 6);
  EXPECT_EQ(v4_fingerprint(packet_body(*binary, (*packets)[0])), fpr);
  auto facts = ctx_->find_key(fpr);
  ASSERT_TRUE(facts && facts->has_value());
  const Packet* sub = nullptr;
  for (const Packet& p : *packets) {
    if (p.tag == 14) sub = &p;
  }
  ASSERT_NE(sub, nullptr);
  EXPECT_EQ(v4_fingerprint(packet_body(*binary, *sub)), (*facts)->subkey_fingerprints.at(0));
  EXPECT_EQ(v4_fingerprint(std::string("\x05rest", 5)), "");
  EXPECT_EQ(v4_fingerprint(""), "");
}

TEST_F(PublishTest, AutocryptKeyIsTheMinimalKey) {
  const std::optional<KeyFacts> facts = new_list_key();
  ASSERT_TRUE(facts);
  auto data = autocrypt_key_of(*ctx_, *facts, kList);
  ASSERT_TRUE(data) << data.error().message;
  // Primary key, the list's user ID and its self-signature, the
  // encryption subkey and its binding signature: nothing else.
  auto packets = split_packets(*data);
  ASSERT_TRUE(packets);
  std::vector<int> tags;
  for (const Packet& p : *packets) tags.push_back(p.tag);
  EXPECT_EQ(tags, (std::vector<int>{6, 13, 2, 14, 2}));
  const Seen seen = import_elsewhere(*data);
  EXPECT_EQ(seen.fingerprint, facts->fingerprint);
  EXPECT_EQ(seen.uids, std::vector<std::string>{"Ops List <" + kList + ">"});
  EXPECT_EQ(seen.subkeys, std::vector<std::string>{"e"});
  // An address the key has no user ID for.
  auto none = autocrypt_key_of(*ctx_, *facts, "other@lists.example");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message, "key: no user ID for other@lists.example");
}

TEST_F(PublishTest, WkdKeyHasOnlyTheAddressAskedFor) {
  const std::optional<KeyFacts> facts = new_list_key();
  ASSERT_TRUE(facts);
  auto list = wkd_key_of(*ctx_, *facts, kList);
  ASSERT_TRUE(list) << list.error().message;
  auto request = wkd_key_of(*ctx_, *facts, "OPS-request@lists.example");
  ASSERT_TRUE(request) << request.error().message;
  const Seen a = import_elsewhere(*list);
  const Seen b = import_elsewhere(*request);
  EXPECT_EQ(a.fingerprint, facts->fingerprint);
  EXPECT_EQ(b.fingerprint, facts->fingerprint);
  EXPECT_EQ(a.uids, std::vector<std::string>{"Ops List <" + kList + ">"});
  EXPECT_EQ(b.uids, std::vector<std::string>{"Ops List <ops-request@lists.example>"});
  EXPECT_EQ(a.subkeys, std::vector<std::string>{"e"});
}

TEST_F(PublishTest, SelectionRefusals) {
  const std::string fpr = make_list_key(kList);
  auto binary = export_key(*ctx_, fpr, KeyExport::public_minimal, false);
  ASSERT_TRUE(binary);
  struct Case {
    std::string name, data;
    KeySelection selection;
    std::string want;
  };
  const std::string missing = "0123456789ABCDEF0123456789ABCDEF01234567";
  const std::vector<Case> cases = {
      {"garbage", "hello", {kList, {}, false}, "key: not an OpenPGP packet header at byte 0"},
      {"two keys", *binary + *binary, {kList, {}, false}, "key: more than one key"},
      {"no uid", *binary, {"x@y", {}, false}, "key: no user ID for x@y"},
      {"no subkey", *binary, {kList, {missing}, false}, "key: no subkey " + missing},
      {"user ID first", binary->substr(split_packets(*binary)->at(1).offset),
       {kList, {}, false}, "key: does not start with a public key packet"},
  };
  for (const Case& c : cases) {
    auto r = select_key_packets(c.data, c.selection);
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().kind, ErrorClass::permanent) << c.name;
    EXPECT_EQ(r.error().message, c.want) << c.name;
  }
}

}  // namespace
}  // namespace tlpmail::openpgp
