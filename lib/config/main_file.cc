// tlpmail.toml: the [server], [relay], [paths], [log], [metrics] and
// [retention] sections
// (main_file.h). Each key is checked for type and range here; the files and
// folders the paths name are checked by config.cc.
#include "config/main_file.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <span>

#include "config/toml_read.h"
#include "directory/address.h"
#include "util/text.h"

namespace tlpmail::config::detail {
namespace {

constexpr std::array<std::string_view, 6> kSections = {"server", "relay",   "paths",
                                                       "log",    "metrics", "retention"};
constexpr std::array<std::string_view, 13> kServerKeys = {"hostname",
                                                          "listen",
                                                          "protocol",
                                                          "max_message_size",
                                                          "max_connections",
                                                          "max_message_memory",
                                                          "max_connections_per_client",
                                                          "max_session_time",
                                                          "min_free_space",
                                                          "in_flow_backlog",
                                                          "in_flow_delay_ms",
                                                          "tls_certificate",
                                                          "tls_private_key"};
constexpr std::array<std::string_view, 4> kRelayKeys = {"host", "port", "starttls",
                                                        "max_connections"};
constexpr std::array<std::string_view, 4> kPathKeys = {"state_dir", "directory", "lists_dir",
                                                       "keys_dir"};
constexpr std::array<std::string_view, 1> kLogKeys = {"level"};
constexpr std::array<std::string_view, 1> kMetricsKeys = {"listen"};
constexpr std::array<std::string_view, 5> kRetentionKeys = {
    "audit_days", "delivered_days", "bounce_days", "comcheck_days", "replay_margin_days"};
constexpr std::int64_t kMaxRetentionDays = 36500;  // a hundred years

constexpr std::int64_t kMaxConnections = 10000;
constexpr std::int64_t kMaxMessageSize = std::int64_t{1} << 30;    // 1 GiB
constexpr std::int64_t kMaxMessageMemory = std::int64_t{1} << 40;  // 1 TiB
constexpr std::int64_t kMaxSessionTime = 86400;                    // one day, in seconds
constexpr std::int64_t kMaxInFlowBacklog = 86400;                  // seconds
constexpr std::int64_t kMaxInFlowDelay = 60000;                    // ms: well below 10 min
constexpr std::uint16_t kDefaultListenPort = 10030;

template <class E>
struct Choice {
  std::string_view name;
  E value;
};

// "a, b or c"
template <class E, std::size_t N>
std::string choice_names(const std::array<Choice<E>, N>& choices) {
  std::string out;
  for (std::size_t i = 0; i < N; ++i) {
    if (i > 0) out += (i + 1 == N) ? " or " : ", ";
    out += choices[i].name;
  }
  return out;
}

// Case-insensitive match of a keyword value; reports
// "invalid <what> 'x' (expected a, b or c)".
template <class E, std::size_t N>
std::optional<E> read_choice(const toml::table& t, std::string_view key, std::string_view what,
                             const std::array<Choice<E>, N>& choices, FileReporter& f) {
  auto v = get_string(t, key, f);
  if (!v) return std::nullopt;
  for (const auto& c : choices) {
    if (iequals(c.name, v->value)) return c.value;
  }
  f.error(v->line, "invalid " + std::string(what) + " " + quote(v->value) + " (expected " +
                       choice_names(choices) + ")");
  return std::nullopt;
}

std::optional<std::int64_t> read_int_in_range(const toml::table& t, std::string_view key,
                                              std::int64_t lo, std::int64_t hi, FileReporter& f) {
  auto v = get_integer(t, key, f);
  if (!v) return std::nullopt;
  if (v->value < lo || v->value > hi) {
    f.error(v->line, std::string(key) + " must be between " + std::to_string(lo) + " and " +
                         std::to_string(hi) + ", got " + std::to_string(v->value));
    return std::nullopt;
  }
  return v->value;
}

// A host name or IP address as written in [relay] host and listen.
std::optional<std::string> host_problem(std::string_view host) {
  if (host.empty()) return "the host is empty";
  for (char c : host) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '[' || c == ']' || c == '/' || c == '@') {
      return "the host contains a character that is not allowed";
    }
  }
  return std::nullopt;
}

