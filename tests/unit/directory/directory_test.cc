// Tests of the Directory value (directory/directory.h): lookups by e-mail,
// fingerprint and list address, and the list's derived addresses.
#include "directory/directory.h"

#include <gtest/gtest.h>

namespace tlpmail::directory {
namespace {

Person make_person(std::string email, std::string fingerprint, policy::Tlp clearance,
                   Kind kind = Kind::person) {
  Person p;
  p.email = std::move(email);
  p.name = "Name of " + p.email;
  p.fingerprint = std::move(fingerprint);
  p.clearance = clearance;
  p.kind = kind;
  return p;
}

MailingList make_list(std::string address, std::vector<std::string> members,
                      std::vector<std::string> admins) {
  MailingList l;
  l.address = std::move(address);
  l.members = std::move(members);
  l.admins = std::move(admins);
  return l;
}

const char* kAliceFp = "0123456789ABCDEF0123456789ABCDEF01234567";
const char* kBobFp = "1111111111111111111111111111111111111111";

Directory sample() {
  return Directory(
      {make_person("Alice@CSIRT-A.example", kAliceFp, policy::Tlp::red),
       make_person("bob@csirt-b.example", kBobFp, policy::Tlp::amber, Kind::team)},
      {make_list("CSIRT-Ops@Lists.Example.org", {"Alice@CSIRT-A.example", "bob@csirt-b.example"},
                 {"alice@csirt-a.example"}),
       make_list("ops-request@lists.example.org", {}, {})});
}

TEST(DirectoryTest, FindPersonIsCaseInsensitive) {
  Directory d = sample();
  for (const char* query :
       {"alice@csirt-a.example", "ALICE@CSIRT-A.EXAMPLE", "Alice@CSIRT-A.example"}) {
    const Person* p = d.find_person(query);
    ASSERT_NE(p, nullptr) << query;
    EXPECT_EQ(p->email, "Alice@CSIRT-A.example");
  }
  EXPECT_EQ(d.find_person("alice@csirt-b.example"), nullptr);
  EXPECT_EQ(d.find_person(""), nullptr);
}

TEST(DirectoryTest, FindByFingerprint) {
  Directory d = sample();
  const Person* p = d.find_by_fingerprint(kBobFp);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->email, "bob@csirt-b.example");
  p = d.find_by_fingerprint("0123 4567 89ab cdef 0123 4567 89ab cdef 0123 4567");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->email, "Alice@CSIRT-A.example");
  EXPECT_EQ(d.find_by_fingerprint("2222222222222222222222222222222222222222"), nullptr);
  EXPECT_EQ(d.find_by_fingerprint("89ABCDEF01234567"), nullptr);  // a key ID is not enough
  EXPECT_EQ(d.find_by_fingerprint("not a fingerprint"), nullptr);
}

TEST(DirectoryTest, FindList) {
  Directory d = sample();
  const MailingList* l = d.find_list("csirt-ops@lists.example.org");
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->address, "CSIRT-Ops@Lists.Example.org");
  EXPECT_EQ(d.find_list("csirt-ops-request@lists.example.org"), nullptr);
  EXPECT_EQ(d.find_list("alice@csirt-a.example"), nullptr);
}

TEST(DirectoryTest, ListAddresses) {
  MailingList l = make_list("csirt-ops@lists.example.org", {}, {});
  EXPECT_EQ(l.local_part(), "csirt-ops");
  EXPECT_EQ(l.domain(), "lists.example.org");
  EXPECT_EQ(l.request_address(), "csirt-ops-request@lists.example.org");
  EXPECT_EQ(l.bounces_address(), "csirt-ops-bounces@lists.example.org");
}

