// The internal GPGME helpers of gpgme_util.h: error texts, data owners
// that wipe gpg's output, status-line capture, and the conversion of
// GPGME's signature list into SignatureFacts (with VALIDSIG's primary
// fingerprint and signature class). SHA-256 comes from OpenSSL's libcrypto.
#include "openpgp/gpgme_util.h"

#include <openssl/evp.h>
#include <string.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "util/text.h"

namespace tlpmail::openpgp::detail {

std::string gpgme_text(gpgme_error_t err) {
  char buf[256];
  buf[0] = '\0';
  gpgme_strerror_r(err, buf, sizeof buf);
  return buf;
}

Error gpgme_failure(std::string_view what, gpgme_error_t err) {
  return Error::temporary(std::string(what) + ": " + gpgme_text(err));
}

bool is_data_error(gpgme_error_t err) {
  switch (gpgme_err_code(err)) {
    case GPG_ERR_NO_DATA:
    case GPG_ERR_BAD_DATA:
    case GPG_ERR_INV_DATA:
    case GPG_ERR_INV_PACKET:
    case GPG_ERR_UNKNOWN_PACKET:
    case GPG_ERR_UNEXPECTED:
    case GPG_ERR_INV_ARMOR:
    case GPG_ERR_CHECKSUM:
    case GPG_ERR_TRUNCATED:
    case GPG_ERR_INV_LENGTH:
    case GPG_ERR_INV_KEYLEN:
    case GPG_ERR_BAD_MPI:
    case GPG_ERR_DECRYPT_FAILED:
    case GPG_ERR_BAD_SIGNATURE:
    case GPG_ERR_SIG_CLASS:
    case GPG_ERR_UNSUPPORTED_ALGORITHM:
    case GPG_ERR_PUBKEY_ALGO:
    case GPG_ERR_DIGEST_ALGO:
    case GPG_ERR_CIPHER_ALGO:
    case GPG_ERR_COMPR_ALGO:
    case GPG_ERR_NOT_PROCESSED:
    case GPG_ERR_TOO_LARGE:
      return true;
    default:
      return false;
  }
}

InputData::~InputData() {
  if (h_) gpgme_data_release(h_);
}

Result<void> InputData::open(std::string_view bytes) {
  // GPGME rejects a null buffer even for zero bytes.
  static const char kEmpty[1] = {0};
  const char* p = bytes.empty() ? kEmpty : bytes.data();
  if (gpgme_error_t err = gpgme_data_new_from_mem(&h_, p, bytes.size(), 0)) {
    return Unexpected(gpgme_failure("gpgme_data_new_from_mem", err));
  }
  return {};
}

Result<void> OutputData::open(std::size_t limit) {
  limit_ = limit;
  cbs_ = gpgme_data_cbs{};
  cbs_.write = &OutputData::on_write;
  if (gpgme_error_t err = gpgme_data_new_from_cbs(&h_, &cbs_, this)) {
    h_ = nullptr;
    return Unexpected(gpgme_failure("gpgme_data_new_from_cbs", err));
  }
  return {};
}

ssize_t OutputData::on_write(void* handle, const void* buffer, size_t size) {
  auto* self = static_cast<OutputData*>(handle);
  if (size > self->limit_ - self->size_) {
    self->exceeded_ = true;
    errno = EFBIG;
    return -1;
  }
  if (self->size_ + size > self->capacity_) {
    std::size_t capacity = self->capacity_ == 0 ? std::size_t{64} * 1024 : self->capacity_;
    while (capacity < self->size_ + size) capacity *= 2;
    if (self->limit_ != kUnlimited && capacity > self->limit_) capacity = self->limit_;
    char* grown = static_cast<char*>(std::malloc(capacity == 0 ? 1 : capacity));
    if (!grown) {
      errno = ENOMEM;
      return -1;
    }
    if (self->size_ > 0) std::memcpy(grown, self->buf_, self->size_);
    self->wipe_buffer();
    self->buf_ = grown;
    self->capacity_ = capacity;
  }
  if (size > 0) std::memcpy(self->buf_ + self->size_, buffer, size);
  self->size_ += size;
  return static_cast<ssize_t>(size);
}

void OutputData::wipe_buffer() noexcept {
  if (!buf_) return;
  explicit_bzero(buf_, capacity_);
  std::free(buf_);
  buf_ = nullptr;
}

std::string OutputData::take() {
  std::string out(buf_ ? buf_ : "", size_);
  discard();
  return out;
}

void OutputData::discard() noexcept {
  if (h_) {
    gpgme_data_release(h_);
    h_ = nullptr;
  }
  wipe_buffer();
  size_ = capacity_ = 0;
}

StatusCapture::StatusCapture(gpgme_ctx_t ctx) : ctx_(ctx) {
  gpgme_get_status_cb(ctx_, &previous_cb_, &previous_hook_);
  const char* flag = gpgme_get_ctx_flag(ctx_, "full-status");
  previous_full_ = flag && *flag && std::string_view(flag) != "0";
  if (gpgme_error_t err = gpgme_set_ctx_flag(ctx_, "full-status", "1")) {
    status_ = Unexpected(gpgme_failure("gpgme_set_ctx_flag full-status", err));
    return;
  }
  gpgme_set_status_cb(ctx_, &StatusCapture::on_status, this);
}

StatusCapture::~StatusCapture() {
  gpgme_set_status_cb(ctx_, previous_cb_, previous_hook_);
  gpgme_set_ctx_flag(ctx_, "full-status", previous_full_ ? "1" : "0");
}

gpgme_error_t StatusCapture::on_status(void* self, const char* keyword, const char* args) {
  auto* me = static_cast<StatusCapture*>(self);
  if (!keyword || !*keyword) return 0;  // GPGME's end-of-status call
  if (me->lines_.size() >= kMaxLines) {
    me->overflowed_ = true;
    return gpg_error(GPG_ERR_TOO_LARGE);
  }
  me->lines_.push_back({keyword, args ? args : ""});
  return 0;
}

std::size_t StatusCapture::count(std::string_view keyword) const {
  std::size_t n = 0;
  for (const StatusLine& l : lines_) {
    if (l.keyword == keyword) ++n;
  }
  return n;
}

const std::string* StatusCapture::first(std::string_view keyword) const {
  for (const StatusLine& l : lines_) {
    if (l.keyword == keyword) return &l.args;
  }
  return nullptr;
}

bool is_data_failure(gpgme_error_t err, const StatusCapture& status) {
  if (is_data_error(err)) return true;
  return gpgme_err_code(err) == GPG_ERR_GENERAL && status.has("UNEXPECTED");
}

bool gpg_answers(gpgme_ctx_t ctx) {
  InputData sig;
  InputData data;
  if (!sig.open("x\n") || !data.open("x")) return false;
  StatusCapture status(ctx);
  if (!status.status()) return false;
  gpgme_op_verify(ctx, sig.get(), data.get(), nullptr);
  return !status.lines().empty();
}

std::vector<std::string> split_fields(std::string_view args) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < args.size()) {
    while (i < args.size() && args[i] == ' ') ++i;
    if (i == args.size()) break;
    std::size_t j = args.find(' ', i);
    if (j == std::string_view::npos) j = args.size();
    out.emplace_back(args.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) {
    std::abort();  // libcrypto without SHA-256 is unusable; never happens on Debian
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::size_t{len} * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xf]);
  }
  return out;
}