// "host:port" or "[v6]:port"; the message names what is wrong.
std::optional<ListenAddress> parse_listen(std::string_view text, std::string& problem) {
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      problem = "expected host:port or [IPv6]:port";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      problem = "expected host:port";
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      problem = "an IPv6 address needs brackets, e.g. [::1]:10030";
      return std::nullopt;
    }
  }
  if (auto why = host_problem(host)) {
    problem = *why;
    return std::nullopt;
  }
  unsigned long value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size()) {
    problem = "the port must be a number";
    return std::nullopt;
  }
  if (value < 1 || value > 65535) {
    problem = "the port must be between 1 and 65535";
    return std::nullopt;
  }
  return ListenAddress{std::string(host), static_cast<std::uint16_t>(value)};
}

void read_path(const toml::table& t, const std::filesystem::path& base, PathRef& ref,
               FileReporter& f) {
  if (!t.contains(ref.key)) return;  // keep the default
  auto v = get_string(t, ref.key, f);
  ref.path.reset();
  if (!v) return;  // wrong type, reported
  ref.line = v->line;
  if (v->value.empty()) {
    f.error(v->line, std::string(ref.key) + " must not be empty");
    return;
  }
  ref.path = resolve_path(base, v->value);
}

void read_server(const toml::table& t, const std::filesystem::path& base, int section_line,
                 MainFile& m, FileReporter& f) {
  report_unknown_keys(t, kServerKeys, " in [server]", f);

  if (require_key(t, "hostname", section_line, " in [server]", f)) {
    if (auto v = get_string(t, "hostname", f)) {
      if (auto why = directory::domain_problem(v->value)) {
        f.error(v->line, "invalid hostname " + quote(v->value) + ": " + *why);
      } else {
        m.server.hostname = v->value;
      }
    }
  }

  if (auto v = get_string_array(t, "listen", f)) {
    m.server.listen.clear();
    if (v->value.empty() && t.get("listen")->as_array()->empty()) {
      f.error(v->line, "listen must name at least one host:port");
    }
    for (const auto& item : v->value) {
      std::string problem;
      auto addr = parse_listen(item.value, problem);
      if (!addr) {
        f.error(item.line, "invalid listen address " + quote(item.value) + ": " + problem);
        continue;
      }
      bool duplicate = false;
      for (const auto& seen : m.server.listen) {
        if (iequals(seen.host, addr->host) && seen.port == addr->port) duplicate = true;
      }
      if (duplicate) {
        f.error(item.line, "duplicate listen address " + quote(item.value));
        continue;
      }
      m.server.listen.push_back(*addr);
    }
  }

  static constexpr std::array<Choice<Protocol>, 2> kProtocols = {
      {{"smtp", Protocol::smtp}, {"lmtp", Protocol::lmtp}}};
  if (auto p = read_choice(t, "protocol", "protocol", kProtocols, f)) m.server.protocol = *p;

  if (auto v = read_int_in_range(t, "max_message_size", 1, kMaxMessageSize, f)) {
    m.server.max_message_size = static_cast<std::uint64_t>(*v);
  }
  if (auto v = read_int_in_range(t, "max_connections", 1, kMaxConnections, f)) {
    m.server.max_connections = static_cast<unsigned>(*v);
  }
  // One message of max_message_size must always fit in the budget. Unset,
  // the budget grows with max_message_size, so that a configuration that
  // worked before the key existed still starts.
  if (!t.contains("max_message_memory")) {
    m.server.max_message_memory = std::max(m.server.max_message_memory, m.server.max_message_size);
  } else if (auto v = read_int_in_range(t, "max_message_memory", 1, kMaxMessageMemory, f)) {
    if (static_cast<std::uint64_t>(*v) < m.server.max_message_size) {
      f.error(line_of(*t.get("max_message_memory")), "max_message_memory (" + std::to_string(*v) +
                                                         ") must be at least max_message_size (" +
                                                         std::to_string(m.server.max_message_size) +
                                                         ")");
    } else {
      m.server.max_message_memory = static_cast<std::uint64_t>(*v);
    }
  }
  if (auto v = read_int_in_range(t, "max_connections_per_client", 1, kMaxConnections, f)) {
    m.server.max_connections_per_client = static_cast<unsigned>(*v);
  }
  if (auto v = read_int_in_range(t, "max_session_time", 1, kMaxSessionTime, f)) {
    m.server.max_session_time = static_cast<std::uint32_t>(*v);
  }
  if (auto v = read_int_in_range(t, "min_free_space", 0, kMaxMessageMemory, f)) {
    m.server.min_free_space = static_cast<std::uint64_t>(*v);
  }
  if (auto v = read_int_in_range(t, "in_flow_backlog", 1, kMaxInFlowBacklog, f)) {
    m.server.in_flow_backlog = static_cast<std::uint32_t>(*v);
  }
  if (auto v = read_int_in_range(t, "in_flow_delay_ms", 0, kMaxInFlowDelay, f)) {
    m.server.in_flow_delay_ms = static_cast<std::uint32_t>(*v);
  }

  read_path(t, base, m.tls_certificate, f);
  read_path(t, base, m.tls_private_key, f);
  bool has_cert = t.contains("tls_certificate"), has_key = t.contains("tls_private_key");
  if (has_cert && !has_key) {
    f.error(line_of(*t.get("tls_certificate")),
            "tls_certificate is set but tls_private_key is not (STARTTLS needs both)");
  } else if (has_key && !has_cert) {
    f.error(line_of(*t.get("tls_private_key")),
            "tls_private_key is set but tls_certificate is not (STARTTLS needs both)");
  }
  if (m.tls_certificate.path) m.server.tls_certificate = *m.tls_certificate.path;
  if (m.tls_private_key.path) m.server.tls_private_key = *m.tls_private_key.path;
}

