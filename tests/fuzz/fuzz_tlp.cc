// libFuzzer target: TLP label scanning (lib/policy/tlp.h) over a subject
// and a body, the subject also as a raw header value with RFC 2047
// encoded words (mime::decode_header_text), and the copy's subject made by
// labelled_subject. Input: subject, a LF, then the body. Checks the
// promises of tlp.h: mentions in order, inside the text, not overlapping,
// starting with "TLP"; the copy's subject opens with the decided label's
// tag and never reads as less restrictive than it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "mime/mime.h"
#include "policy/tlp.h"
#include "util/text.h"

namespace {

using namespace tlpmail;

void check_text(std::string_view text) {
  const auto mentions = policy::find_mentions(text);
  std::size_t end = 0;
  for (const auto& m : mentions) {
    FUZZ_CHECK(m.offset >= end);
    FUZZ_CHECK(m.length >= 3 && m.offset + m.length <= text.size());
    FUZZ_CHECK(tlpmail::iequals(text.substr(m.offset, 3), "TLP"));
    end = m.offset + m.length;
  }
  const auto labels = policy::find_labels(text);
  const auto most = policy::most_restrictive(text);
  FUZZ_CHECK(most.has_value() == !labels.empty());
  const policy::LabelScan scan = policy::scan_text(text);
  FUZZ_CHECK(scan.label == most);
}

void check_subject(std::string_view subject) {
  check_text(subject);
  for (int i = 0; i <= 4; ++i) {
    const auto label = static_cast<policy::Tlp>(i);
    const std::string out = policy::labelled_subject(subject, label);
    const std::string tag = policy::subject_tag(label);
    FUZZ_CHECK(out.starts_with(tag));
    const auto first = policy::find_labels(out);
    FUZZ_CHECK(!first.empty() && first.front() == label);
    FUZZ_CHECK(*policy::most_restrictive(out) >= label);
  }
}

}  // namespace

TLPMAIL_FUZZ_INITIALIZE_MIME()

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = tlpmail::fuzz::as_view(data, size);
  const auto lf = in.find('\n');
  const std::string_view subject = in.substr(0, lf);
  const std::string_view body =
      lf == std::string_view::npos ? std::string_view{} : in.substr(lf + 1);
  check_subject(subject);
  const std::string decoded = mime::decode_header_text(subject);
  check_subject(decoded);
  check_text(body);
  for (int lines : {0, 1, policy::kBodyHeadLines}) {
    const policy::LabelScan head = policy::scan_body_head(body, lines);
    FUZZ_CHECK(policy::label_in_body_head(body, lines) == head.label);
    if (lines <= 0) FUZZ_CHECK(!head.label && !head.loose);
    const policy::LabelScan all = policy::scan_message(decoded, body, lines);
    FUZZ_CHECK(all == policy::scan_text(decoded).merged(head));
  }
  return 0;
}
