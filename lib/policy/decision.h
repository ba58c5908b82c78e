// The TLP decision of docs/tlp.md as one pure function: from the
// labels found in a message, the thread's label and the list's settings and
// members, decide the message's label and who receives a copy, or refuse it.
// It does not scan text (see tlp.h), look up people or keys, or log: the
// caller passes plain values in and records the typed result.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/tlp.h"
#include "util/result.h"

namespace tlpmail::policy {

// A list member as the decision sees it. The caller fills it from the
// directory (clearance, kind) and the keyring (key_usable: pinned key
// present, not expired, revoked or too weak).
struct Candidate {
  std::string email;
  Tlp clearance = Tlp::clear;
  bool is_team = false;     // directory kind = "team"
  bool key_usable = false;  // fail closed: unset means no copy
};

struct DecisionInput {
  // What the signed content says (its protected Subject and body head,
  // scan_message()): the most restrictive label, and the most restrictive
  // loose mention. Only these may lower a message below the list default.
  std::optional<Tlp> found_label;
  std::optional<Tlp> loose_label;
  // The most restrictive label (or loose mention) found only where no
  // signature reaches: outer header fields, unsigned MIME wrappers. It may
  // raise the label, never lower it (docs/tlp.md, "Signed and unsigned
  // labels").
  std::optional<Tlp> unsigned_label;
  // Label of the message this one answers, when In-Reply-To/References name
  // a message this list distributed; nullopt when it is not such a reply.
  std::optional<Tlp> parent_label;
  // The list's settings. The defaults fail closed (everything is refused)
  // so that a caller who forgets them finds out.
  Tlp list_default = Tlp::red;
  Tlp list_ceiling = Tlp::clear;
  // The verified sender's address (compared case-insensitively).
  std::string sender;
  bool deliver_to_sender = true;
  // Every member of the list, in list order, the sender included.
  std::vector<Candidate> members;
};

// Why a member gets no copy. When several apply, the first in this order is
// reported, so key_unusable means "would have received it but for the key":
// the case the admins must be told about.
enum class Exclusion {
  above_clearance,  // label above the member's clearance
  team_never_red,   // team mailbox and label RED
  key_unusable,     // cleared, but the pinned key cannot be encrypted to
};

// "above_clearance", "team_never_red", "key_unusable": for key=value logs.
std::string_view to_string(Exclusion e);

// Reason text for the audit log and admin notices, e.g.
// "clearance GREEN is below TLP:AMBER", "team mailbox never receives TLP:RED",
// "key not usable (missing, expired, revoked or too weak)".
std::string describe(Exclusion e, Tlp clearance, Tlp label);

enum class LabelSource {
  message,       // a label found in the subject or body head (rule 1)
  list_default,  // no label found: the list's tlp_default (rule 1)
};

enum class RaiseCause {
  loose_mention,  // the text mentions a higher label in a loose spelling
  thread,         // reply to a message with a higher label (rule 3)
};

struct Raise {
  Tlp from = Tlp::clear;
  Tlp to = Tlp::clear;
  RaiseCause cause = RaiseCause::thread;
  bool operator==(const Raise&) const = default;
};

// One line for the copy's banner and the refusal text, e.g.
// "TLP raised from GREEN to AMBER: reply to a TLP:AMBER message".
std::string describe(const Raise& r);

// The banner line for an unsigned label that was not used, e.g. "TLP not
// lowered to GREEN: that label is not covered by the sender's signature".
std::string describe_not_lowered(Tlp unsigned_label);

struct LeftOut {
  std::string email;
  Exclusion why = Exclusion::above_clearance;
  std::string reason;  // describe(why, clearance, label)
};

struct Decision {
  Tlp label = Tlp::red;  // the label every copy carries
  LabelSource source = LabelSource::message;
  std::vector<Raise> raises;            // in the order applied; empty: none
  // A lower label found only where no signature reaches, which was not
  // used (the copy's banner says so); nullopt when there was none.
  std::optional<Tlp> not_lowered_to;
  std::vector<std::string> recipients;  // list order, each address once
  std::vector<LeftOut> left_out;        // list order; never told anything

  // The label before any raise (rule 3: "the copy says so").
  std::optional<Tlp> raised_from() const;
};

enum class RefusalKind {
  above_ceiling,          // final label above tlp_ceiling (rule 2)
  default_above_ceiling,  // no label, and tlp_default above tlp_ceiling
  no_recipients,          // nobody but the sender could receive a copy
};

// A policy refusal. message is exact and safe to show the sender: it names
// labels and the ceiling, never a member.
struct Refusal {
  RefusalKind kind = RefusalKind::above_ceiling;
  Tlp label = Tlp::red;
  Tlp ceiling = Tlp::clear;
  std::string message;  // e.g. "TLP:RED is above this list's ceiling TLP:AMBER"

  Error to_error() const { return Error::refused(message); }
};

std::string_view to_string(RefusalKind k);

// Rules 1 to 4 (docs/tlp.md):
//  1. label = found_label, or list_default when none was found;
//  -  a loose mention above it raises it (never lowers it);
//  -  an unsigned label above it replaces it (it is the most restrictive
//     label found); one below it is not used (not_lowered_to);
//  3. a reply is raised to parent_label when that is higher;
//  2. the final label (after every raise) above list_ceiling is refused;
//  4. each member, in list order, once: the sender only when
//     deliver_to_sender; left out when the label is above its clearance,
//     when it is a team and the label is RED, or when its key is unusable.
// Refused as well when no member other than the sender gets a copy: a
// message that reaches nobody is not accepted silently.
// Pure and thread-safe.
Result<Decision, Refusal> decide(const DecisionInput& in);

// The lines opening every copy's body (rule 5): the label with its sharing
// rule, then one line per raise, then the not-lowered line if any.
// e.g. {"TLP:AMBER: Recipients may share this only ...",
//       "TLP raised from GREEN to AMBER: reply to a TLP:AMBER message"}.
std::vector<std::string> banner_lines(const Decision& d);

}  // namespace tlpmail::policy
