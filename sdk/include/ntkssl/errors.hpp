// One small error hierarchy for the whole project.
//
// WHAT IT REPRESENTS: every failure ntkssl reports to a user is an ntkssl::Error of one of five
// kinds. The message is the whole story for a user: what went wrong, where (a file:line:col
// for configuration, the plugin and library for plugin failures, the step for numeric ones),
// and what would have been valid. Only `main` turns an error into an exit code: ConfigError is
// a usage problem (exit 2), every other kind a runtime failure (exit 1).
//
// Plugins throw these (or any std::exception); the core catches them at the call, adds the
// plugin's name, library and pipeline location, and re-throws the same kind.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

#include "ntkssl/export.hpp"

namespace ntkssl {

enum class ErrorKind { config, shape, plugin, abi, numeric };

NTKSSL_SDK_API const char* to_string(ErrorKind kind) noexcept;

class NTKSSL_SDK_API Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message);
    ~Error() override;
    ErrorKind kind() const noexcept { return kind_; }

private:
    ErrorKind kind_;
};

// A TOML file, a --set override or a parameter value is wrong. Message carries file:line:col.
class NTKSSL_SDK_API ConfigError : public Error {
public:
    explicit ConfigError(const std::string& message);
    ~ConfigError() override;
};

// Two matrices that must agree in shape do not.
class NTKSSL_SDK_API ShapeError : public Error {
public:
    explicit ShapeError(const std::string& message);
    ~ShapeError() override;
};

// A plugin could not be found, loaded, registered or constructed, or it failed in a call.
class NTKSSL_SDK_API PluginError : public Error {
public:
    explicit PluginError(const std::string& message);
    ~PluginError() override;
};

// A plugin library was built for another ABI, descriptor layout or toolchain.
class NTKSSL_SDK_API AbiError : public Error {
public:
    explicit AbiError(const std::string& message);
    ~AbiError() override;
};

// A computation produced NaN/Inf, diverged, or was asked something numerically impossible.
class NTKSSL_SDK_API NumericError : public Error {
public:
    explicit NumericError(const std::string& message);
    ~NumericError() override;
};

// Throws an error of the given kind with the given message (used to re-throw with context).
[[noreturn]] NTKSSL_SDK_API void throw_error(ErrorKind kind, const std::string& message);

}  // namespace ntkssl

// NTKSSL_CHECK(condition, ntkssl::ShapeError, "views differ: " << a << " vs " << b);
// The message is a stream expression so that numbers can be put into it without ceremony.
#define NTKSSL_CHECK(condition, ErrorType, message_stream)          \
    do {                                                            \
        if (!(condition)) {                                         \
            std::ostringstream ntkssl_check_os_;                    \
            ntkssl_check_os_ << message_stream;                     \
            throw ErrorType(ntkssl_check_os_.str());                \
        }                                                           \
    } while (false)