TEST(DirectoryTest, MatchListAddress) {
  Directory d = sample();
  struct Case {
    const char* address;
    const char* want_list;  // nullptr: no match
    ListRole want_role;
    const char* want_tag = "";
  };
  const Case cases[] = {
      {"csirt-ops@lists.example.org", "CSIRT-Ops@Lists.Example.org", ListRole::post},
      {"CSIRT-OPS-REQUEST@lists.example.org", "CSIRT-Ops@Lists.Example.org", ListRole::request},
      {"csirt-ops-bounces@LISTS.example.org", "CSIRT-Ops@Lists.Example.org", ListRole::bounces},
      // A list whose own address looks like a -request address is the list.
      {"ops-request@lists.example.org", "ops-request@lists.example.org", ListRole::post},
      {"ops-request-request@lists.example.org", "ops-request@lists.example.org", ListRole::request},
      {"ops@lists.example.org", nullptr, ListRole::post},
      {"csirt-ops-owner@lists.example.org", nullptr, ListRole::post},
      {"csirt-ops@other.example.org", nullptr, ListRole::post},
      {"csirt-ops@lists.example.org.evil", nullptr, ListRole::post},
      {"csirt-opsx@lists.example.org", nullptr, ListRole::post},
      {"csirt-ops-requests@lists.example.org", nullptr, ListRole::post},
      // VERP tags on any of the three addresses; the tag keeps its case.
      {"csirt-ops+x@lists.example.org", "CSIRT-Ops@Lists.Example.org", ListRole::post, "x"},
      {"csirt-ops-Request+Sub@lists.example.org", "CSIRT-Ops@Lists.Example.org",
       ListRole::request, "Sub"},
      {"csirt-ops-bounces+alice=csirt-a.example@lists.example.org",
       "CSIRT-Ops@Lists.Example.org", ListRole::bounces, "alice=csirt-a.example"},
      {"csirt-ops+@lists.example.org", nullptr, ListRole::post},
      {"csirt-ops+a+b@lists.example.org", "CSIRT-Ops@Lists.Example.org", ListRole::post, "a+b"},
      {"csirt-ops@lists+x.example.org", nullptr, ListRole::post},
      {"\"csirt-ops\"@lists.example.org", nullptr, ListRole::post},
      {"csirt-ops@[192.0.2.1]", nullptr, ListRole::post},
      {"Postmaster@lists.example.org", nullptr, ListRole::post},
      {"postmaster", nullptr, ListRole::post},
      {"", nullptr, ListRole::post},
  };
  for (const auto& c : cases) {
    auto got = d.match_list_address(c.address);
    if (c.want_list == nullptr) {
      EXPECT_FALSE(got.has_value()) << c.address;
      continue;
    }
    ASSERT_TRUE(got.has_value()) << c.address;
    EXPECT_EQ(got->list->address, c.want_list) << c.address;
    EXPECT_EQ(got->role, c.want_role) << c.address << " got " << to_string(got->role);
    EXPECT_EQ(got->tag, c.want_tag) << c.address;
  }
}

TEST(DirectoryTest, MembersAndAdmins) {
  Directory d = sample();
  const MailingList* l = d.find_list("csirt-ops@lists.example.org");
  ASSERT_NE(l, nullptr);
  EXPECT_TRUE(l->has_member("ALICE@csirt-a.example"));
  EXPECT_TRUE(l->has_member("bob@csirt-b.example"));
  EXPECT_FALSE(l->has_member("carol@csirt-c.example"));
  EXPECT_TRUE(l->has_admin("Alice@CSIRT-A.example"));
  EXPECT_FALSE(l->has_admin("bob@csirt-b.example"));
}

TEST(DirectoryTest, EmptyDirectoryFindsNothing) {
  Directory d;
  EXPECT_TRUE(d.people().empty());
  EXPECT_TRUE(d.lists().empty());
  EXPECT_EQ(d.find_person("alice@csirt-a.example"), nullptr);
  EXPECT_EQ(d.find_by_fingerprint(kAliceFp), nullptr);
  EXPECT_EQ(d.find_list("csirt-ops@lists.example.org"), nullptr);
  EXPECT_FALSE(d.match_list_address("csirt-ops@lists.example.org").has_value());
}

TEST(DirectoryTest, KindNames) {
  EXPECT_EQ(to_string(Kind::person), "person");
  EXPECT_EQ(to_string(Kind::team), "team");
  EXPECT_EQ(to_string(ListRole::post), "post");
  EXPECT_EQ(to_string(ListRole::request), "request");
  EXPECT_EQ(to_string(ListRole::bounces), "bounces");
}

}  // namespace
}  // namespace tlpmail::directory
