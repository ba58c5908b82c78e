// The key check and the digest's members' keys section (see key_check.h).
// The only SQL for key_expiry_notices lives here.
#include "keylife/key_check.h"

#include <set>

#include "audit/audit_log.h"
#include "compose/compose.h"
#include "fanout/letters.h"
#include "keylife/expiry.h"
#include "policy/decision.h"
#include "queue/outbox.h"
#include "util/text.h"

namespace tlpmail::keylife {
namespace {

std::string in_days(int days) {
  return "in " + std::to_string(days) + (days == 1 ? " day" : " days");
}

// The first list (directory order) with `email` as member or admin.
const directory::MailingList* home_list(const config::Config& config, const std::string& email) {
  for (const directory::MailingList& l : config.directory.lists()) {
    if (l.has_member(email)) return &l;
    for (const std::string& a : l.admins) {
      if (iequals(a, email)) return &l;
    }
  }
  return nullptr;
}

// Which part of the key ends its usability at `until`.
std::string what_expires(const openpgp::KeyFacts& k, std::time_t until) {
  if (!k.subkeys.empty() && k.subkeys.front().expires == until) return "Your key";
  for (const openpgp::SubkeyFacts& s : k.subkeys) {
    if (s.is_primary || s.expires != until) continue;
    return std::string(s.can_encrypt ? "The encryption" : "The signing") + " subkey " +
           s.fingerprint + " of your key";
  }
  return "Your key";
}

store::DbResult<std::set<int>> sent_for(store::Database& db, const std::string& fpr,
                                        std::time_t until) {
  auto rows = db.query(
      "SELECT threshold FROM key_expiry_notices WHERE fingerprint = ?1 AND expires_at = ?2",
      {fpr, static_cast<std::int64_t>(until)});
  if (!rows) return Unexpected(rows.error());
  std::set<int> out;
  for (const auto& r : *rows) out.insert(static_cast<int>(r.integer(0)));
  return out;
}

// The audit log's reason for a member left out for their key (the intake
// and the fan-out write the same words).
std::string key_left_out_reason() {
  return policy::describe(policy::Exclusion::key_unusable, policy::Tlp::clear,
                          policy::Tlp::clear);
}

}  // namespace

std::string expiry_notice_text(const directory::MailingList& list, const std::string& name,
                               const keyring::PersonKey& k, std::time_t usable_until,
                               std::time_t now) {
  const int days = days_left(usable_until, now);
  const std::string what = k.facts ? what_expires(*k.facts, usable_until) : "Your key";
  const std::string& fpr = k.fingerprint;
  return "Hello " + name + ",\n\n" + what + " expires on " + iso_date(usable_until) + " (" +
         in_days(days) +
         "):\n"
         "  fingerprint  " +
         compose::grouped_fingerprint(fpr) +
         "\n\nFrom then on the lists you are on can no longer encrypt their mail to you,\n"
         "and they accept nothing you sign with it: you would stop getting their mail.\n\n"
         "To go on, extend the key and send it to the list:\n\n"
         "1. Extend the expiry of the key and of its subkeys, e.g. by two years:\n"
         "     gpg --quick-set-expire " +
         fpr + " 2y\n     gpg --quick-set-expire " + fpr +
         " 2y '*'\n"
         "2. Export the public key:\n"
         "     gpg --armor --export --export-options export-minimal " +
         fpr +
         " > mykey.asc\n"
         "3. Send it as an attachment to " +
         list.request_address() +
         ", in a message signed with\n"
         "   this key (encrypted to the list's key if you can) that holds the line\n"
         "     update-key\n\n"
         "The list answers with what changed. The fingerprint stays the same, so nothing\n"
         "else is needed. A new key (another fingerprint) must go through the list's\n"
         "admins. You get this notice 30, 7 and 1 days before the date, once each.\n\n"
         "-- \n" +
         list.request_address() + " (an automatic notice; signed by the list's key)\n";
}

Result<KeyCheck> run_key_check(openpgp::Context& gpg, const config::Config& config,
                               const keyring::KeyReport& keys, store::Database& db,
                               std::time_t now) {
  KeyCheck out;
  for (const directory::Person& person : config.directory.people()) {
    const keyring::PersonKey* k = keys.find(person.email);
    if (!k || !k->facts) {
      if (k) ++out.unusable;
      continue;
    }
    const keyring::KeyAssessment a = keyring::assess_key(*k->facts, now);
    if (!a.usable) {
      ++out.unusable;
      continue;
    }
    if (a.usable_until == 0 || days_left(a.usable_until, now) > kNoticeDays.front()) continue;
    ++out.expiring;
    const directory::MailingList* list = home_list(config, person.email);
    if (!list) continue;  // on no list: nobody to write from
    auto sent = sent_for(db, k->fingerprint, a.usable_until);
    if (!sent) return Unexpected(Error(sent.error()));
    const auto due = notice_due(a.usable_until, now, *sent);
    if (!due) continue;

    auto list_key = fanout::list_key_of(gpg, *list);
    if (!list_key) return Unexpected(list_key.error());
    compose::NoticeFacts f;
    f.list = fanout::list_facts(*list);
    f.to = person.email;
    const int days = days_left(a.usable_until, now);
    f.subject = "[" + list->local_part() + "] your key expires " + in_days(days);
    f.body = expiry_notice_text(*list, person.name.empty() ? person.email : person.name, *k,
                                a.usable_until, now);
    f.date = now;
    const std::string id = "key-expiry." + k->fingerprint.substr(24) + "." +
                           std::to_string(a.usable_until) + "." + std::to_string(due->threshold);
    f.message_id = fanout::new_message_id(config, id);
    auto letter = fanout::sealed_letter(gpg, *list, list_key->fingerprint, f, k->fingerprint, id,
                                        queue::OutgoingKind::notice);
    if (!letter) {
      // gpg refuses this key (whatever the report said): the others still
      // get theirs; this one is tried at the next check.
      if (letter.error().kind == ErrorClass::temporary) return Unexpected(letter.error());
      out.failed.push_back(person.email + " (" + letter.error().message + ")");
      continue;
    }
    auto written = db.transaction([&](store::Transaction& tx) -> store::DbResult<void> {
      if (auto r = queue::Outbox::add(tx, *letter, now); !r) return r;
      for (int threshold : due->to_record) {
        auto r = tx.execute(
            "INSERT INTO key_expiry_notices (fingerprint, expires_at, threshold, email, list,"
            " sent_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            {k->fingerprint, static_cast<std::int64_t>(a.usable_until),
             std::int64_t{threshold}, person.email, ascii_lower(list->address),
             static_cast<std::int64_t>(now)});
        if (!r) return Unexpected(r.error());
      }
      return {};
    });
    if (!written) return Unexpected(Error(written.error()));
    ++out.notices;
  }
  return out;
}