void read_relay(const toml::table& t, MainFile& m, FileReporter& f) {
  report_unknown_keys(t, kRelayKeys, " in [relay]", f);
  if (auto v = get_string(t, "host", f)) {
    if (auto why = host_problem(v->value)) {
      f.error(v->line, "invalid relay host " + quote(v->value) + ": " + *why);
    } else {
      m.relay.host = v->value;
    }
  }
  if (auto v = read_int_in_range(t, "port", 1, 65535, f)) {
    m.relay.port = static_cast<std::uint16_t>(*v);
  }
  static constexpr std::array<Choice<StartTls>, 3> kStartTls = {
      {{"off", StartTls::off},
       {"opportunistic", StartTls::opportunistic},
       {"required", StartTls::required}}};
  if (auto s = read_choice(t, "starttls", "starttls", kStartTls, f)) m.relay.starttls = *s;
  if (auto v = read_int_in_range(t, "max_connections", 1, kMaxConnections, f)) {
    m.relay.max_connections = static_cast<unsigned>(*v);
  }
}

void read_paths(const toml::table& t, const std::filesystem::path& base, MainFile& m,
                FileReporter& f) {
  report_unknown_keys(t, kPathKeys, " in [paths]", f);
  read_path(t, base, m.state_dir, f);
  read_path(t, base, m.directory, f);
  read_path(t, base, m.lists_dir, f);
  read_path(t, base, m.keys_dir, f);
}

void read_log(const toml::table& t, MainFile& m, FileReporter& f) {
  report_unknown_keys(t, kLogKeys, " in [log]", f);
  static constexpr std::array<Choice<std::string_view>, 5> kLevels = {{{"trace", "trace"},
                                                                       {"debug", "debug"},
                                                                       {"info", "info"},
                                                                       {"warn", "warn"},
                                                                       {"error", "error"}}};
  if (auto l = read_choice(t, "level", "log level", kLevels, f)) m.log.level = std::string(*l);
}

// [metrics] listen = "127.0.0.1:9465": one address, never a list.
void read_metrics(const toml::table& t, MainFile& m, FileReporter& f) {
  report_unknown_keys(t, kMetricsKeys, " in [metrics]", f);
  if (auto v = get_string(t, "listen", f)) {
    std::string problem;
    auto addr = parse_listen(v->value, problem);
    if (!addr) {
      f.error(v->line, "invalid metrics listen address " + quote(v->value) + ": " + problem);
    } else {
      m.metrics.listen = *addr;
    }
  }
}

