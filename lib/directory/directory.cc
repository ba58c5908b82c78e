// The Directory value (directory.h): people and lists with case-insensitive
// indexes built once in the constructor. No validation happens here; lib/config
// refuses duplicates and bad forms before it builds a Directory.
#include "directory/directory.h"

#include "directory/address.h"
#include "util/enum_names.h"
#include "util/text.h"

namespace tlpmail::directory {

constexpr auto kKindNames = std::to_array<std::string_view>({"person", "team"});
static_assert(util::names_cover(kKindNames, Kind::team));
std::string_view to_string(Kind k) { return util::name_of(kKindNames, k); }

constexpr auto kListRoleNames = std::to_array<std::string_view>({"post", "request", "bounces"});
static_assert(util::names_cover(kListRoleNames, ListRole::bounces));
std::string_view to_string(ListRole r) { return util::name_of(kListRoleNames, r); }

std::string MailingList::local_part() const {
  auto at = address.rfind('@');
  return at == std::string::npos ? address : address.substr(0, at);
}

std::string MailingList::domain() const {
  auto at = address.rfind('@');
  return at == std::string::npos ? std::string() : address.substr(at + 1);
}

std::string MailingList::request_address() const { return local_part() + "-request@" + domain(); }

std::string MailingList::bounces_address() const { return local_part() + "-bounces@" + domain(); }

bool MailingList::has_member(std::string_view email) const {
  for (const auto& m : members) {
    if (iequals(m, email)) return true;
  }
  return false;
}

bool MailingList::has_admin(std::string_view email) const {
  for (const auto& a : admins) {
    if (iequals(a, email)) return true;
  }
  return false;
}

Directory::Directory(std::vector<Person> people, std::vector<MailingList> lists)
    : people_(std::move(people)), lists_(std::move(lists)) {
  for (std::size_t i = 0; i < people_.size(); ++i) {
    person_by_email_.emplace(ascii_lower(people_[i].email), i);
    person_by_fingerprint_.emplace(ascii_upper(people_[i].fingerprint), i);
  }
  for (std::size_t i = 0; i < lists_.size(); ++i) {
    const MailingList& l = lists_[i];
    list_by_address_.emplace(ascii_lower(l.address), ListSlot{i, ListRole::post});
  }
  // -request and -bounces after every posting address, so that a posting
  // address always wins over a colliding role address.
  for (std::size_t i = 0; i < lists_.size(); ++i) {
    const MailingList& l = lists_[i];
    list_by_address_.emplace(ascii_lower(l.request_address()), ListSlot{i, ListRole::request});
    list_by_address_.emplace(ascii_lower(l.bounces_address()), ListSlot{i, ListRole::bounces});
  }
}

const Person* Directory::find_person(std::string_view email) const {
  auto it = person_by_email_.find(ascii_lower(email));
  return it == person_by_email_.end() ? nullptr : &people_[it->second];
}

const Person* Directory::find_by_fingerprint(std::string_view fingerprint) const {
  auto normal = normalize_fingerprint(fingerprint);
  if (!normal) return nullptr;
  auto it = person_by_fingerprint_.find(*normal);
  return it == person_by_fingerprint_.end() ? nullptr : &people_[it->second];
}

const MailingList* Directory::find_list(std::string_view address) const {
  auto it = list_by_address_.find(ascii_lower(address));
  if (it == list_by_address_.end() || it->second.role != ListRole::post) return nullptr;
  return &lists_[it->second.index];
}

std::optional<ListAddressMatch> Directory::match_list_address(std::string_view address) const {
  std::string key = ascii_lower(address);
  std::string tag;
  const std::size_t at = key.rfind('@');
  if (at == std::string::npos) return std::nullopt;
  // A list address never contains '+' (lib/config checks addresses), so
  // the first '+' of the local part starts the tag.
  if (const std::size_t plus = key.find('+'); plus < at) {
    if (plus + 1 == at) return std::nullopt;
    tag = std::string(address.substr(plus + 1, at - plus - 1));
    key.erase(plus, at - plus);
  }
  auto it = list_by_address_.find(key);
  if (it == list_by_address_.end()) return std::nullopt;
  return ListAddressMatch{&lists_[it->second.index], it->second.role, std::move(tag)};
}

std::optional<ListAddressMatch> Directory::match_recipients(
    const std::vector<std::string>& recipients) const {
  if (recipients.empty()) return std::nullopt;
  return match_list_address(recipients.front());
}

}  // namespace tlpmail::directory
