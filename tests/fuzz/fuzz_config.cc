// libFuzzer target: the configuration loader (lib/config/config.h). The
// input is cut at each "\n%%\n" into tlpmail.toml, directory.toml and up
// to three lists.d/*.toml files, written to a temp folder made once per
// process, and load_config() reads them. A main file that sets paths
// ([paths], the TLS files) or uses \u escapes is skipped: it would send
// the loader to files outside the temp folder, which the operator owns.
// Checks the promise of LoadResult: a config, or at least one error.
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "fuzz_util.h"

namespace {

namespace fs = std::filesystem;
using namespace tlpmail;

fs::path g_dir;

void remove_dir() {
  std::error_code ec;
  if (!g_dir.empty()) fs::remove_all(g_dir, ec);
}

void write(const fs::path& p, std::string_view text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char tmpl[] = "/tmp/tlpfuzz-config-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  g_dir = tmpl;
  fs::create_directory(g_dir / "lists.d");
  fs::create_directory(g_dir / "keys");
  std::atexit(remove_dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = tlpmail::fuzz::as_view(data, size);
  std::vector<std::string_view> files;
  constexpr std::string_view kSep = "\n%%\n";
  while (files.size() < 5) {
    const auto at = in.find(kSep);
    if (at == std::string_view::npos || files.size() == 4) {
      files.push_back(in);
      break;
    }
    files.push_back(in.substr(0, at));
    in.remove_prefix(at + kSep.size());
  }
  const std::string_view main_text = files[0];
  for (std::string_view bad : {"paths", "tls_", "\\u", "\\U"}) {
    if (main_text.find(bad) != std::string_view::npos) return -1;  // not added to the corpus
  }
  write(g_dir / "tlpmail.toml", main_text);
  const fs::path directory = g_dir / "directory.toml";
  if (files.size() > 1) {
    write(directory, files[1]);
  } else {
    std::error_code ec;
    fs::remove(directory, ec);
  }
  for (std::size_t i = 0; i < 3; ++i) {
    const fs::path list = g_dir / "lists.d" / ("list" + std::to_string(i) + ".toml");
    if (files.size() > 2 + i) {
      write(list, files[2 + i]);
    } else {
      std::error_code ec;
      fs::remove(list, ec);
    }
  }
  const config::LoadResult r = config::load_config(g_dir / "tlpmail.toml");
  bool has_error = false;
  for (const auto& d : r.diagnostics) {
    has_error |= d.severity == config::Severity::error;
    (void)d.to_string();
  }
  FUZZ_CHECK(r.ok() != has_error);
  return 0;
}
