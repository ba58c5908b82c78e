// Rule: the TLP decision. Labels come from every Subject of the message,
// the protected (inner) Subject when there is one, and the first non-empty
// lines of the verified (decrypted) body; the most restrictive wins. A
// reply inherits the label of the thread message this list accepted
// (In-Reply-To/References looked up in the thread index). policy::decide
// then applies the default, the ceiling and the members' clearances.
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
  for (const std::string& subject : ev.message.subjects) {
    scan = scan.merged(policy::scan_text(subject));
  }
  if (ev.content.protected_subject) {
    scan = scan.merged(policy::scan_text(*ev.content.protected_subject));
  }

  std::vector<std::string> ids = ev.message.in_reply_to;
  ids.insert(ids.end(), ev.message.references.begin(), ev.message.references.end());
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
