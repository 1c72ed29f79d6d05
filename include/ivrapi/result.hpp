// Result<T>: a value or an ivrapi::Error, in the spirit of C++23's std::expected.
#pragma once

#include <ivrapi/error.hpp>

#include <functional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace ivrapi {

// Thrown only when code reads value() of a failed Result: a programmer error.
class BadResultAccess : public std::logic_error {
public:
    // Carries the Error the Result held, in what().
    explicit BadResultAccess(const Error& e) : std::logic_error("ivrapi::Result has no value: " + e.to_string()) {}
};

template <typename T>
class Result;

namespace detail {
template <typename R>
struct IsResult : std::false_type {};
template <typename U>
struct IsResult<Result<U>> : std::true_type {};

// The Result type returned by F(args...), checked to be one (and_then, or_else).
template <typename F, typename... Args>
using ResultOf = std::remove_cv_t<std::remove_reference_t<std::invoke_result_t<F, Args...>>>;
}  // namespace detail

// A value of type T, or an Error saying why there is none.
//
// Test it with `if (r)` or has_value(); read the value with `*r`, `r->` or value()
// (which throws BadResultAccess on an error), the error with error(). Chain steps
// with and_then(), transform(), or_else() and value_or(), as with std::expected.
template <typename T>
class [[nodiscard]] Result {
public:
    // The type of the value.
    using value_type = T;

