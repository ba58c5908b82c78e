// The directory of people and the mailing lists, as loaded from
// directory.toml and lists.d/*.toml: an immutable value with lookups.
// It knows nothing about TOML or keys; lib/config builds it after
// validation, lib/keyring adds what the keys say about each person.
#pragma once

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
  std::string email;         // as written; compare with iequals()
  std::string name;
  std::string organization;
  std::string country;
  std::string fingerprint;   // normalised: 40 upper-case hex digits
  policy::Tlp clearance = policy::Tlp::clear;
  Kind kind = Kind::person;
  std::map<std::string, std::string> extra;  // free-form fields, kept and shown
  SourceLocation at;              // the [[person]] table
  SourceLocation fingerprint_at;  // the fingerprint key
};

struct MailingList {
  std::string address;
  std::string description;
  policy::Tlp ceiling = policy::Tlp::clear;
  policy::Tlp default_label = policy::Tlp::clear;
  std::vector<std::string> members;  // emails as written in the list file
  std::vector<std::string> admins;
  std::string subject_prefix;        // empty when not set
  bool deliver_to_sender = true;
  SourceLocation at;                 // the list file, line 1

  // "csirt-ops" of "csirt-ops@lists.example.org".
  std::string local_part() const;
  std::string domain() const;
  std::string request_address() const;  // csirt-ops-request@...
  std::string bounces_address() const;  // csirt-ops-bounces@...
};

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

 private:
  std::vector<Person> people_;
  std::vector<MailingList> lists_;
};

}  // namespace tlpmail::directory
