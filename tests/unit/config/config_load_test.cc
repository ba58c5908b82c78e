// load_config() as a whole: a full configuration with every value, the
// defaults, relative path resolution, many problems in one run (sorted by
// file then line), diagnostic formatting and lookups in the result.
#include <type_traits>

#include "config_fixture.h"

namespace tlpmail::config::testing {
namespace {

static_assert(std::is_same_v<decltype(LoadResult::config), std::shared_ptr<const Config>>,
              "a loaded configuration is immutable");

TEST_F(ConfigTest, DefaultsWhenOnlyHostnameIsSet) {
  auto c = load_ok();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->main_file, std::filesystem::path("config/tlpmail.toml"));
  EXPECT_EQ(c->server.hostname, "lists.example.org");
  ASSERT_EQ(c->server.listen.size(), 1u);
  EXPECT_EQ(c->server.listen[0].host, "127.0.0.1");
  EXPECT_EQ(c->server.listen[0].port, 10030);
  EXPECT_EQ(c->server.protocol, Protocol::smtp);
  EXPECT_EQ(c->server.max_message_size, 26214400u);
  EXPECT_EQ(c->server.max_connections, 100u);
  EXPECT_TRUE(c->server.tls_certificate.empty());
  EXPECT_TRUE(c->server.tls_private_key.empty());
  EXPECT_EQ(c->relay.host, "127.0.0.1");
  EXPECT_EQ(c->relay.port, 10031);
  EXPECT_EQ(c->relay.starttls, StartTls::off);
  EXPECT_EQ(c->relay.max_connections, 4u);
  EXPECT_EQ(c->paths.state_dir, std::filesystem::path("/var/lib/tlpmail"));
  EXPECT_EQ(c->paths.directory, std::filesystem::path("config/directory.toml"));
  EXPECT_EQ(c->paths.lists_dir, std::filesystem::path("config/lists.d"));
  EXPECT_EQ(c->paths.keys_dir, std::filesystem::path("config/keys"));
  EXPECT_EQ(c->log.level, "info");

  const auto* bob = c->directory.find_person("bob@csirt-b.example");
  ASSERT_NE(bob, nullptr);
  EXPECT_EQ(bob->kind, directory::Kind::person);
  EXPECT_EQ(bob->organization, "");
  EXPECT_EQ(bob->country, "");
  EXPECT_TRUE(bob->extra.empty());

  const auto* l = c->directory.find_list("csirt-ops@lists.example.org");
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->subject_prefix, "");
  EXPECT_TRUE(l->deliver_to_sender);
  EXPECT_FALSE(l->protect_subject);
}

