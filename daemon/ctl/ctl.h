// tlpmailctl's commands. Each takes the parsed options, writes its report
// to out (problems to err) and returns the exit code: 0 ok, 1 a reported
// problem, 2 a usage error. Plain text by default, JSON with --json.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace tlpmail::ctl {

struct Options {
  std::string config_path = "/etc/tlpmail/tlpmail.toml";
  bool json = false;
  bool quiet = false;                // check-config: print problems only
  std::vector<std::string> args;     // after the command name
};

int check_config(const Options& o, std::ostream& out, std::ostream& err);
int lists(const Options& o, std::ostream& out, std::ostream& err);
int members(const Options& o, std::ostream& out, std::ostream& err);
int keys(const Options& o, std::ostream& out, std::ostream& err);

}  // namespace tlpmail::ctl
