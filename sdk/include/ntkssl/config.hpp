// Parameters of a component, declared once and read once.
//
// WHAT IT REPRESENTS: a Config is the read-only view of one component's TOML table (for
// example the `[loss]` table of a pipeline) after validation against the parameters the
// component declared. A plugin declares its parameters as a list of ParamSpec (name, type,
// default, one-line doc, optional list of valid choices); the same list serves
// `ntkssl plugins describe`, `ntkssl validate` and the getters below, so nothing is declared
// twice and nothing can drift.
//
// Validation (done by the core before a plugin is constructed) guarantees:
//   - every key in the table is a declared parameter (else: ConfigError naming file:line:col of
//     the key and listing the valid keys);
//   - every value has the declared type (integers are accepted where a real is declared);
//   - every parameter without a default is present;
//   - a string parameter with choices holds one of them.
// So a getter never fails for a validated Config, except for asking an undeclared name, which
// is a programming error in the plugin and reported as such.
//
// Range checks that only the plugin knows ("width must be positive") go through
// Config::require(), which throws a ConfigError at the key's file:line:col.
//
// Example (a loss with one real parameter):
//
//     static std::vector<ntkssl::ParamSpec> parameters() {
//         return {ntkssl::ParamSpec::real("lambda", 1.0, "weight of the off-diagonal terms")};
//     }
//     explicit MyLoss(const ntkssl::Config& cfg) : lambda_(cfg.get_real("lambda")) {
//         cfg.require(lambda_ >= 0, "lambda", "must be >= 0");
//     }
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ntkssl/export.hpp"

namespace ntkssl {

// Where a value came from: a TOML file position, or "--set" for a command-line override.
struct NTKSSL_SDK_API SourceLocation {
    std::string file;
    int line = 0;
    int column = 0;
    // "file:line:col", or just "file" when the position is unknown.
    std::string str() const;
};

enum class ParamType { boolean, integer, real, string, integer_list, real_list, string_list };
NTKSSL_SDK_API const char* to_string(ParamType type) noexcept;

// A TOML value as the SDK sees it: scalars and homogeneous lists.
using Value = std::variant<bool, std::int64_t, double, std::string, std::vector<std::int64_t>,
                           std::vector<double>, std::vector<std::string>>;
// TOML spelling of a value: true, 3, 0.5, "tanh", [1, 2], ["W", "V"].
NTKSSL_SDK_API std::string to_string(const Value& value);
// The ParamType a value has as stored.
NTKSSL_SDK_API ParamType type_of(const Value& value) noexcept;

struct NTKSSL_SDK_API ParamSpec {
    std::string name;
    ParamType type = ParamType::real;
    std::optional<Value> default_value;  // empty: the parameter is required
    std::string doc;
    std::vector<std::string> choices;  // for strings (and string lists): the valid values

    static ParamSpec boolean(std::string name, bool dflt, std::string doc);
    static ParamSpec integer(std::string name, std::int64_t dflt, std::string doc);
    static ParamSpec real(std::string name, double dflt, std::string doc);
    static ParamSpec string(std::string name, std::string dflt, std::string doc,
                            std::vector<std::string> choices = {});
    static ParamSpec integer_list(std::string name, std::vector<std::int64_t> dflt,
                                  std::string doc);
    static ParamSpec real_list(std::string name, std::vector<double> dflt, std::string doc);
    static ParamSpec string_list(std::string name, std::vector<std::string> dflt, std::string doc,
                                 std::vector<std::string> choices = {});
    // A parameter with no default: validation fails when it is absent.
    static ParamSpec required(std::string name, ParamType type, std::string doc,
                              std::vector<std::string> choices = {});
};

class NTKSSL_SDK_API Config {
public:
    struct Entry {
        std::string key;
        Value value;
        SourceLocation where;
    };

    Config() = default;
    // `component` names the table for messages ("loss", "augmentation[1]"); `where` is the
    // table's own position. Throws ConfigError if the entries do not satisfy the specs.
    Config(std::string component, SourceLocation where, std::vector<Entry> entries,
           std::vector<ParamSpec> specs);

    const std::string& component() const noexcept { return component_; }
    const SourceLocation& where() const noexcept { return where_; }
    const std::vector<ParamSpec>& specs() const noexcept { return specs_; }
    const std::vector<Entry>& entries() const noexcept { return entries_; }

    // True when the table sets the key itself (rather than relying on the default).
    bool has(const std::string& key) const;
    // Where the key was set, or the table's position when it was not.
    SourceLocation where(const std::string& key) const;

    bool get_bool(const std::string& key) const;
    std::int64_t get_integer(const std::string& key) const;
    double get_real(const std::string& key) const;
    std::string get_string(const std::string& key) const;
    std::vector<std::int64_t> get_integer_list(const std::string& key) const;
    std::vector<double> get_real_list(const std::string& key) const;
    std::vector<std::string> get_string_list(const std::string& key) const;

    // The effective value (set or default) of a declared key.
    Value get(const std::string& key) const;

    // Throws ConfigError "<file:line:col>: <component>.<key> = <value>: <what>" unless ok.
    void require(bool ok, const std::string& key, const std::string& what) const;
    [[noreturn]] void fail(const std::string& key, const std::string& what) const;

private:
    const ParamSpec& spec(const std::string& key) const;
    const Entry* find(const std::string& key) const;
    void validate() const;

    std::string component_;
    SourceLocation where_;
    std::vector<Entry> entries_;
    std::vector<ParamSpec> specs_;
};

}  // namespace ntkssl
