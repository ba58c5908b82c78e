// decide(): the TLP rules 1-4 of docs/tlp.md as one pure function, and the texts
// that go with its result (exclusion reasons, raise notes, banner lines).
// Every branch that gives no copy names its reason; nothing here guesses in
// the direction of a lower label or a wider audience.
#include "policy/decision.h"

#include <algorithm>
#include <string>
#include <unordered_set>

#include "util/enum_names.h"
#include "util/text.h"

namespace tlpmail::policy {

constexpr auto kExclusionNames =
    std::to_array<std::string_view>({"above_clearance", "team_never_red", "key_unusable"});
static_assert(util::names_cover(kExclusionNames, Exclusion::key_unusable));
std::string_view to_string(Exclusion e) { return util::name_of(kExclusionNames, e); }

constexpr auto kRefusalKindNames =
    std::to_array<std::string_view>({"above_ceiling", "default_above_ceiling", "no_recipients"});
static_assert(util::names_cover(kRefusalKindNames, RefusalKind::no_recipients));
std::string_view to_string(RefusalKind k) { return util::name_of(kRefusalKindNames, k); }

std::string describe(Exclusion e, Tlp clearance, Tlp label) {
  switch (e) {
    case Exclusion::above_clearance:
      return "clearance " + std::string(to_string(clearance)) + " is below " + label_text(label);
    case Exclusion::team_never_red:
      return "team mailbox never receives " + label_text(label);
    case Exclusion::key_unusable:
      return "key not usable (missing, expired, revoked or too weak)";
  }
  return "unknown";
}

std::string describe(const Raise& r) {
  std::string out = "TLP raised from " + std::string(to_string(r.from)) + " to " +
                    std::string(to_string(r.to)) + ": ";
  switch (r.cause) {
    case RaiseCause::thread:
      out += "reply to a " + label_text(r.to) + " message";
      break;
    case RaiseCause::loose_mention:
      out += "the message mentions " + std::string(to_string(r.to)) +
             " in a non-standard label spelling";
      break;
  }
  return out;
}

std::string describe_not_lowered(Tlp unsigned_label) {
  return "TLP not lowered to " + std::string(to_string(unsigned_label)) +
         ": that label is not covered by the sender's signature";
}

std::optional<Tlp> Decision::raised_from() const {
  if (raises.empty()) return std::nullopt;
  return raises.front().from;
}

namespace {

// Rule 4 for one member; nullopt means it receives a copy. The order of the
// checks is the documented precedence of Exclusion.
std::optional<Exclusion> exclusion_for(const Candidate& c, Tlp label) {
  if (c.clearance < label) return Exclusion::above_clearance;
  if (c.is_team && label == Tlp::red) return Exclusion::team_never_red;
  if (!c.key_usable) return Exclusion::key_unusable;
  return std::nullopt;
}

Unexpected<Refusal> refuse(RefusalKind kind, Tlp label, Tlp ceiling, std::string message) {
  return Unexpected(Refusal{kind, label, ceiling, std::move(message)});
}

}  // namespace

Result<Decision, Refusal> decide(const DecisionInput& in) {
  Decision d;

  // Rule 1: the most restrictive label found, else the list's default.
  if (in.found_label) {
    d.label = *in.found_label;
    d.source = LabelSource::message;
  } else {
    d.label = in.list_default;
    d.source = LabelSource::list_default;
  }

  // Labels where no signature reaches can raise, never lower: anybody on
  // the path (an MTA, a wrapper the signature does not cover) can write
  // them. A higher one is simply the most restrictive label found (rule 1,
  // as when it was signed); a lower one is not used, and the copy says so.
  if (in.unsigned_label) {
    if (d.label < *in.unsigned_label) {
      d.label = *in.unsigned_label;
      d.source = LabelSource::message;
    } else if (*in.unsigned_label < d.label) {
      d.not_lowered_to = *in.unsigned_label;
    }
  }

  // Loose mentions only ever raise (docs/tlp.md, "Why two kinds of match").
  if (in.loose_label && d.label < *in.loose_label) {
    d.raises.push_back({d.label, *in.loose_label, RaiseCause::loose_mention});
    d.label = *in.loose_label;
  }

  // Rule 3: a reply carries at least its parent's label.
  if (in.parent_label && d.label < *in.parent_label) {
    d.raises.push_back({d.label, *in.parent_label, RaiseCause::thread});
    d.label = *in.parent_label;
  }

  // Rule 2, on the final label. Configuration guarantees default <= ceiling;
  // should it not, a message without a label is refused rather than sent at
  // a label the list does not allow.
  if (d.source == LabelSource::list_default && in.list_ceiling < in.list_default) {
    return refuse(RefusalKind::default_above_ceiling, in.list_default, in.list_ceiling,
                  "the message carries no TLP label and this list's default " +
                      label_text(in.list_default) + " is above its ceiling " +
                      label_text(in.list_ceiling));
  }
  if (in.list_ceiling < d.label) {
    std::string message =
        label_text(d.label) + " is above this list's ceiling " + label_text(in.list_ceiling);
    if (!d.raises.empty()) {
      message += " (";
      for (std::size_t i = 0; i < d.raises.size(); ++i) {
        if (i > 0) message += "; ";
        message += describe(d.raises[i]);
      }
      message += ")";
    }
    return refuse(RefusalKind::above_ceiling, d.label, in.list_ceiling, std::move(message));
  }

  // Rule 4: who receives a copy.
  std::unordered_set<std::string> seen;  // ASCII-lower-cased: a list of 10,000 is one pass
  bool anyone_but_sender = false;
  for (const Candidate& c : in.members) {
    if (!seen.insert(ascii_lower(c.email)).second) continue;
    bool is_sender = iequals(c.email, in.sender);
    if (is_sender && !in.deliver_to_sender) continue;
    if (auto why = exclusion_for(c, d.label)) {
      d.left_out.push_back({c.email, *why, describe(*why, c.clearance, d.label)});
      continue;
    }
    d.recipients.push_back(c.email);
    if (!is_sender) anyone_but_sender = true;
  }
  if (!anyone_but_sender) {
    return refuse(
        RefusalKind::no_recipients, d.label, in.list_ceiling,
        "no member of this list other than the sender can receive " + label_text(d.label));
  }
  return d;
}

std::vector<std::string> banner_lines(const Decision& d) {
  std::vector<std::string> out;
  out.push_back(label_text(d.label) + ": " + std::string(sharing_rule(d.label)));
  for (const Raise& r : d.raises) out.push_back(describe(r));
  if (d.not_lowered_to) out.push_back(describe_not_lowered(*d.not_lowered_to));
  return out;
}

}  // namespace tlpmail::policy