namespace {

// VALIDSIG <fpr> <date> <timestamp> <expire> <version> <reserved>
//          <pubkey-algo> <hash-algo> <sig-class> <primary-fpr>
struct ValidSig {
  std::string fpr;
  unsigned long timestamp = 0;
  int sig_class = -1;
  std::string primary;
  bool used = false;
};

std::vector<ValidSig> parse_validsigs(const StatusCapture& status) {
  std::vector<ValidSig> out;
  for (const StatusLine& l : status.lines()) {
    if (l.keyword != "VALIDSIG") continue;
    const std::vector<std::string> f = split_fields(l.args);
    if (f.size() < 10) continue;  // gpg 2.2 always writes ten fields
    ValidSig v;
    v.fpr = ascii_upper(f[0]);
    v.timestamp = std::strtoul(f[2].c_str(), nullptr, 10);
    char* end = nullptr;
    const long cls = std::strtol(f[8].c_str(), &end, 16);
    if (end && *end == '\0' && cls >= 0 && cls <= 0xff) v.sig_class = static_cast<int>(cls);
    v.primary = ascii_upper(f[9]);
    out.push_back(std::move(v));
  }
  return out;
}

std::string validity_word(gpgme_validity_t v) {
  switch (v) {
    case GPGME_VALIDITY_UNKNOWN:
      return "unknown";
    case GPGME_VALIDITY_UNDEFINED:
      return "undefined";
    case GPGME_VALIDITY_NEVER:
      return "never";
    case GPGME_VALIDITY_MARGINAL:
      return "marginal";
    case GPGME_VALIDITY_FULL:
      return "full";
    case GPGME_VALIDITY_ULTIMATE:
      return "ultimate";
  }
  return "unknown";
}

}  // namespace

