// Rule: the TLP decision. Labels in signed bytes (the first non-empty lines
// of the verified body and the signed entity's protected Subject) set the
// label, the most restrictive winning; labels where no signature reaches
// (every outer Subject, the Subject of an unsigned wrapper inside the
// encryption) can only raise it. A reply inherits the label of the thread
// message this list accepted: In-Reply-To/References, outer and signed
// (protected), looked up in the thread index, so removing the outer ones
// defeats nothing. policy::decide then applies the default, the ceiling and
// the members' clearances.
#include <algorithm>

#include "pipeline/rules.h"
#include "pipeline/tables.h"
#include "policy/decision.h"
#include "policy/tlp.h"

namespace tlpmail::pipeline::rules {
namespace {

RefusalKind refusal_kind(policy::RefusalKind k) {
  switch (k) {
    case policy::RefusalKind::above_ceiling:
    case policy::RefusalKind::default_above_ceiling:
      return RefusalKind::tlp_above_ceiling;
    case policy::RefusalKind::no_recipients:
      return RefusalKind::no_recipients;
  }
  return RefusalKind::tlp_above_ceiling;
}

}  // namespace

Result<Outcome> decide_label(const Evidence& ev, const directory::MailingList& list,
                             const directory::Directory& dir, const keyring::KeyReport& keys,
                             store::Database& db, std::time_t now, Verdict& verdict) {
  policy::LabelScan scan = policy::scan_body_head(ev.content.body_head);
  if (ev.content.protected_subject) {
    scan = scan.merged(policy::scan_text(*ev.content.protected_subject));
  }
  policy::LabelScan unsigned_scan;
  for (const std::string& subject : ev.message.subjects) {
    unsigned_scan = unsigned_scan.merged(policy::scan_text(subject));
  }
  for (const std::string& subject : ev.wrapper_subjects) {
    unsigned_scan = unsigned_scan.merged(policy::scan_text(subject));
  }
  // Loose mentions only ever raise, signed or not: one pool.
  if (unsigned_scan.loose && (!scan.loose || *scan.loose < *unsigned_scan.loose)) {
    scan.loose = unsigned_scan.loose;
  }

  std::vector<std::string> ids = ev.message.in_reply_to;
  ids.insert(ids.end(), ev.message.references.begin(), ev.message.references.end());
  const mime::ProtectedHeaders& p = ev.protected_headers;
  ids.insert(ids.end(), p.in_reply_to.begin(), p.in_reply_to.end());
  ids.insert(ids.end(), p.references.begin(), p.references.end());
  std::optional<policy::Tlp> parent_label;
  std::string parent_id;
  if (!ids.empty()) {
    auto found = tables::thread_labels(db, list.address, ids);
    if (!found) return Unexpected(Error(found.error()));
    for (const tables::ThreadEntry& t : *found) {
      if (!parent_label || t.label > *parent_label) {
        parent_label = t.label;
        parent_id = t.message_id;
      }
    }
  }

  policy::DecisionInput in;
  in.found_label = scan.label;
  in.loose_label = scan.loose;
  in.unsigned_label = unsigned_scan.label;
  in.parent_label = parent_label;
  in.list_default = list.default_label;
  in.list_ceiling = list.ceiling;
  in.sender = ev.person ? ev.person->email : ev.from.address;
  in.deliver_to_sender = list.deliver_to_sender;
  for (const std::string& email : list.members) {
    policy::Candidate c;
    c.email = email;
    if (const directory::Person* p = dir.find_person(email)) {
      c.clearance = p->clearance;
      c.is_team = p->kind == directory::Kind::team;
    }
    const keyring::PersonKey* k = keys.find(email);
    c.key_usable = k && k->facts && keyring::assess_key(*k->facts, now).usable;
    in.members.push_back(std::move(c));
  }

  auto decision = policy::decide(in);
  if (!decision) {
    return Outcome(Refusal{refusal_kind(decision.error().kind), decision.error().message});
  }
  verdict.label = decision->label;
  verdict.parent_message_id = parent_id;
  verdict.decision = std::move(decision).value();
  return Outcome{};
}

}  // namespace tlpmail::pipeline::rules
