// fanout_bench: wall time of one sign_and_encrypt_once to N members plus
// the N copy_for() calls, against N separate sign+encrypt runs to one
// member each (the one-operation-per-member way). Real gpg in throwaway
// homes; member keys (ed25519 + cv25519) are made with the gpg command.
// A measuring tool, not a test: it asserts nothing.
//   fanout_bench [--members N] [--size BYTES]   (defaults 100 and 20000)

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_util.h"
#include "openpgp/context.h"
#include "openpgp/fanout.h"
#include "openpgp/list_key.h"
#include "openpgp/temp_home.h"

using namespace tlpmail;
using tlpmail::bench::gpg;
using tlpmail::bench::ms_since;
using namespace tlpmail::openpgp;

namespace {

}  // namespace

int main(int argc, char** argv) {
  std::size_t members = 100;
  std::size_t size = 20000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--members") == 0) members = std::strtoul(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--size") == 0) size = std::strtoul(argv[i + 1], nullptr, 10);
  }
  if (members == 0) return 2;
  if (auto r = initialize(); !r) {
    std::fprintf(stderr, "%s\n", r.error().message.c_str());
    return 1;
  }
  auto list_home = TempHome::create("/tmp/tlpb-XXXXXX");
  auto member_home = TempHome::create("/tmp/tlpb-XXXXXX");
  if (!list_home || !member_home) return 1;
  auto ctx = Context::open(list_home->path());
  if (!ctx) return 1;
  auto list_fpr = create_list_key(*ctx, "bench@lists.example", "Bench");
  if (!list_fpr) {
    std::fprintf(stderr, "%s\n", list_fpr.error().message.c_str());
    return 1;
  }
  const std::string mh = member_home->path().string();
  std::fprintf(stderr, "making %zu member keys...\n", members);
  for (std::size_t i = 0; i < members; ++i) {
    const std::string email = "m" + std::to_string(i) + "@members.example";
    // future-default/default: an ed25519 primary with a cv25519 encryption subkey.
    gpg(mh, {"--quick-gen-key", "M <" + email + ">", "future-default", "default", "never"});
  }
  if (auto r = ctx->import_data(gpg(mh, {"--export"})); !r) return 1;
  auto keys = ctx->list_keys();
  if (!keys) return 1;
  std::vector<std::string> fprs;
  for (const KeyFacts& k : *keys) {
    if (k.fingerprint != *list_fpr) fprs.push_back(k.fingerprint);
  }
  std::string body;
  while (body.size() < size) body += "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\r\n";
  body.resize(size);

  auto t0 = std::chrono::steady_clock::now();
  auto msg = sign_and_encrypt_once(*ctx, body, *list_fpr, fprs);
  if (!msg) {
    std::fprintf(stderr, "%s\n", msg.error().message.c_str());
    return 1;
  }
  std::size_t bytes = 0;
  for (const std::string& f : fprs) bytes += msg->copy_for(f)->size();
  const double once = ms_since(t0);

  t0 = std::chrono::steady_clock::now();
  for (const std::string& f : fprs) {
    if (!sign_and_encrypt_once(*ctx, body, *list_fpr, {f})) return 1;
  }
  const double each = ms_since(t0);
  std::printf("members %zu, body %zu bytes, armored copies %zu bytes\n", fprs.size(), size, bytes);
  std::printf("one operation + copies: %.1f ms total, %.2f ms per member\n", once,
              once / static_cast<double>(fprs.size()));
  std::printf("one operation per member: %.1f ms total, %.2f ms per member\n", each,
              each / static_cast<double>(fprs.size()));
  return 0;
}