void read_retention(const toml::table& t, MainFile& m, FileReporter& f) {
  report_unknown_keys(t, kRetentionKeys, " in [retention]", f);
  struct Key {
    std::string_view name;
    unsigned* value;
  };
  const std::array<Key, 5> keys = {{{"audit_days", &m.retention.audit_days},
                                    {"delivered_days", &m.retention.delivered_days},
                                    {"bounce_days", &m.retention.bounce_days},
                                    {"comcheck_days", &m.retention.comcheck_days},
                                    {"replay_margin_days", &m.retention.replay_margin_days}}};
  for (const auto& k : keys) {
    if (auto v = read_int_in_range(t, k.name, 0, kMaxRetentionDays, f)) {
      *k.value = static_cast<unsigned>(*v);
    }
  }
}

// A top-level key that is not a section: name the section it belongs in
// when it is one of theirs.
void report_top_level_key(const toml::key& k, const toml::node& v, FileReporter& f) {
  const int line = static_cast<int>(k.source().begin.line);
  const std::string_view name = k.str();
  if (v.is_table()) {
    f.error(
        line, "unknown section [" + escape_for_log(name) + "]" + [&]() -> std::string {
          auto s = suggest(name, kSections);
          return s ? " (did you mean [" + std::string(*s) + "]?)" : "";
        }());
    return;
  }
  struct Home {
    std::string_view section;
    std::span<const std::string_view> keys;
  };
  const std::array<Home, 6> homes = {{{"server", kServerKeys},
                                      {"relay", kRelayKeys},
                                      {"paths", kPathKeys},
                                      {"log", kLogKeys},
                                      {"metrics", kMetricsKeys},
                                      {"retention", kRetentionKeys}}};
  std::string sections;
  for (const auto& h : homes) {
    if (std::find(h.keys.begin(), h.keys.end(), name) == h.keys.end()) continue;
    if (!sections.empty()) sections += " or ";
    sections += "[" + std::string(h.section) + "]";
  }
  if (!sections.empty()) {
    f.error(line, "key " + quote(name) + " belongs in " + sections);
    return;
  }
  f.error(line, "unknown key " + quote(name) +
                    " (tlpmail.toml has only the sections "
                    "[server], [relay], [paths], [log], [metrics] and [retention])");
}

}  // namespace

std::filesystem::path resolve_path(const std::filesystem::path& base,
                                   const std::filesystem::path& p) {
  std::filesystem::path joined = (p.is_absolute() || base.empty()) ? p : base / p;
  std::filesystem::path out = joined.lexically_normal();
  if (!out.empty() && out.filename().empty() && out.has_parent_path() && out != out.root_path()) {
    out = out.parent_path();
  }
  return out;
}

MainFile read_main_file(const toml::table& root, const std::filesystem::path& base,
                        FileReporter& f) {
  MainFile m;
  m.server.listen = {ListenAddress{"127.0.0.1", kDefaultListenPort}};
  m.state_dir.path = resolve_path(base, "/var/lib/tlpmail");
  m.directory.path = resolve_path(base, "directory.toml");
  m.lists_dir.path = resolve_path(base, "lists.d");
  m.keys_dir.path = resolve_path(base, "keys");

  for (auto&& [k, v] : root) {
    if (std::find(kSections.begin(), kSections.end(), k.str()) == kSections.end()) {
      report_top_level_key(k, v, f);
    }
  }

  if (!root.contains("server")) {
    f.error(0, "missing required section [server]");
  } else if (const toml::table* t = get_table(root, "server", f)) {
    read_server(*t, base, line_of(*t), m, f);
  }
  if (const toml::table* t = get_table(root, "relay", f)) read_relay(*t, m, f);
  if (const toml::table* t = get_table(root, "paths", f)) read_paths(*t, base, m, f);
  if (const toml::table* t = get_table(root, "log", f)) read_log(*t, m, f);
  if (const toml::table* t = get_table(root, "metrics", f)) read_metrics(*t, m, f);
  if (const toml::table* t = get_table(root, "retention", f)) read_retention(*t, m, f);
  return m;
}

}  // namespace tlpmail::config::detail
