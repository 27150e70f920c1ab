#include "ntkssl/errors.hpp"

namespace ntkssl {

const char* to_string(ErrorKind kind) noexcept {
    switch (kind) {
        case ErrorKind::config: return "configuration error";
        case ErrorKind::shape: return "shape error";
        case ErrorKind::plugin: return "plugin error";
        case ErrorKind::abi: return "plugin ABI error";
        case ErrorKind::numeric: return "numeric error";
    }
    return "error";
}

// Out-of-line destructors are the key functions: they put each class's type information in
// the SDK library, one copy shared by the core and all plugins.
Error::Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
Error::~Error() = default;
ConfigError::ConfigError(const std::string& m) : Error(ErrorKind::config, m) {}
ConfigError::~ConfigError() = default;
ShapeError::ShapeError(const std::string& m) : Error(ErrorKind::shape, m) {}
ShapeError::~ShapeError() = default;
PluginError::PluginError(const std::string& m) : Error(ErrorKind::plugin, m) {}
PluginError::~PluginError() = default;
AbiError::AbiError(const std::string& m) : Error(ErrorKind::abi, m) {}
AbiError::~AbiError() = default;
NumericError::NumericError(const std::string& m) : Error(ErrorKind::numeric, m) {}
NumericError::~NumericError() = default;

void throw_error(ErrorKind kind, const std::string& message) {
    switch (kind) {
        case ErrorKind::config: throw ConfigError(message);
        case ErrorKind::shape: throw ShapeError(message);
        case ErrorKind::plugin: throw PluginError(message);
        case ErrorKind::abi: throw AbiError(message);
        case ErrorKind::numeric: throw NumericError(message);
    }
    throw Error(kind, message);
}

}  // namespace ntkssl
