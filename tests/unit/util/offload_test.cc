// Tests of start_offload(): the work runs on the pool, the coroutine
// resumes on the io_context thread with the value, a failure or a
// timeout, and the io_context keeps running until late work reports back.
#include "util/offload.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "util/result.h"

namespace tlpmail {

namespace asio = boost::asio;
namespace {

using namespace std::chrono_literals;

// Runs `body` as a coroutine on a fresh io_context with a 2-thread pool,
// until the io_context has no work left; returns how long that took.
template <class Body>
std::chrono::milliseconds run_coroutine(Body body) {
  asio::io_context io;
  asio::thread_pool pool(2);
  auto start = std::chrono::steady_clock::now();
  asio::co_spawn(io, body(io, pool), asio::detached);
  io.run();
  pool.join();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

TEST(Offload, ValueComesBackOnTheHomeThread) {
  std::thread::id home = std::this_thread::get_id(), worker, resumed;
  Offloaded<int> got;
  run_coroutine([&](asio::io_context& io, asio::thread_pool& pool) -> asio::awaitable<void> {
    auto work = [&worker] {
      worker = std::this_thread::get_id();
      return 42;
    };
    auto task = start_offload(pool.get_executor(), io.get_executor(), std::move(work), 10s);
    got = co_await task->wait();
    resumed = std::this_thread::get_id();
  });
  ASSERT_TRUE(got.value.has_value());
  EXPECT_EQ(*got.value, 42);
  EXPECT_FALSE(got.timed_out);
  EXPECT_EQ(got.failure, "");
  EXPECT_NE(worker, home);
  EXPECT_EQ(resumed, home);
}

TEST(Offload, MoveOnlyAndNonDefaultConstructibleResults) {
  std::optional<Result<std::string>> got;
  run_coroutine([&](asio::io_context& io, asio::thread_pool& pool) -> asio::awaitable<void> {
    auto work = [] { return Result<std::string>(Unexpected(Error::temporary("disk on fire"))); };
    auto task = start_offload(pool.get_executor(), io.get_executor(), std::move(work), 10s);
    auto done = co_await task->wait();
    if (done.value) got.emplace(std::move(*done.value));
  });
  ASSERT_TRUE(got.has_value());
  ASSERT_FALSE(got->has_value());
  EXPECT_EQ(got->error().message, "disk on fire");
}

TEST(Offload, ExceptionBecomesFailure) {
  Offloaded<int> got;
  run_coroutine([&](asio::io_context& io, asio::thread_pool& pool) -> asio::awaitable<void> {
    auto work = []() -> int { throw std::runtime_error("boom"); };
    auto task = start_offload(pool.get_executor(), io.get_executor(), std::move(work), 10s);
    got = co_await task->wait();
  });
  EXPECT_FALSE(got.value.has_value());
  EXPECT_FALSE(got.timed_out);
  EXPECT_EQ(got.failure, "boom");
}

TEST(Offload, TimeoutResumesEarlyButIoContextWaitsForTheWork) {
  Offloaded<int> got;
  std::atomic<bool> finished{false};
  std::chrono::milliseconds resumed_after{0};
  auto total =
      run_coroutine([&](asio::io_context& io, asio::thread_pool& pool) -> asio::awaitable<void> {
        auto start = std::chrono::steady_clock::now();
        auto work = [&finished] {
          std::this_thread::sleep_for(400ms);
          finished = true;
          return 7;
        };
        auto task = start_offload(pool.get_executor(), io.get_executor(), std::move(work), 30ms);
        got = co_await task->wait();
        resumed_after = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - start);
      });
  EXPECT_TRUE(got.timed_out);
  EXPECT_FALSE(got.value.has_value());
  EXPECT_LT(resumed_after, 300ms);
  EXPECT_TRUE(finished.load());
  EXPECT_GE(total, 390ms);
}

}  // namespace
}  // namespace tlpmail
