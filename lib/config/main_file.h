// Reads tlpmail.toml ([server], [relay], [paths], [log], [metrics],
// [retention]) into settings,
// reporting every problem in the file. Paths are resolved lexically
// against the main file's folder; whether they exist is checked by the
// caller (config.cc), which also reads the files they name. Internal.
#pragma once

#include <toml++/toml.h>

#include <filesystem>
#include <optional>
#include <string_view>

#include "config/config.h"
#include "config/diagnostics.h"

namespace tlpmail::config::detail {

// A path setting: where it was written (line 0: the default was used) and
// the resolved path, or nullopt when the value was unusable (reported).
struct PathRef {
  std::string_view key;
  std::optional<std::filesystem::path> path;
  int line = 0;
};

struct MainFile {
  ServerSettings server;
  RelaySettings relay;
  LogSettings log;
  MetricsSettings metrics;
  RetentionSettings retention;
  PathRef state_dir{"state_dir", std::nullopt, 0};
  PathRef directory{"directory", std::nullopt, 0};
  PathRef lists_dir{"lists_dir", std::nullopt, 0};
  PathRef keys_dir{"keys_dir", std::nullopt, 0};
  PathRef tls_certificate{"tls_certificate", std::nullopt, 0};  // path unset: not configured
  PathRef tls_private_key{"tls_private_key", std::nullopt, 0};
};

// `base` is the main file's folder as given (may be empty or relative).
MainFile read_main_file(const toml::table& root, const std::filesystem::path& base,
                        FileReporter& f);

// Lexical join: absolute `p` stays as is; a relative one is appended to
// `base`; the result is lexically normalised, without a trailing slash.
std::filesystem::path resolve_path(const std::filesystem::path& base,
                                   const std::filesystem::path& p);

}  // namespace tlpmail::config::detail
