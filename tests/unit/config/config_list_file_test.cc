// lists.d/*.toml validation: labels, members and admins against the
// directory, address collisions between lists, and one broken file not
// stopping the others.
#include "config_fixture.h"

namespace tlpmail::config::testing {
namespace {

constexpr const char* kOps = "config/lists.d/ops.toml";

// ops.toml with one problem: the exact diagnostics.
TEST_F(ConfigTest, OneBrokenListFile) {
  const FileCase cases[] = {
      {"typo of tlp_ceiling",
       replaced(kOpsList, "tlp_ceiling", "tlp_celing"),
       {"config/lists.d/ops.toml: missing required key 'tlp_ceiling'",
        "config/lists.d/ops.toml:3: unknown key 'tlp_celing' (did you mean 'tlp_ceiling'?)"}},
      {"unknown list keys",
       std::string(kOpsList) + "moderated = true\nsubject-prefix = \"[ops]\"\n",
       {"config/lists.d/ops.toml:7: unknown key 'moderated'",
        "config/lists.d/ops.toml:8: unknown key 'subject-prefix' (did you mean "
        "'subject_prefix'?)"}},
      {"invalid list label",
       replaced(kOpsList, "tlp_ceiling = \"AMBER\"", "tlp_ceiling = \"ORANGE\""),
       {"config/lists.d/ops.toml:3: invalid TLP label 'ORANGE' (expected CLEAR, GREEN, AMBER, "
        "AMBER+STRICT or RED)"}},
      {"default above ceiling",
       replaced(replaced(kOpsList, "tlp_ceiling = \"AMBER\"", "tlp_ceiling = \"GREEN\""),
                "tlp_default = \"GREEN\"", "tlp_default = \"AMBER\""),
       {"config/lists.d/ops.toml:4: tlp_default AMBER is above tlp_ceiling GREEN"}},
      {"member not in directory",
       R"(address = "csirt-ops@lists.example.org"
tlp_ceiling = "AMBER"
members = [
  "alice@csirt-a.example",
  "eve@x.example",
  "BOB@csirt-b.example",
]
admins = ["alice@csirt-a.example"]
)",
       {"config/lists.d/ops.toml:5: member 'eve@x.example' is not in the directory"}},
      {"admin not in directory",
       replaced(kOpsList, "admins = [\"alice@csirt-a.example\"]",
                "admins = [\"alice@csirt-a.example\", \"eve@x.example\"]"),
       {"config/lists.d/ops.toml:6: admin 'eve@x.example' is not in the directory"}},
      {"malformed member address",
       replaced(kOpsList, "\"bob@csirt-b.example\"", "\"bob@csirt-b\""),
       {"config/lists.d/ops.toml:5: invalid e-mail address 'bob@csirt-b': the domain needs at "
        "least one dot"}},
      {"malformed list address",
       replaced(kOpsList, "csirt-ops@lists.example.org", "csirt ops@lists.example.org"),
       {"config/lists.d/ops.toml:1: invalid e-mail address 'csirt ops@lists.example.org': a "
        "space is not allowed in the local part"}},
      {"list without address",
       replaced(kOpsList, "address = \"csirt-ops@lists.example.org\"\n", ""),
       {"config/lists.d/ops.toml: missing required key 'address'"}},
      {"list without members key",
       replaced(kOpsList,
                "members = [\"alice@csirt-a.example\", \"bob@csirt-b.example\", "
                "\"soc@csirt-c.example\"]\n",
                ""),
       {"config/lists.d/ops.toml: missing required key 'members'"}},
      {"member of the wrong type",
       R"(address = "csirt-ops@lists.example.org"
tlp_ceiling = "AMBER"
members = [
  "alice@csirt-a.example",
  { email = "bob@csirt-b.example" },
]
admins = ["alice@csirt-a.example"]
deliver_to_sender = "yes"
)",
       {"config/lists.d/ops.toml:5: wrong type for an item of 'members': expected a string, got "
        "a table",
        "config/lists.d/ops.toml:8: wrong type for 'deliver_to_sender': expected a boolean (true "
        "or false), got a string"}},
      {"list with no members",
       "address = \"csirt-ops@lists.example.org\"\ntlp_ceiling = \"AMBER\"\nmembers = []\n"
       "admins = []\n",
       {"config/lists.d/ops.toml:3: warning: the list has no members",
        "config/lists.d/ops.toml:4: warning: the list has no admins: nobody will be told about "
        "delivery failures or key problems"}},
      {"control characters in subject_prefix",
       std::string(kOpsList) + "subject_prefix = \"[ops]\\nBcc: eve@x.example\"\n",
       {"config/lists.d/ops.toml:7: 'subject_prefix' must not contain control characters (line "
        "breaks, tabs)"}},
  };
  expect_each(kOps, cases);
}

