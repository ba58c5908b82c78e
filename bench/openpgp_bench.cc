// openpgp_bench: wall time per verify_detached, verify_clearsigned and
// decrypt (signed and encrypted in one pass) for messages of a few sizes,
// with real gpg in two throwaway homes (list and sender). A measuring
// tool, not a test: it asserts nothing and its numbers depend on the
// machine. Signatures and ciphertexts are made once with the gpg command.
//   openpgp_bench [--count N]     (default 20 runs per operation and size)

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "bench_util.h"
#include "openpgp/context.h"
#include "openpgp/decrypt.h"
#include "openpgp/list_key.h"
#include "openpgp/temp_home.h"
#include "openpgp/verify.h"

using namespace tlpmail;
using tlpmail::bench::gpg;
using tlpmail::bench::ms_since;
using namespace tlpmail::openpgp;

namespace {

std::string body_of(std::size_t n) {
  std::string s;
  while (s.size() < n) s += "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\r\n";
  s.resize(n);
  return s;
}

void write_file(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

// Runs `op` `count` times; prints mean, min and max in ms.
void measure(const char* name, std::size_t size, int count, const std::function<bool()>& op) {
  std::vector<double> ms;
  for (int i = 0; i < count; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!op()) {
      std::printf("%-20s %8zu bytes: FAILED\n", name, size);
      return;
    }
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  double sum = 0;
  for (double v : ms) sum += v;
  std::printf("%-20s %8zu bytes: mean %7.1f ms  min %7.1f ms  max %7.1f ms  (%d runs)\n", name,
              size, sum / count, *std::min_element(ms.begin(), ms.end()),
              *std::max_element(ms.begin(), ms.end()), count);
}

template <class T>
T must(Result<T> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "openpgp_bench: %s: %s\n", what, r.error().message.c_str());
    std::exit(1);
  }
  return std::move(r).value();
}

}  // namespace

int main(int argc, char** argv) {
  int count = 20;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
      count = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: openpgp_bench [--count N]\n");
      return 2;
    }
  }
  if (auto r = initialize(); !r) {
    std::fprintf(stderr, "openpgp_bench: %s\n", r.error().message.c_str());
    return 1;
  }
  TempHome list_home = must(TempHome::create("/tmp/tlpb-XXXXXX"), "list home");
  TempHome sender_home = must(TempHome::create("/tmp/tlpb-XXXXXX"), "sender home");
  Context list = must(Context::open(list_home.path()), "list context");
  Context sender = must(Context::open(sender_home.path()), "sender context");
  const std::string s = sender_home.path().string();

  const std::string list_fpr =
      must(create_list_key(list, "bench@lists.example", "Bench"), "list key");
  const std::string sender_fpr =
      must(create_list_key(sender, "alice@members.example", "Alice"), "sender key");
  must(sender.import_data(must(export_public(list, list_fpr), "export")), "import list key");
  must(list.import_data(must(export_public(sender, sender_fpr), "export")), "import sender key");

  std::printf("gpg from PATH, %d runs per line\n", count);
  for (std::size_t size : {std::size_t{10} * 1024, std::size_t{1024} * 1024}) {
    const std::string body = body_of(size);
    write_file(s + "/body", body);
    const std::string sig =
        gpg(s, {"--armor", "--detach-sign", "-u", sender_fpr, "--output", "-", s + "/body"});
    const std::string clear =
        gpg(s, {"--clearsign", "-u", sender_fpr, "--output", "-", s + "/body"});
    const std::string ct = gpg(s, {"--armor", "--sign", "--encrypt", "-u", sender_fpr, "-r",
                                   list_fpr, "--output", "-", s + "/body"});
    const std::string ct_only =
        gpg(s, {"--armor", "--encrypt", "-r", list_fpr, "--output", "-", s + "/body"});

    measure("verify_detached", size, count, [&] {
      auto v = verify_detached(list, body, sig);
      return v && v->all_good();
    });
    measure("verify_clearsigned", size, count, [&] {
      auto v = verify_clearsigned(list, clear);
      return v && v->all_good();
    });
    measure("decrypt+verify", size, count, [&] {
      auto d = decrypt(list, ct, 1 << 30);
      return d && d->status == DecryptStatus::decrypted && d->signatures.size() == 1 &&
             d->signatures[0].status == SignatureStatus::good;
    });
    measure("decrypt (unsigned)", size, count, [&] {
      auto d = decrypt(list, ct_only, 1 << 30);
      return d && d->status == DecryptStatus::decrypted;
    });
  }
  return 0;
}
