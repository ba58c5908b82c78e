// The directory of people and the mailing lists, as loaded from
// directory.toml and lists.d/*.toml: an immutable value with lookups.
// It knows nothing about TOML or keys; lib/config builds it after
// validation, lib/keyring adds what the keys say about each person.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/tlp.h"

namespace tlpmail::directory {

// Where a value came from, for FILE:LINE messages about it later.
struct SourceLocation {
  std::string file;
  int line = 0;
};

enum class Kind { person, team };
std::string_view to_string(Kind k);

struct Person {
  std::string email;  // as written; compare with iequals()
  std::string name;
  std::string organization;
  std::string country;
  std::string fingerprint;  // normalised: 40 upper-case hex digits
  policy::Tlp clearance = policy::Tlp::clear;
  Kind kind = Kind::person;
  // Contact facts CSIRT directories carry (Trusted Introducer, FIRST,
  // Cerebrate; docs/admin-guide.md maps them); "" when not set. Checked by
  // lib/config, shown and sent for review (lib/comcheck), never enforced.
  std::string team;             // the team's short name, "CSIRT-A"
  std::string phone;            // international form, "+43 1 234 5678"
  std::string emergency_phone;  // reachable around the clock
  std::string timezone;         // IANA name, "Europe/Vienna"
  std::string business_hours;   // free text, "Mo-Fr 08:00-17:00"
  std::map<std::string, std::string> extra;  // free-form fields, kept and shown
  SourceLocation at;                         // the [[person]] table
  SourceLocation fingerprint_at;             // the fingerprint key
};

struct MailingList {
  std::string address;
  std::string description;
  policy::Tlp ceiling = policy::Tlp::clear;
  policy::Tlp default_label = policy::Tlp::clear;
  std::vector<std::string> members;  // emails as written in the list file
  std::vector<std::string> admins;
  std::string subject_prefix;  // empty when not set
  bool deliver_to_sender = true;
  // The outer Subject of a copy says only "[TLP:X] <prefix> Encrypted
  // message"; the real one travels in the protected headers.
  bool protect_subject = false;
  // Copies carry an Autocrypt header with the list key (docs/outgoing.md).
  bool autocrypt = true;
  // Seconds between communication checks / directory reviews the daemon
  // starts by itself (lib/comcheck); 0: only when an admin starts one.
  // directory_review_interval is the list's own or the directory's.
  std::int64_t comcheck_interval = 0;
  std::int64_t directory_review_interval = 0;
  // A member whose last this many copies bounced is flagged (lib/bounces).
  int bounce_threshold = 3;
  SourceLocation at;  // the list file, line of `address`

  // "csirt-ops" of "csirt-ops@lists.example.org"; split at the last '@'.
  std::string local_part() const;
  std::string domain() const;           // "lists.example.org"
  std::string request_address() const;  // csirt-ops-request@...
  std::string bounces_address() const;  // csirt-ops-bounces@...

  // Case-insensitive on the e-mail address.
  bool has_member(std::string_view email) const;
  bool has_admin(std::string_view email) const;
};

// Which of a list's three addresses an address is.
enum class ListRole { post, request, bounces };
std::string_view to_string(ListRole r);  // "post", "request", "bounces"

struct ListAddressMatch {
  const MailingList* list = nullptr;  // points into the Directory
  ListRole role = ListRole::post;
  std::string tag;  // VERP "+tag" of the local part, as sent; empty when none
};

// An immutable value: build it once, then share it (const) between threads;
// every lookup is const and safe to call concurrently. Pointers returned by
// lookups point into this Directory and live as long as it does.
class Directory {
 public:
  Directory() = default;
  Directory(std::vector<Person> people, std::vector<MailingList> lists);

  const std::vector<Person>& people() const { return people_; }
  const std::vector<MailingList>& lists() const { return lists_; }

  // Case-insensitive on the e-mail address; nullptr when absent.
  const Person* find_person(std::string_view email) const;
  // By normalised primary fingerprint; nullptr when absent.
  const Person* find_by_fingerprint(std::string_view fingerprint) const;
  // By list address (case-insensitive); nullptr when absent.
  const MailingList* find_list(std::string_view address) const;
  // A list's posting, -request or -bounces address (case-insensitive), as
  // SMTP intake needs it for RCPT TO; nullopt for any other address. The
  // local part may carry a "+tag" suffix (VERP), e.g.
  // "ops-bounces+alice=a.example@lists.example.org"; an empty tag ("ops+@")
  // matches nothing. Quoted local parts and address literals never match.
  std::optional<ListAddressMatch> match_list_address(std::string_view address) const;
  // The list a message's envelope recipients address: the match of the
  // first one (the intake's one-list rule makes them all agree); nullopt
  // when there is none or it is no list's address (any more).
  std::optional<ListAddressMatch> match_recipients(const std::vector<std::string>& recipients) const;

 private:
  std::vector<Person> people_;
  std::vector<MailingList> lists_;
  // Lower-cased key -> index into people_ / lists_. The first entry wins
  // when the input has duplicates (lib/config refuses those anyway).
  std::map<std::string, std::size_t, std::less<>> person_by_email_;
  std::map<std::string, std::size_t, std::less<>> person_by_fingerprint_;
  struct ListSlot {
    std::size_t index;
    ListRole role;
  };
  std::map<std::string, ListSlot, std::less<>> list_by_address_;
};

}  // namespace tlpmail::directory