std::vector<SignatureFacts> collect_signatures(gpgme_ctx_t ctx, const StatusCapture& status,
                                               std::string_view content) {
  std::vector<SignatureFacts> out;
  gpgme_verify_result_t result = gpgme_op_verify_result(ctx);
  if (!result) return out;
  std::vector<ValidSig> valid = parse_validsigs(status);
  for (gpgme_signature_t sig = result->signatures; sig; sig = sig->next) {
    SignatureFacts f;
    f.signing_fingerprint = ascii_upper(sig->fpr ? sig->fpr : "");
    if (const char* h = gpgme_hash_algo_name(sig->hash_algo)) f.hash_algorithm = h;
    if (const char* p = gpgme_pubkey_algo_name(sig->pubkey_algo)) f.pubkey_algorithm = p;
    f.created = static_cast<std::time_t>(sig->timestamp);
    f.expires = static_cast<std::time_t>(sig->exp_timestamp);
    f.wrong_key_usage = sig->wrong_key_usage;
    f.validity = validity_word(sig->validity);

    const gpgme_err_code_t code = gpgme_err_code(sig->status);
    switch (code) {
      case GPG_ERR_NO_ERROR:
      case GPG_ERR_KEY_EXPIRED:
      case GPG_ERR_SIG_EXPIRED:
      case GPG_ERR_CERT_REVOKED: {
        f.key_expired = code == GPG_ERR_KEY_EXPIRED;
        f.signature_expired = code == GPG_ERR_SIG_EXPIRED;
        f.key_revoked = code == GPG_ERR_CERT_REVOKED;
        ValidSig* match = nullptr;
        for (ValidSig& v : valid) {
          if (!v.used && v.fpr == f.signing_fingerprint && v.timestamp == sig->timestamp) {
            match = &v;
            break;
          }
        }
        if (!match || match->primary.empty()) {
          f.status = SignatureStatus::error;
          f.error = "gpg reported no VALIDSIG for this signature";
          break;
        }
        match->used = true;
        f.status = SignatureStatus::good;
        f.primary_fingerprint = match->primary;
        f.signature_class = match->sig_class;
        f.replay_digest = replay_digest(f.primary_fingerprint, f.created, f.hash_algorithm,
                                        f.signature_class, content);
        break;
      }
      case GPG_ERR_BAD_SIGNATURE:
        f.status = SignatureStatus::bad;
        break;
      case GPG_ERR_NO_PUBKEY:
        f.status = SignatureStatus::no_public_key;
        break;
      case GPG_ERR_DIGEST_ALGO:
        f.status = SignatureStatus::weak_hash_refused;
        f.error = gpgme_text(sig->status);
        break;
      default:
        f.status = SignatureStatus::error;
        f.error = gpgme_text(sig->status);
        break;
    }
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace tlpmail::openpgp::detail