Result<digest::Section> key_problems_section(const digest::SectionContext& ctx) {
  digest::Section s;
  s.title = "Members' keys";
  const std::string reason = key_left_out_reason();
  auto withheld = audit::left_out_counts(ctx.db, ascii_lower(ctx.list.address),
                                         static_cast<std::int64_t>(ctx.since), reason);
  if (!withheld) return Unexpected(Error(withheld.error()));

  // Members, then admins who are not members, each once.
  std::vector<std::string> people;
  std::set<std::string> seen;
  for (const std::string& m : ctx.list.members) {
    if (seen.insert(ascii_lower(m)).second) people.push_back(m);
  }
  for (const std::string& a : ctx.list.admins) {
    if (seen.insert(ascii_lower(a)).second) people.push_back(a);
  }
  std::vector<std::string> unusable, expiring;
  for (const std::string& email : people) {
    const keyring::PersonKey* k = ctx.keys.find(email);
    if (!k) continue;
    const std::string who = email + ": key " + k->fingerprint;
    if (!k->facts) {
      unusable.push_back(who + " missing; gets no mail and cannot post");
      continue;
    }
    const keyring::KeyAssessment a = keyring::assess_key(*k->facts, ctx.now);
    if (!a.usable) {
      std::string line = who + " " + a.word;
      if (!a.detail.empty() && a.detail != a.word) line += " (" + a.detail + ")";
      line += "; gets no mail and cannot post";
      const auto n = withheld->find(ascii_lower(email));
      if (n != withheld->end()) {
        line += "; withheld from " + std::to_string(n->second) +
                (n->second == 1 ? " message" : " messages") + " since " + iso_date(ctx.since);
      }
      if (k->source == keyring::KeySource::mail) line += "; updated by mail";
      unusable.push_back(std::move(line));
      continue;
    }
    if (a.usable_until != 0 && days_left(a.usable_until, ctx.now) <= kNoticeDays.front()) {
      expiring.push_back(who + " expires on " + iso_date(a.usable_until) + " (" +
                         in_days(days_left(a.usable_until, ctx.now)) +
                         "); the member is told 30, 7 and 1 days before");
    }
  }
  s.lines = std::move(unusable);
  s.lines.insert(s.lines.end(), expiring.begin(), expiring.end());
  if (!s.lines.empty()) {
    // An unusable key signs nothing the list accepts, so its member cannot
    // repair it with update-key: the admins put the repaired key (same
    // fingerprint) into keys_dir, or pin a new one.
    s.advice =
        "An expiring key: nothing to do for you; the member is told and sends the\n"
        "extended key with update-key to " +
        ctx.list.request_address() +
        ".\n"
        "A key that is no longer usable: the list accepts nothing signed by it, so the\n"
        "member cannot repair it by mail. The same key repaired (an expired key\n"
        "extended, an encryption subkey added): put it into keys_dir and reload. A\n"
        "revoked key or a new one: check the new fingerprint with the member on\n"
        "another channel, change `fingerprint` in directory.toml, put the key into\n"
        "keys_dir and reload tlpmaild (docs/keys.md, docs/admin-guide.md).\n";
  }
  return s;
}

}  // namespace tlpmail::keylife
