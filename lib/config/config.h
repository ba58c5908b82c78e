// tlpmail's configuration: tlpmail.toml, directory.toml and lists.d/*.toml
// (docs/configuration.md), loaded with toml++ into an immutable
// Config. load_config() validates everything and reports every problem it
// finds as "FILE:LINE: message", not just the first. No globals: callers
// own the returned value and swap it atomically on reload.
// Keys are not checked here (see lib/keyring), only the fingerprints' form.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "directory/directory.h"

namespace tlpmail::config {

struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
};

enum class Protocol { smtp, lmtp };
enum class StartTls { off, opportunistic, required };

struct ServerSettings {
  std::string hostname;
  std::vector<ListenAddress> listen;
  Protocol protocol = Protocol::smtp;
  std::uint64_t max_message_size = 26214400;
  unsigned max_connections = 100;
  // Message bytes held in memory by the intake at once (docs/smtp.md,
  // "Memory"); >= max_message_size.
  std::uint64_t max_message_memory = 268435456;
  unsigned max_connections_per_client = 50;  // per client IP address
  std::uint32_t max_session_time = 1800;     // seconds from connect to 421 4.4.2
  // Bytes the state_dir's filesystem must keep free for intake to take a
  // message (queue/space_guard.h); 0: no check and no reserve file.
  std::uint64_t min_free_space = std::uint64_t{64} << 20;
  // Flow control (docs/delivery.md, "When the fan-out falls behind"): once
  // the oldest posting waiting for the fan-out has waited in_flow_backlog
  // seconds, the reply to each new message waits until the fan-out has
  // caught up, at most in_flow_delay_ms (0: never).
  std::uint32_t in_flow_backlog = 5;
  std::uint32_t in_flow_delay_ms = 1000;
  std::filesystem::path tls_certificate;  // empty: no STARTTLS
  std::filesystem::path tls_private_key;
};

struct RelaySettings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 10031;
  StartTls starttls = StartTls::off;
  unsigned max_connections = 4;
};

struct PathSettings {  // resolved against the main file's folder
  std::filesystem::path state_dir;
  std::filesystem::path directory;
  std::filesystem::path lists_dir;
  std::filesystem::path keys_dir;
};

struct LogSettings {
  std::string level = "info";
};

// [metrics] (docs/monitoring.md): where tlpmaild serves /metrics for
// Prometheus; unset: it serves nothing.
struct MetricsSettings {
  std::optional<ListenAddress> listen;
};

// [retention] (docs/retention.md): how many days tlpmaild's daily
// maintenance keeps each kind of record in tlpmail.db. 0 keeps it forever.
struct RetentionSettings {
  unsigned audit_days = 400;           // audit_log and its recipients
  unsigned delivered_days = 90;        // finished spool rows, outbox messages with only final copies
  unsigned bounce_days = 90;           // bounce_reports
  unsigned comcheck_days = 400;        // closed communication checks and their members
  unsigned replay_margin_days = 1;     // replay digests: kept for the maximum signature age plus this
};

struct Config {
  std::filesystem::path main_file;
  ServerSettings server;
  RelaySettings relay;
  PathSettings paths;
  LogSettings log;
  MetricsSettings metrics;
  RetentionSettings retention;
  directory::Directory directory;
};

enum class Severity { error, warning };

struct Diagnostic {
  Severity severity = Severity::error;
  std::string file;  // path as reached from the main file's path
  int line = 0;      // 0: the file as a whole
  std::string message;

  // "FILE:LINE: message", or "FILE: message" when line is 0; warnings
  // read "FILE:LINE: warning: message".
  std::string to_string() const;
};

struct LoadResult {
  std::shared_ptr<const Config> config;  // null when any error was found
  std::vector<Diagnostic> diagnostics;   // errors and warnings, file order
  bool ok() const { return config != nullptr; }
};

LoadResult load_config(const std::filesystem::path& main_file);

}  // namespace tlpmail::config