TEST_F(ConfigTest, FullConfigurationLoadsEveryValue) {
  const std::string keys = root_.file("elsewhere/keys");
  std::filesystem::create_directories(keys);
  write_main(R"(listen = ["127.0.0.1:10030", "[::1]:10030"]
protocol = "LMTP"
max_message_size = 10485760
max_connections = 50
tls_certificate = "tls/cert.pem"
tls_private_key = "tls/key.pem"

[relay]
host = "mta.example.org"
port = 10025
starttls = "required"
max_connections = 8

[paths]
state_dir = "state"
directory = "people/directory.toml"
lists_dir = "lists/"
keys_dir = ")" +
             keys + R"("

[log]
level = "Debug"
)");
  write("config/tls/cert.pem", "x");
  write("config/tls/key.pem", "x");
  write("config/people/directory.toml", std::string(kAlice) + R"(kind = "person"
role = "standing"

[[person]]
email = "soc@csirt-c.example"
name = "CSIRT-C SOC"
fingerprint = "2222222222222222222222222222222222222222"
clearance = "AMBER"
kind = "team"
)");
  write("config/lists/ops.toml", R"(address = "csirt-ops@lists.example.org"
description = "CSIRT Network operational exchange"
tlp_ceiling = "AMBER+STRICT"
tlp_default = "AMBER"
members = ["alice@csirt-a.example", "soc@csirt-c.example"]
admins = ["alice@csirt-a.example"]
subject_prefix = "[csirt-ops]"
deliver_to_sender = false
protect_subject = true
)");
  auto c = load_ok();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->server.hostname, "lists.example.org");
  ASSERT_EQ(c->server.listen.size(), 2u);
  EXPECT_EQ(c->server.listen[1].host, "::1");
  EXPECT_EQ(c->server.listen[1].port, 10030);
  EXPECT_EQ(c->server.protocol, Protocol::lmtp);
  EXPECT_EQ(c->server.max_message_size, 10485760u);
  EXPECT_EQ(c->server.max_connections, 50u);
  EXPECT_EQ(c->server.tls_certificate, std::filesystem::path("config/tls/cert.pem"));
  EXPECT_EQ(c->server.tls_private_key, std::filesystem::path("config/tls/key.pem"));
  EXPECT_EQ(c->relay.host, "mta.example.org");
  EXPECT_EQ(c->relay.port, 10025);
  EXPECT_EQ(c->relay.starttls, StartTls::required);
  EXPECT_EQ(c->relay.max_connections, 8u);
  EXPECT_EQ(c->paths.state_dir, std::filesystem::path("config/state"));
  EXPECT_EQ(c->paths.directory, std::filesystem::path("config/people/directory.toml"));
  EXPECT_EQ(c->paths.lists_dir, std::filesystem::path("config/lists"));
  EXPECT_EQ(c->paths.keys_dir, std::filesystem::path(keys));
  EXPECT_EQ(c->log.level, "debug");

  ASSERT_EQ(c->directory.people().size(), 2u);
  const auto& alice = c->directory.people()[0];
  EXPECT_EQ(alice.email, "alice@csirt-a.example");
  EXPECT_EQ(alice.name, "Alice Example");
  EXPECT_EQ(alice.organization, "CSIRT-A");
  EXPECT_EQ(alice.country, "AT");
  EXPECT_EQ(alice.fingerprint, "0123456789ABCDEF0123456789ABCDEF01234567");
  EXPECT_EQ(alice.clearance, policy::Tlp::red);
  EXPECT_EQ(alice.kind, directory::Kind::person);
  EXPECT_EQ(alice.extra, (std::map<std::string, std::string>{{"role", "standing"}}));
  EXPECT_EQ(alice.at.file, "config/people/directory.toml");
  EXPECT_EQ(alice.at.line, 1);
  EXPECT_EQ(alice.fingerprint_at.line, 6);
  const auto& soc = c->directory.people()[1];
  EXPECT_EQ(soc.kind, directory::Kind::team);
  EXPECT_EQ(soc.clearance, policy::Tlp::amber);
  EXPECT_EQ(soc.at.line, 11);

  ASSERT_EQ(c->directory.lists().size(), 1u);
  const auto& l = c->directory.lists()[0];
  EXPECT_EQ(l.address, "csirt-ops@lists.example.org");
  EXPECT_EQ(l.description, "CSIRT Network operational exchange");
  EXPECT_EQ(l.ceiling, policy::Tlp::amber_strict);
  EXPECT_EQ(l.default_label, policy::Tlp::amber);
  EXPECT_EQ(l.members, (std::vector<std::string>{"alice@csirt-a.example", "soc@csirt-c.example"}));
  EXPECT_EQ(l.admins, (std::vector<std::string>{"alice@csirt-a.example"}));
  EXPECT_EQ(l.subject_prefix, "[csirt-ops]");
  EXPECT_FALSE(l.deliver_to_sender);
  EXPECT_TRUE(l.protect_subject);
  EXPECT_EQ(l.at.file, "config/lists/ops.toml");
  EXPECT_EQ(l.at.line, 1);
}

TEST_F(ConfigTest, RelativePathsAreJoinedLexically) {
  std::filesystem::create_directories("shared/lists");
  write_main(R"(
[paths]
directory = "../shared/people.toml"
lists_dir = "./../shared/lists"
keys_dir = "keys/."
)");
  write("shared/people.toml", replaced(kDirectory, "clearance = \"RED\"", "clearance = \"PINK\""));
  EXPECT_EQ(check_with("shared/lists/ops.toml", replaced(kOpsList, "tlp_ceiling", "tlp_celing")),
            (Lines{
                "shared/people.toml:7: invalid TLP label 'PINK' (expected CLEAR, GREEN, "
                "AMBER, AMBER+STRICT or RED)",
                "shared/lists/ops.toml: missing required key 'tlp_ceiling'",
                "shared/lists/ops.toml:3: unknown key 'tlp_celing' (did you mean "
                "'tlp_ceiling'?)",
            }));
}

TEST_F(ConfigTest, MainFileGivenWithoutFolder) {
  std::filesystem::current_path("config");
  write("lists.d/ops.toml", replaced(kOpsList, "tlp_default = \"GREEN\"", "tlp_default = \"RED\""));
  EXPECT_EQ(check("tlpmail.toml"),
            (Lines{"lists.d/ops.toml:4: tlp_default RED is above tlp_ceiling AMBER"}));
  std::filesystem::current_path(root_.path());
}

