// Tests of Server::listen on real loopback sockets (no conversation: the
// e2e tests talk to the daemon): ports resolved, a busy port named in the
// error, and endpoint formatting.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <string>

#include "net/server.h"

namespace tlpmail::net {
namespace {

using asio::ip::tcp;

TEST(FormatEndpoint, V4AndV6) {
  EXPECT_EQ(format_endpoint(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 10030)),
            "127.0.0.1:10030");
  EXPECT_EQ(format_endpoint(tcp::endpoint(asio::ip::make_address("::1"), 25)), "[::1]:25");
}

class ServerListenTest : public ::testing::Test {
 protected:
  asio::io_context io_;
  asio::thread_pool pool_{1};
};

TEST_F(ServerListenTest, PortZeroIsResolved) {
  Server server(io_, pool_.get_executor(), Timeouts{});
  auto r = server.listen({{"127.0.0.1", 0}});
  ASSERT_TRUE(r) << r.error().message;
  auto eps = server.local_endpoints();
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_EQ(eps[0].address().to_string(), "127.0.0.1");
  EXPECT_NE(eps[0].port(), 0);
  EXPECT_EQ(server.connection_count(), 0u);
}

TEST_F(ServerListenTest, BusyPortIsAClearError) {
  tcp::acceptor busy(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto port = busy.local_endpoint().port();
  Server server(io_, pool_.get_executor(), Timeouts{});
  auto r = server.listen({{"127.0.0.1", 0}, {"127.0.0.1", port}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "cannot listen on 127.0.0.1:" + std::to_string(port) + ": Address already in use");
  EXPECT_EQ(r.error().kind, ErrorClass::permanent);
  EXPECT_TRUE(server.local_endpoints().empty());  // nothing stays bound
}

}  // namespace
}  // namespace tlpmail::net
