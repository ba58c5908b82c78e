// The server's TLS context for STARTTLS (RFC 3207): OpenSSL 3 through
// Boost.Asio SSL, loaded from [server] tls_certificate (PEM chain, leaf
// first) and tls_private_key (PEM, unencrypted). TLS 1.2 and 1.3 only, no
// compression, no renegotiation, OpenSSL's default ciphers and security
// level. No client certificates. Loading happens at start and on SIGHUP.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <filesystem>
#include <memory>

#include "util/result.h"

namespace tlpmail::net {

// Loads the certificate chain and key and checks that they belong
// together. Errors (permanent) name the file and OpenSSL's reason, e.g.
// "tls_certificate /etc/tlpmail/tls/cert.pem: no start line"; "TLS
// private key /k.pem does not match certificate /c.pem".
// Thread safety: the returned context is read-only afterwards and may be
// shared by every connection (one SSL object each).
Result<std::shared_ptr<boost::asio::ssl::context>> make_tls_context(
    const std::filesystem::path& certificate, const std::filesystem::path& private_key);

}  // namespace tlpmail::net
