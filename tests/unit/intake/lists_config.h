// A small in-memory configuration for the intake's unit tests: the host
// lists.example.org, one person (alice@a.example) and lists of which she
// is the only member. No files and no keys: only what the RCPT resolver
// and the session options read.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"

namespace tlpmail::intake::testing {

// One list per address in `lists`, in that order.
inline std::shared_ptr<config::Config> lists_config(const std::vector<std::string>& lists) {
  auto c = std::make_shared<config::Config>();
  c->server.hostname = "lists.example.org";
  directory::Person alice;
  alice.email = "alice@a.example";
  alice.name = "Alice";
  alice.fingerprint = std::string(40, 'A');
  std::vector<directory::MailingList> all;
  for (const std::string& address : lists) {
    directory::MailingList l;
    l.address = address;
    l.members = {"alice@a.example"};
    all.push_back(std::move(l));
  }
  c->directory = directory::Directory({alice}, std::move(all));
  return c;
}

}  // namespace tlpmail::intake::testing