TEST_F(ConfigTest, DefaultLabelDefaultsToCeiling) {
  write(kOps, replaced(kOpsList, "tlp_default = \"GREEN\"\n", ""));
  auto c = load_ok();
  ASSERT_NE(c, nullptr);
  const auto* l = c->directory.find_list("csirt-ops@lists.example.org");
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->ceiling, policy::Tlp::amber);
  EXPECT_EQ(l->default_label, policy::Tlp::amber);
}

TEST_F(ConfigTest, AdminNotAMember) {
  write(kOps, replaced(kOpsList, "admins = [\"alice@csirt-a.example\"]",
                       "admins = [\"Alice@CSIRT-A.example\", \"carol@csirt-c.example\"]"));
  EXPECT_EQ(check_with("config/directory.toml", with_person(R"(email = "carol@csirt-c.example"
name = "Carol Example"
fingerprint = "3333333333333333333333333333333333333333"
clearance = "GREEN"
)")),
            (Lines{"config/lists.d/ops.toml:6: admin 'carol@csirt-c.example' is not a "
                   "member of this list"}));
}

TEST_F(ConfigTest, DuplicateMembersAndMissingAdminsAreWarnings) {
  write(kOps, R"(address = "csirt-ops@lists.example.org"
tlp_ceiling = "AMBER"
members = [
  "alice@csirt-a.example",
  "ALICE@csirt-a.example",
]
)");
  LoadResult r = load_config("config/tlpmail.toml");
  ASSERT_TRUE(r.ok());
  std::vector<std::string> got;
  for (const auto& d : r.diagnostics) got.push_back(d.to_string());
  EXPECT_EQ(got, (Lines{
                     "config/lists.d/ops.toml: warning: the list has no admins: nobody will be "
                     "told about delivery failures or key problems",
                     "config/lists.d/ops.toml:5: warning: member 'ALICE@csirt-a.example' is "
                     "listed twice (first at line 4)",
                 }));
  EXPECT_EQ(r.config->directory.find_list("csirt-ops@lists.example.org")->members,
            (std::vector<std::string>{"alice@csirt-a.example"}));
}

TEST_F(ConfigTest, TwoListsWithOneAddress) {
  EXPECT_EQ(check_with("config/lists.d/ops2.toml", replaced(kOpsList, "csirt-ops@lists.example.org",
                                                            "CSIRT-OPS@lists.example.org")),
            (Lines{"config/lists.d/ops2.toml:1: list address "
                   "'CSIRT-OPS@lists.example.org' is already used by "
                   "config/lists.d/ops.toml"}));
}

TEST_F(ConfigTest, ListAddressIsAnotherListsRequestAddress) {
  EXPECT_EQ(check_with("config/lists.d/zz.toml", replaced(kOpsList, "csirt-ops@lists.example.org",
                                                          "csirt-ops-request@lists.example.org")),
            (Lines{"config/lists.d/zz.toml:1: address "
                   "'csirt-ops-request@lists.example.org' collides with the -request "
                   "address of list 'csirt-ops@lists.example.org' "
                   "(config/lists.d/ops.toml)"}));
}

TEST_F(ConfigTest, BouncesAddressIsAnEarlierListsAddress) {
  // a.toml sorts before ops.toml, so ops.toml is the one that collides.
  EXPECT_EQ(check_with("config/lists.d/a.toml", replaced(kOpsList, "csirt-ops@lists.example.org",
                                                         "csirt-ops-bounces@lists.example.org")),
            (Lines{"config/lists.d/ops.toml:1: -bounces address "
                   "'csirt-ops-bounces@lists.example.org' of this list collides with list "
                   "'csirt-ops-bounces@lists.example.org' (config/lists.d/a.toml)"}));
}

TEST_F(ConfigTest, ListAddressIsAPersonsAddress) {
  EXPECT_EQ(check_with("config/directory.toml",
                       with_person(R"(email = "CSIRT-OPS-request@lists.example.org"
name = "Misfiled"
fingerprint = "3333333333333333333333333333333333333333"
clearance = "GREEN"
)")),
            (Lines{"config/lists.d/ops.toml:1: -request address "
                   "'csirt-ops-request@lists.example.org' is also the e-mail address of a "
                   "person in the directory (config/directory.toml:23)"}));
}

TEST_F(ConfigTest, BrokenListFileDoesNotStopTheOthers) {
  write("config/lists.d/b.toml", "address = \"b@lists.example.org\"\ntlp_ceiling = AMBER\n");
  EXPECT_EQ(check_with("config/lists.d/c.toml", R"(address = "c@lists.example.org"
tlp_ceiling = "RED"
tlp_celing = "RED"
members = ["alice@csirt-a.example"]
admins = ["alice@csirt-a.example"]
)"),
            (Lines{
                "config/lists.d/b.toml:2: TOML syntax error at column 15: error while "
                "parsing value: could not determine value type",
                "config/lists.d/c.toml:3: unknown key 'tlp_celing' (did you mean "
                "'tlp_ceiling'?)",
            }));
}

TEST_F(ConfigTest, OnlyVisibleTomlFilesAreLists) {
  write("config/lists.d/README", "not toml at all [[[\n");
  write("config/lists.d/ops.toml~", "not toml at all [[[\n");
  write("config/lists.d/.#ops.toml", "not toml at all [[[\n");
  write("config/lists.d/ops.toml.bak", "not toml at all [[[\n");
  std::filesystem::create_directories("config/lists.d/archive");
  write("config/lists.d/archive/old.toml", "not toml at all [[[\n");
  auto c = load_ok();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->directory.lists().size(), 1u);
}

TEST_F(ConfigTest, FolderNamedLikeAListFile) {
  std::filesystem::create_directories("config/lists.d/old.toml");
  EXPECT_EQ(check(), (Lines{"config/lists.d/old.toml: is a folder, not a list file"}));
}

TEST_F(ConfigTest, EmptyListsDirIsAWarning) {
  std::filesystem::remove("config/lists.d/ops.toml");
  LoadResult r = load_config("config/tlpmail.toml");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].to_string(), "config/lists.d: warning: no list files (*.toml)");
  EXPECT_TRUE(r.config->directory.lists().empty());
}

TEST_F(ConfigTest, AutocryptIsOnByDefaultAndCanBeTurnedOff) {
  auto on = load_ok();
  ASSERT_NE(on, nullptr);
  EXPECT_TRUE(on->directory.find_list("csirt-ops@lists.example.org")->autocrypt);
  write(kOps, std::string(kOpsList) + "autocrypt = false\n");
  auto off = load_ok();
  ASSERT_NE(off, nullptr);
  EXPECT_FALSE(off->directory.find_list("csirt-ops@lists.example.org")->autocrypt);
  EXPECT_EQ(check_with(kOps, std::string(kOpsList) + "autocrypt = \"no\"\n"),
            (Lines{"config/lists.d/ops.toml:7: wrong type for 'autocrypt': expected a "
                   "boolean (true or false), got a string"}));
}

}  // namespace
}  // namespace tlpmail::config::testing
