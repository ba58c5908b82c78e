// Internal to lib/openpgp (never include it from another module): small
// GPGME helpers shared by verify.cc, decrypt.cc and list_key.cc. RAII
// owners for gpgme_data_t and gpgme_key_t, an output buffer that wipes
// what gpg wrote, the capture of gpg's status lines ("full-status"), the
// conversion of gpgme_signature_t into SignatureFacts, and SHA-256.
#pragma once

#include <gpgme.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "openpgp/key_facts.h"
#include "openpgp/verify.h"
#include "util/result.h"

namespace tlpmail::openpgp::detail {

// gpgme_strerror_r's text for `err`.
std::string gpgme_text(gpgme_error_t err);

// Error::temporary("WHAT: gpgme text").
Error gpgme_failure(std::string_view what, gpgme_error_t err);

// True for the error codes gpg returns when the data is at fault
// (garbage, truncated, damaged or unsupported packets) rather than the
// machine (gpg missing, agent failing, out of memory).
bool is_data_error(gpgme_error_t err);

// An input gpgme_data_t over caller-owned bytes (no copy). The bytes must
// outlive the object.
class InputData {
 public:
  InputData() = default;
  InputData(const InputData&) = delete;
  InputData& operator=(const InputData&) = delete;
  ~InputData();
  // Errors: temporary (GPGME).
  Result<void> open(std::string_view bytes);
  gpgme_data_t get() const { return h_; }

 private:
  gpgme_data_t h_ = nullptr;
};

// gpg's output, collected through GPGME data callbacks into a buffer that
// we own: at most `limit` bytes are ever held. A write that would go past
// the limit is refused (errno EFBIG), so GPGME stops the operation and gpg
// stops writing: what gpg produces (a compressed message can inflate a
// thousandfold) is never buffered whole first. take() moves the bytes out;
// discard(), the destructor and every regrowth overwrite the old bytes with
// zeros before freeing them, so that plaintext which must not be used
// leaves no copy behind.
class OutputData {
 public:
  static constexpr std::size_t kUnlimited = static_cast<std::size_t>(-1);

  OutputData() = default;
  OutputData(const OutputData&) = delete;
  OutputData& operator=(const OutputData&) = delete;
  ~OutputData() { discard(); }
  // Errors: temporary (GPGME).
  Result<void> open(std::size_t limit = kUnlimited);
  gpgme_data_t get() const { return h_; }
  // True once gpg tried to write more than the limit (the operation then
  // failed, and the bytes kept are only the first `limit`).
  bool exceeded() const { return exceeded_; }
  std::size_t size() const { return size_; }
  std::string take();  // the bytes; the buffer is wiped and released
  void discard() noexcept;

 private:
  static ssize_t on_write(void* handle, const void* buffer, size_t size);
  void wipe_buffer() noexcept;

  gpgme_data_t h_ = nullptr;
  gpgme_data_cbs cbs_{};
  char* buf_ = nullptr;
  std::size_t size_ = 0, capacity_ = 0, limit_ = kUnlimited;
  bool exceeded_ = false;
};

struct KeyRef {
  gpgme_key_t h = nullptr;
  KeyRef() = default;
  KeyRef(const KeyRef&) = delete;
  KeyRef& operator=(const KeyRef&) = delete;
  ~KeyRef() {
    if (h) gpgme_key_unref(h);
  }
};

// One "[GNUPG:] KEYWORD ARGS" line as gpg wrote it.
struct StatusLine {
  std::string keyword;
  std::string args;
};

// While alive, every status line of the context's operations is recorded
// (gpgme_set_status_cb with the "full-status" flag); the destructor
// restores the callback and the flag as they were (captures may nest). At most kMaxLines lines are
// kept: one more aborts the operation (GPG_ERR_TOO_LARGE), so that a message with thousands of
// signatures or packets cannot grow memory without bound.
class StatusCapture {
 public:
  static constexpr std::size_t kMaxLines = 4096;
  explicit StatusCapture(gpgme_ctx_t ctx);
  StatusCapture(const StatusCapture&) = delete;
  StatusCapture& operator=(const StatusCapture&) = delete;
  ~StatusCapture();

  // Errors: temporary when GPGME refuses the flag.
  Result<void> status() const { return status_; }
  const std::vector<StatusLine>& lines() const { return lines_; }
  bool overflowed() const { return overflowed_; }
  std::size_t count(std::string_view keyword) const;
  bool has(std::string_view keyword) const { return count(keyword) > 0; }
  // The args of the first line with this keyword, or nullptr.
  const std::string* first(std::string_view keyword) const;

 private:
  static gpgme_error_t on_status(void* self, const char* keyword, const char* args);

  gpgme_ctx_t ctx_;
  gpgme_status_cb_t previous_cb_ = nullptr;
  void* previous_hook_ = nullptr;
  bool previous_full_ = false;
  std::vector<StatusLine> lines_;
  bool overflowed_ = false;
  Result<void> status_;
};

// True when `err` says the data is at fault, or when it is a bare "General
// error" and gpg wrote an UNEXPECTED status line (measured: gpg --verify
// on an encrypted message).
bool is_data_failure(gpgme_error_t err, const StatusCapture& status);

// GPGME reports a gpg binary that cannot be executed as "no signature" or
// "no data", without an error. An operation that produced no status line
// at all is therefore followed by this probe: a verification of two bytes
// of garbage, to which a running gpg always answers with a NODATA status
// line. False when gpg did not answer.
bool gpg_answers(gpgme_ctx_t ctx);

// Space-separated fields of a status line's args.
std::vector<std::string> split_fields(std::string_view args);

// The signatures of the last verify or decrypt-verify operation on `ctx`,
// completed with the VALIDSIG lines of `status` (primary fingerprint,
// signature class) and the replay digest over `content`.
std::vector<SignatureFacts> collect_signatures(gpgme_ctx_t ctx, const StatusCapture& status,
                                               std::string_view content);

// The KeyFacts of a listed key (defined in context.cc).
KeyFacts to_key_facts(gpgme_key_t key);

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace tlpmail::openpgp::detail
