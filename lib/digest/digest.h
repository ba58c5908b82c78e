// The list admins' daily digest (docs/admin-guide.md, "The daily
// digest"): at most one letter per list and day to each of its admins,
// signed by the list key and encrypted to that admin alone, gathering the
// sections of every provider (members' keys today; more stages add
// theirs). Nothing is sent when no provider has anything to say. Replaces
// per-message notices about members withheld for their keys. Not here:
// what a section says (its provider, with its stage), when the job runs
// (lib/maintenance, registered in daemon/tlpmaild/jobs.cc).
#pragma once

#include <cstddef>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "config/config.h"
#include "directory/directory.h"
#include "keyring/keyring.h"
#include "openpgp/context.h"
#include "store/database.h"
#include "util/result.h"

namespace tlpmail::digest {

// A list's digest is built at most once in this time (a day, less an hour
// so that a daily job that starts a little early is not skipped).
inline constexpr std::time_t kEvery = std::time_t{23} * 60 * 60;

// What a provider looks at for one list. References, valid for the call.
struct SectionContext {
  const config::Config& config;
  const keyring::KeyReport& keys;  // as loaded; judge them at `now`
  store::Database& db;             // read only: a provider writes nothing
  const directory::MailingList& list;
  std::time_t now;
  std::time_t since;  // when this list's previous digest was built (now - 1 day the first time)
};

// One section of a digest: a title and lines of plain text (each line one
// finding, never message content or a Subject; text from the network is
// cleaned by the provider). No lines: nothing to report.
struct Section {
  std::string title;               // "Members' keys"
  std::vector<std::string> lines;  // findings, one per line, without the leading spaces
  std::string advice;              // what the admins can do; may hold line breaks
};

// ---------------------------------------------------------------------
// EXTENSION POINT. A provider answers for one list, on the worker thread
// of the "digest" job; it may read the database through ctx.db but must
// not write it (the digest records what it sent in its own transaction).
// To add a section (e.g. members whose copies bounced on N consecutive
// messages, issue 12): write `Result<Section> your_section(const
// SectionContext&)` with your stage, and add it to the providers the
// daemon passes to run_digests in daemon/tlpmaild/jobs.cc. Errors are
// temporary: the whole digest is tried again later.
// ---------------------------------------------------------------------
using Provider = std::function<Result<Section>(const SectionContext&)>;

// What one run did, for the log.
struct DigestRun {
  std::size_t lists = 0;    // lists whose digest was due and built
  std::size_t letters = 0;  // letters queued (one per admin who can receive one)
  std::vector<std::string> admins_without_letter;  // "ADDRESS (list L: key expired)"
};

// For every list whose digest is due (table admin_digests: built more than
// kEvery ago, or never): asks every provider in order, and when any
// section has lines queues one letter per admin whose key is usable now
// (Subject "[LOCAL] daily digest", from LIST-request@), records when the
// list's digest was built, all in one transaction per list. A list without
// admins, or with nothing to say, gets its time recorded and no letter.
// Errors: temporary (a provider, gpg, the database); lists done before the
// error stay done. REQUIRES: `gpg` is this thread's context on the
// daemon's home.
Result<DigestRun> run_digests(openpgp::Context& gpg, const config::Config& config,
                              const keyring::KeyReport& keys, store::Database& db,
                              const std::vector<Provider>& providers, std::time_t now);

// The text of one list's digest (pure): a line about the list and the
// date, each section with lines ("== TITLE (N) ==", the lines indented by
// two spaces, the advice), and the closing.
std::string digest_text(const directory::MailingList& list, const std::vector<Section>& sections,
                        std::time_t now);

}  // namespace tlpmail::digest
