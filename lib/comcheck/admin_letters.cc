// Sealed letters to a list's admins (see admin_letters.h).
#include "comcheck/admin_letters.h"

#include <utility>

#include "fanout/letters.h"
#include "util/wiped.h"

namespace tlpmail::comcheck {

bool usable_now(const keyring::PersonKey* k, std::time_t now) { return keyring::usable_at(k, now); }

std::string key_problem(const keyring::PersonKey* k, std::time_t now) {
  return keyring::unusable_reason(k, now, "no key");
}

Result<std::vector<queue::NewOutgoing>> letters_to_admins(
    openpgp::Context& gpg, const keyring::KeyReport& keys, const directory::MailingList& list,
    std::time_t now, const std::function<void(compose::NoticeFacts& f)>& letter,
    const std::function<std::string(int n)>& name,
    const std::function<void(const std::string& admin, const keyring::PersonKey* key)>& skipped) {
  auto list_key = fanout::list_key_of(gpg, list);
  if (!list_key) return Unexpected(list_key.error());
  std::vector<queue::NewOutgoing> letters;
  int n = 0;
  for (const std::string& admin : list.admins) {
    const keyring::PersonKey* k = keys.find(admin);
    if (!usable_now(k, now)) {
      skipped(admin, k);
      continue;
    }
    compose::NoticeFacts f;
    f.list = fanout::list_facts(list);
    f.to = admin;
    f.date = now;
    letter(f);
    auto sealed = fanout::sealed_letter(gpg, list, list_key->fingerprint, f, k->fingerprint,
                                        name(++n), queue::OutgoingKind::notice);
    wipe(f.body);
    if (!sealed) return Unexpected(sealed.error());
    letters.push_back(std::move(*sealed));
  }
  return letters;
}

}  // namespace tlpmail::comcheck