    // A successful result holding `value` (by reference: a big value is moved once).
    Result(const T& value) : v_(std::in_place_index<0>, value) {}        // NOLINT implicit
    Result(T&& value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT implicit
    // A successful result whose value is made in place from `args` (as std::expected).
    template <typename... Args, typename = std::enable_if_t<std::is_constructible_v<T, Args...>>>
    explicit Result(std::in_place_t, Args&&... args) : v_(std::in_place_index<0>, std::forward<Args>(args)...) {}
    // A failed result holding `error`.
    Result(const Error& error) : v_(std::in_place_index<1>, error) {}        // NOLINT implicit
    Result(Error&& error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT implicit

    // True when the result holds a value.
    bool ok() const noexcept { return v_.index() == 0; }
    // True when the result holds a value (the std::expected spelling of ok()).
    bool has_value() const noexcept { return ok(); }
    // True when the result holds a value.
    explicit operator bool() const noexcept { return ok(); }

    // The value; throws BadResultAccess when the result holds an error.
    T& value() & {
        check();
        return std::get<0>(v_);
    }
    // The value; throws BadResultAccess when the result holds an error.
    const T& value() const& {
        check();
        return std::get<0>(v_);
    }
    // The value, moved out; throws BadResultAccess when the result holds an error.
    T&& value() && {
        check();
        return std::get<0>(std::move(v_));
    }
    // Member access to the value (throws BadResultAccess on an error).
    T* operator->() { return &value(); }
    // Member access to the value (throws BadResultAccess on an error).
    const T* operator->() const { return &value(); }
    // The value (throws BadResultAccess on an error).
    T& operator*() & { return value(); }
    // The value (throws BadResultAccess on an error).
    const T& operator*() const& { return value(); }

    // The value, or `fallback` converted to T when the result holds an error.
    template <typename U>
    T value_or(U&& fallback) const& {
        return ok() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
    }
    // The value moved out, or `fallback` converted to T when the result holds an error.
    template <typename U>
    T value_or(U&& fallback) && {
        return ok() ? std::get<0>(std::move(v_)) : static_cast<T>(std::forward<U>(fallback));
    }

    // The error; an empty Error (code 0) when the result is a value.
    const Error& error() const noexcept {
        static const Error none;
        return ok() ? none : std::get<1>(v_);
    }

    // Runs `f(value)` when there is a value and returns its Result (of any type);
    // otherwise returns this error without calling `f`.
    template <typename F>
    auto and_then(F&& f) const& {
        using R = detail::ResultOf<F, const T&>;
        static_assert(detail::IsResult<R>::value, "and_then: f must return an ivrapi::Result");
        if (!ok()) return R(std::get<1>(v_));
        return std::invoke(std::forward<F>(f), std::get<0>(v_));
    }
    // Runs `f(std::move(value))` when there is a value and returns its Result;
    // otherwise returns this error without calling `f`.
    template <typename F>
    auto and_then(F&& f) && {
        using R = detail::ResultOf<F, T&&>;
        static_assert(detail::IsResult<R>::value, "and_then: f must return an ivrapi::Result");
        if (!ok()) return R(std::get<1>(std::move(v_)));
        return std::invoke(std::forward<F>(f), std::get<0>(std::move(v_)));
    }

    // `Result<U>` holding `f(value)` when there is a value (`Result<void>` when `f` returns
    // nothing); otherwise this error without calling `f`.
    template <typename F>
    auto transform(F&& f) const& {
        using U = std::remove_cv_t<std::remove_reference_t<std::invoke_result_t<F, const T&>>>;
        if (!ok()) return Result<U>(std::get<1>(v_));
        if constexpr (std::is_void_v<U>) {
            std::invoke(std::forward<F>(f), std::get<0>(v_));
            return Result<U>();
        } else {
            return Result<U>(std::invoke(std::forward<F>(f), std::get<0>(v_)));
        }
    }
    // `Result<U>` holding `f(std::move(value))` when there is a value; otherwise this
    // error without calling `f`.
    template <typename F>
    auto transform(F&& f) && {
        using U = std::remove_cv_t<std::remove_reference_t<std::invoke_result_t<F, T&&>>>;
        if (!ok()) return Result<U>(std::get<1>(std::move(v_)));
        if constexpr (std::is_void_v<U>) {
            std::invoke(std::forward<F>(f), std::get<0>(std::move(v_)));
            return Result<U>();
        } else {
            return Result<U>(std::invoke(std::forward<F>(f), std::get<0>(std::move(v_))));
        }
    }

    // Runs `f(error)` when there is an error and returns its `Result<T>` (a recovery or
    // another error); otherwise returns a copy of this value without calling `f`.
    template <typename F>
    Result or_else(F&& f) const& {
        using R = detail::ResultOf<F, const Error&>;
        static_assert(std::is_same_v<R, Result>, "or_else: f must return the same Result<T>");
        if (ok()) return *this;
        return std::invoke(std::forward<F>(f), std::get<1>(v_));
    }
    // Runs `f(error)` when there is an error; otherwise returns this value, moved.
    template <typename F>
    Result or_else(F&& f) && {
        using R = detail::ResultOf<F, const Error&>;
        static_assert(std::is_same_v<R, Result>, "or_else: f must return the same Result<T>");
        if (ok()) return std::move(*this);
        return std::invoke(std::forward<F>(f), std::get<1>(v_));
    }

private:
    void check() const {
        if (!ok()) throw BadResultAccess(std::get<1>(v_));
    }
    std::variant<T, Error> v_;
};

// Success without a value, or an Error: the result of operations such as
// Session::terminate().
template <>
class [[nodiscard]] Result<void> {
public:
    // The type of the value (none).
    using value_type = void;

    // A successful result.
    Result() = default;
    // A failed result holding `error`.
    Result(Error error) : error_(std::move(error)) {}  // NOLINT implicit

    // True on success.
    bool ok() const noexcept { return !error_.code; }
    // True on success (the std::expected spelling of ok()).
    bool has_value() const noexcept { return ok(); }
    // True on success.
    explicit operator bool() const noexcept { return ok(); }
    // Throws BadResultAccess when the result holds an error; does nothing otherwise.
    void value() const {
        if (!ok()) throw BadResultAccess(error_);
    }
    // The error; an empty Error (code 0) on success.
    const Error& error() const noexcept { return error_; }

    // Runs `f()` on success and returns its Result; otherwise returns this error.
    template <typename F>
    auto and_then(F&& f) const {
        using R = detail::ResultOf<F>;
        static_assert(detail::IsResult<R>::value, "and_then: f must return an ivrapi::Result");
        if (!ok()) return R(error_);
        return std::invoke(std::forward<F>(f));
    }
    // `Result<U>` holding `f()` on success (`Result<void>` when `f` returns nothing);
    // otherwise this error without calling `f`.
    template <typename F>
    auto transform(F&& f) const {
        using U = std::remove_cv_t<std::remove_reference_t<std::invoke_result_t<F>>>;
        if (!ok()) return Result<U>(error_);
        if constexpr (std::is_void_v<U>) {
            std::invoke(std::forward<F>(f));
            return Result<U>();
        } else {
            return Result<U>(std::invoke(std::forward<F>(f)));
        }
    }
    // Runs `f(error)` when there is an error and returns its `Result<void>`; otherwise
    // returns success without calling `f`.
    template <typename F>
    Result or_else(F&& f) const {
        using R = detail::ResultOf<F, const Error&>;
        static_assert(std::is_same_v<R, Result>, "or_else: f must return Result<void>");
        if (ok()) return *this;
        return std::invoke(std::forward<F>(f), error_);
    }

private:
    Error error_;
};

}  // namespace ivrapi
