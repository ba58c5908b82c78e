// Builds the STARTTLS server context; OpenSSL errors become Result errors.
#include "net/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <string>

namespace tlpmail::net {
namespace {

namespace ssl = boost::asio::ssl;

// The reason of the most recent OpenSSL error, or the Asio message.
std::string reason(const boost::system::error_code& ec) {
  std::string r = ec.message();
  if (ec.category() == boost::asio::error::get_ssl_category()) {
    if (const char* s = ERR_reason_error_string(static_cast<unsigned long>(ec.value()))) r = s;
  }
  return r;
}

}  // namespace

Result<std::shared_ptr<ssl::context>> make_tls_context(const std::filesystem::path& certificate,
                                                       const std::filesystem::path& private_key) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::no_compression | ssl::context::single_dh_use,
                   ec);
  if (ec) return Unexpected(Error::permanent("TLS options: " + reason(ec)));
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  ctx->set_verify_mode(ssl::verify_none, ec);

  ctx->use_certificate_chain_file(certificate.string(), ec);
  if (ec) {
    return Unexpected(
        Error::permanent("tls_certificate " + certificate.string() + ": " + reason(ec)));
  }
  ctx->use_private_key_file(private_key.string(), ssl::context::pem, ec);
  if (ec) {
    return Unexpected(
        Error::permanent("tls_private_key " + private_key.string() + ": " + reason(ec)));
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return Unexpected(Error::permanent("TLS private key " + private_key.string() +
                                       " does not match certificate " + certificate.string()));
  }
  ERR_clear_error();
  return ctx;
}

}  // namespace tlpmail::net
