// Blocking work (fsync, SQLite, gpg) on the worker pool, awaited from a
// coroutine on the io_context thread: start_offload() posts the work at
// once, task->wait() resumes the coroutine on its own executor with the
// result, or after a time limit without it. The io_context keeps running
// (outstanding work) until every job has reported back, so nothing posts
// into a stopped io_context. Header-only (a template); no sockets. Used by
// every stage that runs on the daemon's io_context (intake, fan-out,
// delivery, the daemon's reload).
//
// Two steps on purpose: g++ 12 destroys some temporaries twice when they
// sit in a co_await expression (docs/decisions.md, "g++ 12 and
// coroutines"); the work (a lambda with
// captures) is passed in a plain statement, and the co_await expression
// only holds `task->wait()`:
//   auto task = start_offload(worker, home, std::move(work), limit);
//   Offloaded<R> done = co_await task->wait();
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace tlpmail {

template <class T>
struct Offloaded {
  std::optional<T> value;  // the work's result: it finished in time and did not throw
  bool timed_out = false;  // the limit passed first (or the caller was cancelled);
                           // the work still runs to its end and its result is dropped
  std::string failure;     // what the work threw, when it did
};

// One job: created by start_offload(), awaited once with wait().
template <class T>
class OffloadTask {
 public:
  OffloadTask(const boost::asio::any_io_executor& home, std::chrono::milliseconds limit)
      : timer_(home, limit) {}

  // Completes when the work has finished (value or failure) or when the
  // limit passes. REQUIRES: called once, from a coroutine on the home
  // executor, while the caller holds the task's shared_ptr.
  boost::asio::awaitable<Offloaded<T>> wait() {
    co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    Offloaded<T> out;
    if (!done_) {
      out.timed_out = true;
      co_return out;
    }
    out.value = std::move(value_);
    out.failure = std::move(failure_);
    co_return out;
  }

  // On the home executor, from the worker's completion.
  void finish(std::optional<T> value, std::string failure) {
    value_ = std::move(value);
    failure_ = std::move(failure);
    done_ = true;
    timer_.cancel();
  }

 private:
  boost::asio::steady_timer timer_;
  std::optional<T> value_;
  std::string failure_;
  bool done_ = false;
};

// Posts work() to `worker` (e.g. an boost::asio::thread_pool's executor); the
// result goes back to `home` (the io_context or the caller's strand).
// `work` must be safe to run on another thread and must own (or share)
// everything it touches: after a timeout nobody waits for it.
template <class F, class T = std::invoke_result_t<F&>>
std::shared_ptr<OffloadTask<T>> start_offload(const boost::asio::any_io_executor& worker,
                                              const boost::asio::any_io_executor& home, F work,
                                              std::chrono::milliseconds limit) {
  auto task = std::make_shared<OffloadTask<T>>(home, limit);
  boost::asio::any_io_executor tracked = boost::asio::prefer(home, boost::asio::execution::outstanding_work.tracked);
  boost::asio::post(worker, [work = std::move(work), task, tracked]() mutable {
    std::optional<T> value;
    std::string failure;
    try {
      value.emplace(work());
    } catch (const std::exception& e) {
      failure = e.what();
      if (failure.empty()) failure = "exception";
    } catch (...) {
      failure = "unknown exception";
    }
    // The task moves into the completion: its timer is released on the
    // home executor, never on this worker thread.
    boost::asio::post(tracked, [task = std::move(task), value = std::move(value),
                         failure = std::move(failure)]() mutable {
      task->finish(std::move(value), std::move(failure));
    });
  });
  return task;
}

}  // namespace tlpmail
