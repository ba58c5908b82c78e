// What tlpmailctl members and directory show beside the configuration:
// each person's directory review (lib/comcheck's tables) and the database
// they come from, which members also asks for bounce streaks. Read-only;
// a missing database, or one from before the tables, gives no facts and
// no error (every review is then "never").
#pragma once

#include <ctime>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "comcheck/store.h"
#include "config/config.h"
#include "store/database.h"

namespace tlpmail::ctl {

struct ReviewFacts {
  std::map<std::string, comcheck::Review> reviews;  // lower-case email ->
  std::map<std::string, comcheck::ReviewAsk> asks;  // lower-case email ->
  std::unique_ptr<store::Database> db;  // null when there is none (or it is too old)
};

// Reads them from state_dir/tlpmail.db; a database that cannot be read is
// said on `err` and gives no facts.
ReviewFacts review_facts(const config::Config& c, std::ostream& err);

// (reviewed_at as "2026-12-06T22:39:11Z" or "", comcheck::review_state())
// of `email`, judged against the shortest directory_review_interval of
// the lists they are on.
std::pair<std::string, std::string> review_of(const config::Config& c, const ReviewFacts& f,
                                              const std::string& email, std::time_t now);

}  // namespace tlpmail::ctl
