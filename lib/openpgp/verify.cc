// verify_detached and verify_clearsigned with gpgme_op_verify, the status
// lines captured for VALIDSIG, and the pure replay-digest functions.
// Plaintext gpg writes for an input that turns out malformed is wiped and
// dropped, never returned.
#include "openpgp/verify.h"

#include <optional>

#include "openpgp/armor.h"
#include "openpgp/deadline.h"
#include "openpgp/gpgme_util.h"
#include "util/enum_names.h"
#include "util/text.h"

namespace tlpmail::openpgp {

constexpr auto kSignatureStatusNames =
    std::to_array<std::string_view>({"good", "bad", "no public key", "weak hash refused", "error"});
static_assert(util::names_cover(kSignatureStatusNames, SignatureStatus::error));
std::string_view to_string(SignatureStatus s) {
  return util::name_of(kSignatureStatusNames, s, "error");
}

constexpr auto kVerifyOutcomeNames = std::to_array<std::string_view>(
    {"checked", "no signature", "malformed", "text outside the signed block"});
static_assert(util::names_cover(kVerifyOutcomeNames, VerifyOutcome::text_outside_signature));
std::string_view to_string(VerifyOutcome o) {
  return util::name_of(kVerifyOutcomeNames, o, "malformed");
}

bool Verification::all_good() const {
  if (signatures.empty()) return false;
  for (const SignatureFacts& s : signatures) {
    if (s.status != SignatureStatus::good) return false;
  }
  return true;
}

namespace {

Verification refusal(VerifyOutcome outcome, std::string detail) {
  Verification v;
  v.outcome = outcome;
  v.detail = std::move(detail);
  return v;
}

// One gpgme_op_verify. `signed_data` is set for detached signatures;
// `want_plaintext` for cleartext signatures (gpg writes the signed text).
Result<Verification> run_verify(Context& ctx, std::string_view signature,
                                std::optional<std::string_view> signed_data, bool want_plaintext) {
  detail::InputData sig_in;
  if (auto r = sig_in.open(signature); !r) return Unexpected(r.error());
  detail::InputData data_in;
  if (signed_data) {
    if (auto r = data_in.open(*signed_data); !r) return Unexpected(r.error());
  }
  // The signed text of a cleartext block is never longer than the block:
  // more output means gpg found something else (a compressed message).
  detail::OutputData out;
  if (want_plaintext) {
    if (auto r = out.open(signature.size()); !r) return Unexpected(r.error());
  }

  detail::StatusCapture status(ctx.native());
  if (auto r = status.status(); !r) return Unexpected(r.error());
  Deadline deadline(ctx.home(), "verify",
                    extra_for(0, signature.size() + (signed_data ? signed_data->size() : 0)));
  const gpgme_error_t err = gpgme_op_verify(ctx.native(), sig_in.get(), data_in.get(), out.get());
  if (deadline.expired()) return Unexpected(deadline.error());

  // gpg may start decrypting packets it finds in a "signature" (measured
  // with a cleartext block whose signature armor held a PGP MESSAGE).
  // Verification never decrypts: refuse and drop whatever was written.
  if (status.has("BEGIN_DECRYPTION") || status.has("DECRYPTION_INFO")) {
    return refusal(VerifyOutcome::malformed, "encrypted data where a signature was expected");
  }
  if (status.overflowed()) {
    return refusal(VerifyOutcome::malformed, "too many signatures or packets");
  }
  if (out.exceeded()) {
    return refusal(VerifyOutcome::malformed, "more output than a cleartext signature can hold");
  }
  if (status.lines().empty() && !detail::gpg_answers(ctx.native())) {
    return Unexpected(Error::temporary("verify: gpg did not run"));
  }
  if (err) {
    if (gpgme_err_code(err) == GPG_ERR_NO_DATA) {
      return refusal(VerifyOutcome::no_signature, "no OpenPGP signature found");
    }
    if (detail::is_data_failure(err, status)) {
      // gpg --verify answers packets it does not expect in a signature (an
      // encrypted message, for one) with UNEXPECTED; GPGME says "General error".
      return refusal(VerifyOutcome::malformed, status.has("UNEXPECTED")
                                                   ? "unexpected OpenPGP packets where a signature "
                                                     "was expected"
                                                   : "gpg: " + detail::gpgme_text(err));
    }
    return Unexpected(detail::gpgme_failure("verify", err));
  }

  Verification v;
  if (want_plaintext) v.plaintext = out.take();
  v.signatures =
      detail::collect_signatures(ctx.native(), status, signed_data ? *signed_data : v.plaintext);
  if (v.signatures.empty()) {
    // gpg answers "not a detached signature" this way for a complete
    // signed message given as the signature, and exits 0 through GPGME.
    return refusal(VerifyOutcome::no_signature, signed_data ? "no detached OpenPGP signature found"
                                                            : "no OpenPGP signature found");
  }
  v.outcome = VerifyOutcome::checked;
  return v;
}

}  // namespace

Result<Verification> verify_detached(Context& ctx, std::string_view signed_data,
                                     std::string_view signature) {
  return run_verify(ctx, signature, signed_data, false);
}

Result<Verification> verify_clearsigned(Context& ctx, std::string_view block) {
  switch (check_clearsigned_framing(block)) {
    case ArmorFraming::alone:
      break;
    case ArmorFraming::absent:
      return refusal(VerifyOutcome::no_signature, "no cleartext-signed block found");
    case ArmorFraming::text_outside:
      return refusal(VerifyOutcome::text_outside_signature,
                     "text outside the cleartext-signed block");
    case ArmorFraming::malformed:
      return refusal(VerifyOutcome::malformed, "damaged cleartext-signed block");
  }
  return run_verify(ctx, block, std::nullopt, true);
}

std::string canonical_text(std::string_view content) {
  std::string out;
  out.reserve(content.size());
  std::size_t kept = 0;  // length of `out` up to the last non-empty line
  std::size_t i = 0;
  std::size_t line_start = 0;
  auto end_line = [&](std::size_t end) {
    std::size_t e = end;
    while (e > line_start && (content[e - 1] == ' ' || content[e - 1] == '\t')) --e;
    out.append(content.substr(line_start, e - line_start));
    if (e > line_start) kept = out.size();
  };
  while (i < content.size()) {
    const char c = content[i];
    if (c == '\r' || c == '\n') {
      end_line(i);
      out.push_back('\n');
      i += (c == '\r' && i + 1 < content.size() && content[i + 1] == '\n') ? 2 : 1;
      line_start = i;
    } else {
      ++i;
    }
  }
  end_line(content.size());
  out.resize(kept);  // drops trailing empty lines (and the last line ending)
  return out;
}

std::string replay_digest(std::string_view key_fingerprint, std::time_t created,
                          std::string_view hash_algorithm, int signature_class,
                          std::string_view content) {
  static const char kHex[] = "0123456789abcdef";
  std::string cls = "?";
  if (signature_class >= 0 && signature_class <= 0xff) {
    cls = {kHex[signature_class >> 4], kHex[signature_class & 0xf]};
  }
  std::string input = "tlpmail-replay-v1\n";
  input += ascii_upper(key_fingerprint);
  input += "\n" + std::to_string(static_cast<long long>(created));
  input += "\n" + std::string(hash_algorithm);
  input += "\n" + cls;
  input += "\n" + detail::sha256_hex(canonical_text(content)) + "\n";
  return detail::sha256_hex(input);
}

}  // namespace tlpmail::openpgp
