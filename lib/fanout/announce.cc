// The list's messages about its own key (announce.h): the rotation's
// announcement, signed by both keys and encrypted once to every reachable
// member and admin, and the admins' expiry and end-of-grace notices.
#include "fanout/announce.h"

#include <algorithm>
#include <cstdio>

#include "compose/compose.h"
#include "fanout/letters.h"
#include "openpgp/fanout.h"
#include "util/text.h"
#include "util/wiped.h"

namespace tlpmail::fanout {
namespace {

constexpr std::time_t kDay = 86400;

// "2027-01-05 14:03 UTC".
std::string date_time(std::time_t t) { return utc_time(t, "%Y-%m-%d %H:%M UTC"); }

std::string unusable_why(const keyring::PersonKey* k, std::time_t now) {
  return keyring::unusable_reason(k, now, "not in the directory");
}

}  // namespace

std::string announcement_text(const directory::MailingList& list, const KeyChange& change) {
  std::string t = "The list " + list.address + " has a new OpenPGP key.\n\n";
  t += "  New key: " + compose::grouped_fingerprint(change.new_fingerprint) + "\n";
  t += "  Old key: " + compose::grouped_fingerprint(change.old_fingerprint) + "\n\n";
  t += "The new public key is attached (" + list.local_part() +
       ".asc). The old key has certified it, and this message is signed by both keys.\n\n";
  t += "What to do:\n";
  t += "1. Import the attached key into your mail client (or gpg --import).\n";
  t += "2. Check that its fingerprint is the new key's above; if you can, compare it\n"
       "   with the fingerprint your list admins give you over another channel.\n";
  t += "3. From now on, encrypt mail to " + list.address + " to the new key.\n\n";
  if (change.grace_until > change.now) {
    t += "Mail encrypted to the old key is still accepted until " +
         date_time(change.grace_until) + "; after that it is refused.\n";
  } else {
    t += "Mail encrypted to the old key is no longer accepted.\n";
  }
  t += "Everything the list sends (copies, replies, notices) is signed with the new key from now "
       "on.\n";
  return t;
}

Result<Announcement> announce_new_list_key(openpgp::Context& gpg, const config::Config& config,
                                           const keyring::KeyReport& keys,
                                           const directory::MailingList& list,
                                           const KeyChange& change) {
  Announcement out;
  std::vector<std::string> people;
  for (const auto* group : {&list.members, &list.admins}) {
    for (const std::string& a : *group) {
      const bool seen = std::any_of(people.begin(), people.end(),
                                    [&](const std::string& p) { return iequals(p, a); });
      if (!seen) people.push_back(a);
    }
  }
  std::vector<std::string> emails, fingerprints;
  for (const std::string& p : people) {
    const keyring::PersonKey* k = keys.find(p);
    if (!keyring::usable_at(k, change.now)) {
      out.not_reached.push_back({p, unusable_why(k, change.now)});
      continue;
    }
    emails.push_back(p);
    fingerprints.push_back(k->fingerprint);
  }
  if (emails.empty()) {
    return Unexpected(Error::permanent("nobody on " + list.address +
                                       " has a usable key to receive the announcement"));
  }

  compose::NoticeFacts f;
  f.list = list_facts(list);
  f.to = list.address;
  f.subject = "[" + list.local_part() + "] the list has a new key";
  f.body = announcement_text(list, change);
  f.message_id = new_message_id(config, "listkey");
  f.date = change.now;
  f.attachments.push_back(
      {"application/pgp-keys", list.local_part() + ".asc", change.new_key_armored});
  Wiped entity{compose::notice_entity(f)};
  auto m = seal(gpg, list, std::vector<std::string>{change.old_fingerprint, change.new_fingerprint},
                entity.value, emails, fingerprints);
  if (!m) return Unexpected(m.error());
  compose::Frame frame = compose::notice_frame(f);
  m->id = "listkey." + change.new_fingerprint;
  m->kind = queue::OutgoingKind::notice;
  m->list_message_id = f.message_id;
  m->head = std::move(frame.head);
  m->tail = std::move(frame.tail);
  out.message = std::move(*m);
  return out;
}

int list_key_notice_due(std::time_t expires, std::time_t since, std::time_t now) {
  if (since <= 0 || since > now) since = now - kDay;
  if (expires <= 0) return 0;
  int due = 0;
  for (int days : kListKeyNoticeDays) {
    const std::time_t at = expires - days * kDay;
    if (at > since && at <= now) due = days;  // the thresholds go down: the last is the nearest
  }
  return due;
}

Result<std::vector<queue::NewOutgoing>> list_key_notices(openpgp::Context& gpg,
                                                         const config::Config& config,
                                                         const keyring::KeyReport& keys,
                                                         std::time_t since, std::time_t now,
                                                         std::vector<std::string>& summary) {
  if (since <= 0 || since > now) since = now - kDay;
  auto crossed = [&](std::time_t t) { return t > since && t <= now; };
  std::vector<queue::NewOutgoing> out;
  for (const directory::MailingList& list : config.directory.lists()) {
    auto found = openpgp::find_list_keys(gpg, list.address);
    if (!found || !*found) continue;  // a list without a usable key fails loudly elsewhere
    const openpgp::ListKeys& lk = **found;
    struct Notice {
      std::string subject, body;
      std::string id;  // the outbox id without ".ADMIN": what the notice is about
    };
    std::vector<Notice> notices;
    const std::time_t expires = lk.current.expires;
    // One notice per run, for the nearest threshold due.
    if (const int days = list_key_notice_due(expires, since, now); days > 0) {
      notices.push_back(
          {"[" + list.local_part() + "] the list key expires in " + std::to_string(days) +
               (days == 1 ? " day" : " days"),
           "The key of " + list.address + ", " + lk.current.fingerprint + ",\nexpires on " +
               date_time(expires) +
               ". After that the list can neither decrypt nor sign mail.\n\n"
               "Extend it on the list server (as the service user):\n\n  tlpmailctl "
               "extend-list-key " +
               list.address +
               "\n\nMembers need not do anything: their copy of the key keeps working.\n",
           "listkey-expiry." + lk.current.fingerprint + "." + std::to_string(expires) + "." +
               std::to_string(days)});
    }
    for (const openpgp::PreviousListKey& p : lk.previous) {
      if (p.facts.expires == 0 || !crossed(p.facts.expires)) continue;
      notices.push_back(
          {"[" + list.local_part() + "] the grace period of the old list key ended",
           "The grace period of " + list.address + "'s old key " + p.facts.fingerprint +
               " ended on " + date_time(p.facts.expires) +
               ".\nMail encrypted to it is refused now, with a reply that names the current key " +
               lk.current.fingerprint +
               ".\n\nWhen you no longer need it, delete its secret key from the list server:\n\n"
               "  tlpmailctl retire-list-key " +
               list.address + " " + p.facts.fingerprint + "\n",
           "listkey-grace." + p.facts.fingerprint + "." + std::to_string(p.facts.expires)});
    }
    if (notices.empty()) continue;
    for (const Notice& notice : notices) {
      for (const std::string& admin : list.admins) {
        const keyring::PersonKey* k = keys.find(admin);
        if (!keyring::usable_at(k, now)) continue;
        compose::NoticeFacts f;
        f.list = list_facts(list);
        f.to = admin;
        f.subject = notice.subject;
        f.body = notice.body;
        f.message_id = new_message_id(config, "listkey");
        f.date = now;
        const std::string id = notice.id + "." + ascii_lower(admin);
        auto sealed_notice = sealed_letter(gpg, list, lk.current.fingerprint, f, k->fingerprint, id,
                                           queue::OutgoingKind::notice);
        if (!sealed_notice) return Unexpected(sealed_notice.error());
        out.push_back(std::move(*sealed_notice));
      }
      summary.push_back(list.address + ": " + notice.subject.substr(list.local_part().size() + 3));
    }
  }
  return out;
}

}  // namespace tlpmail::fanout
