// nullsink: a minimal SMTP server for benchmarks that accepts every
// message and drops it — the receiving side with as little CPU as an SMTP
// dialogue allows (one thread, epoll, pipelined commands answered in one
// write, DATA scanned for the end only). It measures what the sending
// side can do when the receiver is not the limit; Postfix's smtp-sink and
// the kit's Python sink need 0.6-0.8 ms of CPU per 160 KiB copy
// (docs/performance.md). Not a mail server: no checks, no limits beyond
// the line length, no TLS; for 127.0.0.1 only. Not a test.
//
// usage: nullsink 127.0.0.1:PORT   (port 0: prints "nullsink listening on
//        127.0.0.1:N" on stdout; stops on SIGTERM/SIGINT, printing the
//        messages received on stderr)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace {

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

struct Client {
  int fd = -1;
  bool in_data = false;
  // DATA: how much of "\r\n.\r\n" has been seen at the end of what came
  // (the greeting's DATA reply starts it at 2: a message may end at once).
  int end_match = 0;
  std::string line;  // command bytes not yet ending in "\r\n"
  std::string out;   // replies not yet written
};

constexpr std::string_view kEnd = "\r\n.\r\n";
constexpr std::size_t kMaxLine = 4096;
unsigned long long g_messages = 0;

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != prefix[i]) return false;
  }
  return true;
}

// Answers one command line; false: close after writing.
bool command(Client& c, std::string_view l) {
  if (starts_with_ci(l, "EHLO")) {
    c.out += "250-nullsink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 1073741824\r\n";
  } else if (starts_with_ci(l, "HELO")) {
    c.out += "250 nullsink\r\n";
  } else if (starts_with_ci(l, "DATA")) {
    c.out += "354 End data with <CR><LF>.<CR><LF>\r\n";
    c.in_data = true;
    c.end_match = 2;  // the DATA line's CRLF counts as the first one
  } else if (starts_with_ci(l, "QUIT")) {
    c.out += "221 2.0.0 Bye\r\n";
    return false;
  } else if (starts_with_ci(l, "MAIL") || starts_with_ci(l, "RCPT") ||
             starts_with_ci(l, "RSET") || starts_with_ci(l, "NOOP")) {
    c.out += "250 2.0.0 Ok\r\n";
  } else {
    c.out += "502 5.5.2 Error: command not recognized\r\n";
  }
  return true;
}

// Feeds received bytes; false: close.
bool feed(Client& c, const char* p, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    if (c.in_data) {
      // Scan for "\r\n.\r\n", carrying a partial match across reads.
      for (; i < n; ++i) {
        const char ch = p[i];
        if (ch == kEnd[static_cast<std::size_t>(c.end_match)]) {
          if (++c.end_match == static_cast<int>(kEnd.size())) {
            ++i;
            c.in_data = false;
            c.end_match = 0;
            ++g_messages;
            c.out += "250 2.0.0 Ok: queued as N" + std::to_string(g_messages) + "\r\n";
            break;
          }
        } else {
          c.end_match = ch == '\r' ? 1 : 0;
        }
      }
      continue;
    }
    const char* nl = static_cast<const char*>(std::memchr(p + i, '\n', n - i));
    if (nl == nullptr) {
      c.line.append(p + i, n - i);
      return c.line.size() <= kMaxLine;
    }
    c.line.append(p + i, static_cast<std::size_t>(nl - (p + i)));
    i = static_cast<std::size_t>(nl - p) + 1;
    std::string_view l = c.line;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    const bool keep = command(c, l);
    c.line.clear();
    if (!keep) return false;
  }
  return true;
}

bool flush(Client& c) {
  while (!c.out.empty()) {
    const ssize_t w = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;  // rare: tiny replies
    if (w < 0) return false;
    c.out.erase(0, static_cast<std::size_t>(w));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: nullsink 127.0.0.1:PORT\n");
    return 2;
  }
  const std::string arg = argv[1];
  const auto colon = arg.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "nullsink: want HOST:PORT\n");
    return 2;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(std::atoi(arg.c_str() + colon + 1)));
  if (::inet_pton(AF_INET, arg.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
    std::fprintf(stderr, "nullsink: not an IPv4 address: %s\n", arg.substr(0, colon).c_str());
    return 2;
  }
  const int ls = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ls < 0 || ::bind(ls, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(ls, 128) != 0) {
    std::perror("nullsink: listen");
    return 1;
  }
  socklen_t len = sizeof addr;
  ::getsockname(ls, reinterpret_cast<sockaddr*>(&addr), &len);
  std::printf("nullsink listening on %s:%u\n", arg.substr(0, colon).c_str(),
              static_cast<unsigned>(ntohs(addr.sin_port)));
  std::fflush(stdout);

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);

  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = ls;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  std::map<int, std::unique_ptr<Client>> clients;
  static char buf[256 * 1024];
  epoll_event events[64];
  while (!g_stop) {
    const int n = ::epoll_wait(ep, events, 64, 500);
    for (int k = 0; k < n; ++k) {
      const int fd = events[k].data.fd;
      if (fd == ls) {
        for (;;) {
          const int cfd = ::accept4(ls, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (cfd < 0) break;
          ::setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          auto c = std::make_unique<Client>();
          c->fd = cfd;
          c->out = "220 nullsink ESMTP\r\n";
          flush(*c);
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.fd = cfd;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &cev);
          clients[cfd] = std::move(c);
        }
        continue;
      }
      auto it = clients.find(fd);
      if (it == clients.end()) continue;
      Client& c = *it->second;
      bool keep = true;
      for (;;) {
        const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (r <= 0) {
          keep = false;
          break;
        }
        if (!feed(c, buf, static_cast<std::size_t>(r))) {
          keep = false;
          break;
        }
        if (static_cast<std::size_t>(r) < sizeof buf) break;
      }
      if (!flush(c) || !keep) {
        ::close(fd);
        clients.erase(it);
      }
    }
  }
  std::fprintf(stderr, "nullsink: %llu messages\n", g_messages);
  return 0;
}
