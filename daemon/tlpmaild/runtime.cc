// Loads configuration, keys, list keys and TLS as one unit for start-up and
// reload. List keys share the members' GnuPG home (state_dir/gnupg, 0700):
// members' keys are public only, list keys are the home's only secret keys.
#include "tlpmaild/runtime.h"

#include <system_error>

#include "net/tls.h"
#include "openpgp/context.h"
#include "openpgp/list_key.h"
#include "util/files.h"

namespace tlpmail::daemon {

namespace {

// The name in a new list key's user ID: the description when it can stand
// in one, else empty (create_list_key then takes the local part).
std::string key_name(const directory::MailingList& list) {
  for (unsigned char c : list.description) {
    if (c < 0x20 || c == 0x7f || c == '<' || c == '>') return {};
  }
  return list.description.size() > 200 ? std::string() : list.description;
}

// Finds or creates the key of every list; the first failure stops. A key
// made before list keys had a user ID for LIST-request@ (or imported
// without one) gets it here; its expiry is left as it is (tlpmailctl
// extend-list-key gives it one). Under the list key lock, so that a
// tlpmailctl rotation never runs at the same time.
void ensure_list_keys(const config::Config& config, const std::filesystem::path& home,
                      Loaded& out) {
  auto ctx = openpgp::Context::open(home);
  if (!ctx) {
    out.errors.push_back("list keys: " + ctx.error().message);
    return;
  }
  auto lock = openpgp::ListKeyLock::acquire(home);
  if (!lock) {
    out.errors.push_back("list keys: " + lock.error().message);
    return;
  }
  for (const auto& list : config.directory.lists()) {
    auto found = openpgp::find_list_key(*ctx, list.address);
    if (!found) {
      out.errors.push_back("list key for " + list.address + ": " + found.error().message);
      return;
    }
    if (found->has_value()) {
      auto added = openpgp::add_request_user_id(*ctx, (*found)->fingerprint, list.address);
      if (!added) {
        out.errors.push_back("list key for " + list.address + ": cannot add the user ID for " +
                             list.request_address() + ": " + added.error().message);
        return;
      }
      out.list_keys.push_back({list.address, (*found)->fingerprint, false});
      continue;
    }
    auto made = openpgp::create_list_key(*ctx, list.address, key_name(list));
    if (!made) {
      out.errors.push_back("list key for " + list.address +
                           ": cannot create it: " + made.error().message);
      return;
    }
    out.list_keys.push_back({list.address, *made, true});
  }
}

}  // namespace

std::filesystem::path gnupg_home(const config::Config& config) {
  return config.paths.state_dir / "gnupg";
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
    if (auto r = ensure_private_dir(config->paths.state_dir, "state_dir"); !r) {
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
  if (!key_errors) {
    // The fan-out's key handles, listed once here instead of per message.
    if (auto h = keyring::list_handles(*keys, keys_home); !h) {
      out.errors.push_back("keys: " + h.error().message);
      return out;
    }
  }
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

  ensure_list_keys(*config, keys_home, out);
  if (!out.errors.empty()) return out;

  auto runtime = std::make_shared<Runtime>();
  runtime->config = config;
  runtime->keys = std::make_shared<const keyring::KeyReport>(std::move(*keys));
  runtime->tls = std::move(tls);
  runtime->home = keys_home;
  runtime->handoff = std::make_shared<openpgp::Handoff>();
  out.runtime = std::move(runtime);
  return out;
}

}  // namespace tlpmail::daemon
