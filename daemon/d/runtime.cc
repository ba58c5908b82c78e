// Loads configuration, keys and TLS as one unit for start-up and reload.
#include "d/runtime.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "net/tls.h"

namespace tlpmail::daemon {

std::filesystem::path gnupg_home(const config::Config& config) {
  return config.paths.state_dir / "gnupg";
}

Result<void> ensure_private_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return {};
  if (std::filesystem::exists(dir, ec)) {
    return Unexpected(Error::permanent("state_dir " + dir.string() + " is not a folder"));
  }
  if (dir.has_parent_path() && !dir.parent_path().empty()) {
    std::filesystem::create_directories(dir.parent_path(), ec);
    if (ec) {
      return Unexpected(
          Error::permanent("cannot create " + dir.parent_path().string() + ": " + ec.message()));
    }
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    int err = errno;
    return Unexpected(
        Error::permanent("cannot create state_dir " + dir.string() + ": " + std::strerror(err)));
  }
  return {};
}

Loaded load_runtime(const std::filesystem::path& config_file, const std::filesystem::path& home,
                    std::time_t now) {
  Loaded out;
  auto loaded = config::load_config(config_file);
  out.diagnostics = loaded.diagnostics;
  if (!loaded.ok()) return out;
  auto config = loaded.config;

  std::filesystem::path keys_home = home;
  if (keys_home.empty()) {
    if (auto r = ensure_private_dir(config->paths.state_dir); !r) {
      out.errors.push_back(r.error().message);
      return out;
    }
    keys_home = gnupg_home(*config);
  }

  auto keys = keyring::load_keys(*config, keys_home, now);
  if (!keys) {
    out.errors.push_back("keys: " + keys.error().message);
    return out;
  }
  bool key_errors = keys->has_errors();
  out.diagnostics.insert(out.diagnostics.end(), keys->diagnostics.begin(), keys->diagnostics.end());

  std::shared_ptr<boost::asio::ssl::context> tls;
  if (!config->server.tls_certificate.empty() && !config->server.tls_private_key.empty()) {
    auto ctx =
        net::make_tls_context(config->server.tls_certificate, config->server.tls_private_key);
    if (!ctx) {
      out.errors.push_back(ctx.error().message);
      return out;
    }
    tls = *ctx;
  }
  if (key_errors) return out;

  auto runtime = std::make_shared<Runtime>();
  runtime->config = config;
  runtime->keys = std::make_shared<const keyring::KeyReport>(std::move(*keys));
  runtime->tls = std::move(tls);
  out.runtime = std::move(runtime);
  return out;
}

}  // namespace tlpmail::daemon
