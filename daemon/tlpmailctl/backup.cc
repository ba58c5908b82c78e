// backup DIR and restore DIR [--force]: the state folder of the
// configuration's state_dir copied while tlpmaild runs, and put back with
// tlpmaild stopped (lib/backup/backup.h). Prints what was copied; never
// prints key material.
#include "backup/backup.h"

#include <toml++/toml.h>

#include <ctime>
#include <iostream>

#include "config/config.h"
#include "store/schema.h"
#include "tlpmailctl/ctl.h"

namespace tlpmail::ctl {

int backup(const Options& o, std::ostream& out, std::ostream& err) {
  auto cfg = load_config_or_report(o, out, err);
  if (!cfg) return 1;
  const std::filesystem::path dir = o.args.at(0);
  auto r = backup::make_backup(cfg->paths.state_dir, dir, TLPMAIL_VERSION, std::time(nullptr));
  if (!r) {
    err << "tlpmailctl: backup: " << r.error().message << "\n";
    return 1;
  }
  if (o.json) {
    out << toml::json_formatter{toml::table{
               {"ok", true},
               {"dir", dir.string()},
               {"schema", r->manifest.schema},
               {"files", static_cast<std::int64_t>(r->manifest.files.size())},
               {"spooled", static_cast<std::int64_t>(r->spooled)},
               {"gnupg_files", static_cast<std::int64_t>(r->gnupg_files)},
               {"updated_keys", static_cast<std::int64_t>(r->updated_keys)}}}
        << "\n";
    return 0;
  }
  out << "backup of " << cfg->paths.state_dir.string() << " written to " << dir.string() << "\n"
      << "  tlpmail.db (schema " << r->manifest.schema << "), " << r->spooled
      << " spooled messages, " << r->gnupg_files << " files of the GnuPG home, " << r->updated_keys
      << " keys updated by mail\n"
      << "it holds the list SECRET keys: keep it as safe as the server itself\n";
  return 0;
}

int restore(const Options& o, std::ostream& out, std::ostream& err) {
  auto cfg = load_config_or_report(o, out, err);
  if (!cfg) return 1;
  const std::filesystem::path dir = o.args.at(0);
  backup::RestoreOptions options;
  options.force = o.force;
  options.newest_schema = static_cast<int>(store::migrations().size());
  auto r = backup::restore_backup(dir, cfg->paths.state_dir, options);
  if (!r) {
    err << "tlpmailctl: restore: " << r.error().message << "\n";
    return 1;
  }
  if (o.json) {
    out << toml::json_formatter{toml::table{{"ok", true},
                                            {"state_dir", cfg->paths.state_dir.string()},
                                            {"schema", r->manifest.schema},
                                            {"created_at", r->manifest.created_at},
                                            {"replaced", r->replaced}}}
        << "\n";
    return 0;
  }
  out << "restored " << dir.string() << " (tlpmail " << r->manifest.version << ", schema "
      << r->manifest.schema << ", " << r->manifest.files.size() << " files) into "
      << cfg->paths.state_dir.string() << (r->replaced ? ", replacing the state there" : "")
      << "\nstart tlpmaild: it migrates the database if needed and delivers what waited\n";
  return 0;
}

}  // namespace tlpmail::ctl
