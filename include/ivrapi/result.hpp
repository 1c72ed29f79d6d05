// Result<T>: a value or an ivrapi::Error.
#pragma once

#include <ivrapi/error.hpp>

#include <stdexcept>
#include <utility>
#include <variant>

namespace ivrapi {

// Thrown only when code reads value() of a failed Result: a programmer error.
class BadResultAccess : public std::logic_error {
public:
    explicit BadResultAccess(const Error& e)
        : std::logic_error("ivrapi::Result has no value: " + e.to_string()) {}
};

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT implicit
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT implicit

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    T& value() & { check(); return std::get<0>(v_); }
    const T& value() const& { check(); return std::get<0>(v_); }
    T&& value() && { check(); return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    // The error; an empty Error (code 0) when the result is a value.
    const Error& error() const noexcept {
        static const Error none;
        return ok() ? none : std::get<1>(v_);
    }

private:
    void check() const {
        if (!ok()) throw BadResultAccess(std::get<1>(v_));
    }
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)) {}  // NOLINT implicit
    bool ok() const noexcept { return !error_.code; }
    explicit operator bool() const noexcept { return ok(); }
    void value() const {
        if (!ok()) throw BadResultAccess(error_);
    }
    const Error& error() const noexcept { return error_; }

private:
    Error error_;
};

}  // namespace ivrapi
