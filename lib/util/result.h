// Result<T>: a small std::expected-like type used across libtlpmail.
// Every error carries a class that says what kind of fault it is:
// temporary (retry later), permanent (will not work by retrying this
// operation), refused (a policy decision, reason safe to show the sender)
// and corrupt (stored data damaged). What a class means on the wire is
// decided in one place per stage: at intake every class but refused is a
// local fault, 451 4.3.0, so the MTA keeps the message
// (intake/replies.h); the fan-out holds a message after any error and
// tries it again (delivery/outgoing.h). Named after std::expected so that
// moving to C++23 is a one-line change.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tlpmail {

enum class ErrorClass {
  temporary,  // a local fault that may pass (database busy, gpg failed)
  permanent,  // will not work by retrying (bad input, a list key missing)
  refused,    // a policy refusal; the message is safe to show the sender
  corrupt,    // stored data is damaged
};

std::string_view to_string(ErrorClass c);

// clang-analyzer-core.uninitialized.Assign reports copying `kind` out of
// an Error it assumes unset (`return Unexpected(r.error())`): a false
// finding, the analyzer does not track which alternative of Result's
// variant is live, and `kind` always has its initialiser.
// NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign): see above
struct Error {
  ErrorClass kind = ErrorClass::permanent;
  std::string message;

  static Error temporary(std::string m) { return {ErrorClass::temporary, std::move(m)}; }
  static Error permanent(std::string m) { return {ErrorClass::permanent, std::move(m)}; }
  static Error refused(std::string m) { return {ErrorClass::refused, std::move(m)}; }
  static Error corrupt(std::string m) { return {ErrorClass::corrupt, std::move(m)}; }
};

template <class E>
class Unexpected {
 public:
  explicit Unexpected(E e) : error_(std::move(e)) {}
  E& error() & { return error_; }
  E&& error() && { return std::move(error_); }

 private:
  E error_;
};

template <class E>
Unexpected(E) -> Unexpected<E>;

// Result<T, E>: holds either a T or an E. Access to the wrong alternative
// is a programming error (std::get throws std::bad_variant_access).
template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  template <class G>
  Result(Unexpected<G> u) : v_(std::in_place_index<1>, E(std::move(u).error())) {}

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  E& error() & { return std::get<1>(v_); }
  const E& error() const& { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  template <class G>
  Result(Unexpected<G> u) : error_(E(std::move(u).error())), ok_(false) {}

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const E& error() const { return error_; }

 private:
  E error_{};
  bool ok_ = true;
};

}  // namespace tlpmail
