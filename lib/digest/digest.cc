// The admins' daily digest (see digest.h): per list, due or not, the
// providers' sections, one sealed letter per admin, and the row that says
// when the list's digest was built, in one transaction. The only SQL for
// admin_digests lives here.
#include "digest/digest.h"

#include "compose/compose.h"
#include "fanout/letters.h"
#include "queue/outbox.h"
#include "util/text.h"

namespace tlpmail::digest {
namespace {

constexpr std::time_t kDay = std::time_t{24} * 60 * 60;

// When the list's digest was last built; 0: never.
store::DbResult<std::time_t> last_built(store::Database& db, const std::string& list) {
  auto rows = db.query("SELECT built_at FROM admin_digests WHERE list = ?1", {list});
  if (!rows) return Unexpected(rows.error());
  if (rows->empty()) return std::time_t{0};
  return static_cast<std::time_t>(rows->front().integer(0));
}

std::string why_not(const keyring::PersonKey* k, std::time_t now) {
  return keyring::unusable_reason(k, now, "not in the directory");
}

}  // namespace

std::string digest_text(const directory::MailingList& list, const std::vector<Section>& sections,
                        std::time_t now) {
  std::string out = "This is the daily digest of " + list.address + " for its admins (" +
                    iso_date(now) + ").\n";
  for (const Section& s : sections) {
    if (s.lines.empty()) continue;
    out += "\n== " + s.title + " (" + std::to_string(s.lines.size()) + ") ==\n";
    for (const std::string& line : s.lines) out += "  " + line + "\n";
    if (!s.advice.empty()) {
      out += "\n" + s.advice;
      if (out.back() != '\n') out += "\n";
    }
  }
  out += "\nThis digest comes once a day while there is something to report. It\n"
         "never contains a message. tlpmailctl keys and tlpmailctl audit show more.\n"
         "-- \n" +
         list.request_address() + " (an automatic notice; signed by the list's key)\n";
  return out;
}

Result<DigestRun> run_digests(openpgp::Context& gpg, const config::Config& config,
                              const keyring::KeyReport& keys, store::Database& db,
                              const std::vector<Provider>& providers, std::time_t now) {
  DigestRun run;
  for (const directory::MailingList& list : config.directory.lists()) {
    const std::string address = ascii_lower(list.address);
    auto last = last_built(db, address);
    if (!last) return Unexpected(Error(last.error()));
    if (*last != 0 && now - *last < kEvery) continue;
    ++run.lists;

    SectionContext ctx{config, keys, db, list, now, *last != 0 ? *last : now - kDay};
    std::vector<Section> sections;
    bool any = false;
    for (const Provider& provide : providers) {
      auto s = provide(ctx);
      if (!s) return Unexpected(s.error());
      any = any || !s->lines.empty();
      sections.push_back(std::move(*s));
    }

    std::vector<queue::NewOutgoing> letters;
    if (any) {
      const std::string body = digest_text(list, sections, now);
      std::string list_fpr;
      std::size_t n = 0;
      for (const std::string& admin : list.admins) {
        const keyring::PersonKey* k = keys.find(admin);
        if (!keyring::usable_at(k, now)) {
          run.admins_without_letter.push_back(admin + " (list " + list.address + ": " +
                                              why_not(k, now) + ")");
          continue;
        }
        if (list_fpr.empty()) {
          auto list_key = fanout::list_key_of(gpg, list);
          if (!list_key) return Unexpected(list_key.error());
          list_fpr = list_key->fingerprint;
        }
        compose::NoticeFacts f;
        f.list = fanout::list_facts(list);
        f.to = admin;
        f.subject = "[" + list.local_part() + "] daily digest " + iso_date(now);
        f.body = body;
        f.date = now;
        const std::string id = "digest." + list.local_part() + "." + std::to_string(now) + "." +
                               std::to_string(++n);
        f.message_id = fanout::new_message_id(config, id);
        auto sealed = fanout::sealed_letter(gpg, list, list_fpr, f, k->fingerprint, id,
                                            queue::OutgoingKind::notice);
        if (!sealed) {
          // gpg refuses this admin's key: the other admins still get theirs.
          if (sealed.error().kind == ErrorClass::temporary) return Unexpected(sealed.error());
          run.admins_without_letter.push_back(admin + " (list " + list.address + ": " +
                                              sealed.error().message + ")");
          continue;
        }
        letters.push_back(std::move(*sealed));
      }
    }
    const auto sent = static_cast<std::int64_t>(letters.size());
    auto written = db.transaction([&](store::Transaction& tx) -> store::DbResult<void> {
      for (const queue::NewOutgoing& l : letters) {
        if (auto r = queue::Outbox::add(tx, l, now); !r) return r;
      }
      auto r = tx.execute(
          "INSERT INTO admin_digests (list, built_at, letters) VALUES (?1, ?2, ?3)"
          " ON CONFLICT (list) DO UPDATE SET built_at = excluded.built_at,"
          " letters = excluded.letters",
          {address, static_cast<std::int64_t>(now), sent});
      if (!r) return Unexpected(r.error());
      return {};
    });
    if (!written) return Unexpected(Error(written.error()));
    run.letters += letters.size();
  }
  return run;
}

}  // namespace tlpmail::digest