TEST_F(ConfigTest, MainFileGivenAsAbsolutePath) {
  write("config/lists.d/ops.toml",
        replaced(kOpsList, "tlp_default = \"GREEN\"", "tlp_default = \"RED\""));
  const std::string main = root_.file("config/tlpmail.toml");
  EXPECT_EQ(check(main), (Lines{root_.file("config/lists.d/ops.toml") +
                                ":4: tlp_default RED is above tlp_ceiling AMBER"}));
}

TEST_F(ConfigTest, EveryProblemInOneRunSortedByFileThenLine) {
  write_main(R"(protocol = "smtps"

[log]
level = "loud"
)");
  write("config/directory.toml",
        replaced(replaced(kDirectory, "kind = \"team\"", "kind = \"crew\""), "clearance = \"RED\"",
                 "clearance = \"ORANGE\""));
  write("config/lists.d/ops.toml", replaced(kOpsList, "tlp_ceiling", "tlp_celing"));
  EXPECT_EQ(check_with("config/lists.d/a.toml", R"(admins = ["eve@x.example"]
address = "csirt-ops@lists.example.org"
members = ["eve@x.example"]
tlp_ceiling = "GREEN"
tlp_default = "RED"
)"),
            (Lines{
                "config/tlpmail.toml:3: invalid protocol 'smtps' (expected smtp or lmtp)",
                "config/tlpmail.toml:6: invalid log level 'loud' (expected trace, debug, "
                "info, warn or error)",
                "config/directory.toml:7: invalid TLP label 'ORANGE' (expected CLEAR, "
                "GREEN, AMBER, AMBER+STRICT or RED)",
                "config/directory.toml:20: invalid kind 'crew' (expected person or team)",
                "config/lists.d/a.toml:1: admin 'eve@x.example' is not in the directory",
                "config/lists.d/a.toml:3: member 'eve@x.example' is not in the directory",
                "config/lists.d/a.toml:5: tlp_default RED is above tlp_ceiling GREEN",
                "config/lists.d/ops.toml: missing required key 'tlp_ceiling'",
                "config/lists.d/ops.toml:1: list address 'csirt-ops@lists.example.org' "
                "is already used by config/lists.d/a.toml",
                "config/lists.d/ops.toml:3: unknown key 'tlp_celing' (did you mean "
                "'tlp_ceiling'?)",
            }));
}

TEST_F(ConfigTest, DiagnosticFormats) {
  EXPECT_EQ((Diagnostic{Severity::error, "a.toml", 3, "bad"}).to_string(), "a.toml:3: bad");
  EXPECT_EQ((Diagnostic{Severity::error, "a.toml", 0, "bad"}).to_string(), "a.toml: bad");
  EXPECT_EQ((Diagnostic{Severity::warning, "a.toml", 3, "odd"}).to_string(),
            "a.toml:3: warning: odd");
  EXPECT_EQ((Diagnostic{Severity::warning, "a.toml", 0, "odd"}).to_string(),
            "a.toml: warning: odd");
}

TEST_F(ConfigTest, LookupsInTheLoadedDirectory) {
  auto c = load_ok();
  ASSERT_NE(c, nullptr);
  const directory::Directory& d = c->directory;
  const auto* alice = d.find_person("ALICE@csirt-a.EXAMPLE");
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->name, "Alice Example");
  EXPECT_EQ(d.find_by_fingerprint("2222222222222222222222222222222222222222"),
            d.find_person("soc@csirt-c.example"));
  EXPECT_EQ(d.find_by_fingerprint("3333333333333333333333333333333333333333"), nullptr);
  const auto* l = d.find_list("CSIRT-OPS@lists.example.org");
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->local_part(), "csirt-ops");
  EXPECT_EQ(l->request_address(), "csirt-ops-request@lists.example.org");
  EXPECT_EQ(l->bounces_address(), "csirt-ops-bounces@lists.example.org");
  auto m = d.match_list_address("csirt-ops-bounces@lists.example.org");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->list, l);
  EXPECT_EQ(m->role, directory::ListRole::bounces);
  EXPECT_TRUE(l->has_member("bob@csirt-b.example"));
  EXPECT_TRUE(l->has_admin("alice@csirt-a.example"));
}

}  // namespace
}  // namespace tlpmail::config::testing
