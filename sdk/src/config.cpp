#include "ntkssl/config.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>

#include "ntkssl/errors.hpp"

namespace ntkssl {

std::string SourceLocation::str() const {
    std::ostringstream os;
    os << (file.empty() ? "<unknown>" : file);
    if (line > 0) os << ':' << line << ':' << column;
    return os.str();
}

const char* to_string(ParamType type) noexcept {
    switch (type) {
        case ParamType::boolean: return "boolean";
        case ParamType::integer: return "integer";
        case ParamType::real: return "real";
        case ParamType::string: return "string";
        case ParamType::integer_list: return "list of integers";
        case ParamType::real_list: return "list of reals";
        case ParamType::string_list: return "list of strings";
    }
    return "?";
}

namespace {

std::string quote(const std::string& s) {
    std::ostringstream os;
    os << std::quoted(s);
    return os.str();
}

std::string real_str(double v) {
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
        std::ostringstream os;
        os << static_cast<long long>(v) << ".0";
        return os.str();
    }
    // The shortest decimal that reads back as the same double (0.1, not 0.10000000000000001).
    for (int digits = 6; digits <= std::numeric_limits<double>::max_digits10; ++digits) {
        std::ostringstream os;
        os << std::setprecision(digits) << v;
        if (std::stod(os.str()) == v || !std::isfinite(v)) return os.str();
    }
    std::ostringstream os;
    os << std::setprecision(std::numeric_limits<double>::max_digits10) << v;
    return os.str();
}

template <class T, class F>
std::string list_str(const std::vector<T>& items, F&& item) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += ", ";
        out += item(items[i]);
    }
    return out + "]";
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += ", ";
        out += items[i];
    }
    return out;
}

// Integers are accepted where reals are declared (TOML writes `lambda = 1`).
bool coerce(Value& v, ParamType want) {
    const ParamType have = type_of(v);
    if (have == want) return true;
    if (want == ParamType::real && have == ParamType::integer) {
        v = static_cast<double>(std::get<std::int64_t>(v));
        return true;
    }
    if (want == ParamType::real_list && have == ParamType::integer_list) {
        const auto& ints = std::get<std::vector<std::int64_t>>(v);
        v = std::vector<double>(ints.begin(), ints.end());
        return true;
    }
    // An empty TOML array has no element type; it fits every list type.
    if (have == ParamType::integer_list && std::get<std::vector<std::int64_t>>(v).empty()) {
        if (want == ParamType::real_list) { v = std::vector<double>{}; return true; }
        if (want == ParamType::string_list) { v = std::vector<std::string>{}; return true; }
    }
    return false;
}

}  // namespace

std::string to_string(const Value& value) {
    struct {
        std::string operator()(bool b) const { return b ? "true" : "false"; }
        std::string operator()(std::int64_t i) const { return std::to_string(i); }
        std::string operator()(double d) const { return real_str(d); }
        std::string operator()(const std::string& s) const { return quote(s); }
        std::string operator()(const std::vector<std::int64_t>& v) const {
            return list_str(v, [](std::int64_t i) { return std::to_string(i); });
        }
        std::string operator()(const std::vector<double>& v) const { return list_str(v, real_str); }
        std::string operator()(const std::vector<std::string>& v) const { return list_str(v, quote); }
    } visitor;
    return std::visit(visitor, value);
}

ParamType type_of(const Value& value) noexcept {
    switch (value.index()) {
        case 0: return ParamType::boolean;
        case 1: return ParamType::integer;
        case 2: return ParamType::real;
        case 3: return ParamType::string;
        case 4: return ParamType::integer_list;
        case 5: return ParamType::real_list;
        default: return ParamType::string_list;
    }
}

ParamSpec ParamSpec::boolean(std::string name, bool dflt, std::string doc) {
    return {std::move(name), ParamType::boolean, Value{dflt}, std::move(doc), {}};
}
ParamSpec ParamSpec::integer(std::string name, std::int64_t dflt, std::string doc) {
    return {std::move(name), ParamType::integer, Value{dflt}, std::move(doc), {}};
}
ParamSpec ParamSpec::real(std::string name, double dflt, std::string doc) {
    return {std::move(name), ParamType::real, Value{dflt}, std::move(doc), {}};
}
ParamSpec ParamSpec::string(std::string name, std::string dflt, std::string doc,
                            std::vector<std::string> choices) {
    return {std::move(name), ParamType::string, Value{std::move(dflt)}, std::move(doc),
            std::move(choices)};
}
ParamSpec ParamSpec::integer_list(std::string name, std::vector<std::int64_t> dflt, std::string doc) {
    return {std::move(name), ParamType::integer_list, Value{std::move(dflt)}, std::move(doc), {}};
}
ParamSpec ParamSpec::real_list(std::string name, std::vector<double> dflt, std::string doc) {
    return {std::move(name), ParamType::real_list, Value{std::move(dflt)}, std::move(doc), {}};
}
ParamSpec ParamSpec::string_list(std::string name, std::vector<std::string> dflt, std::string doc,
                                 std::vector<std::string> choices) {
    return {std::move(name), ParamType::string_list, Value{std::move(dflt)}, std::move(doc),
            std::move(choices)};
}
ParamSpec ParamSpec::required(std::string name, ParamType type, std::string doc,
                              std::vector<std::string> choices) {
    return {std::move(name), type, std::nullopt, std::move(doc), std::move(choices)};
}

Config::Config(std::string component, SourceLocation where, std::vector<Entry> entries,
               std::vector<ParamSpec> specs)
    : component_(std::move(component)),
      where_(std::move(where)),
      entries_(std::move(entries)),
      specs_(std::move(specs)) {
    validate();
}

void Config::validate() const {
    std::vector<std::string> valid;
    for (const auto& s : specs_) valid.push_back(s.name);
    const std::string valid_list = valid.empty() ? "(none: this component takes no parameters)" : join(valid);

    for (const auto& e : entries_) {
        const auto it = std::find_if(specs_.begin(), specs_.end(),
                                     [&](const ParamSpec& s) { return s.name == e.key; });
        if (it == specs_.end()) {
            throw ConfigError(e.where.str() + ": unknown key '" + e.key + "' in [" + component_ +
                              "]; valid keys are: " + valid_list);
        }
    }
    for (const auto& s : specs_) {
        const Entry* e = find(s.name);
        if (!e) {
            if (!s.default_value) {
                throw ConfigError(where_.str() + ": [" + component_ + "] is missing the required key '" +
                                  s.name + "' (" + to_string(s.type) + ": " + s.doc + ")");
            }
            continue;
        }
        Value v = e->value;
        if (!coerce(v, s.type)) {
            throw ConfigError(e->where.str() + ": " + component_ + "." + s.name + " = " +
                              to_string(e->value) + " has the wrong type: expected " +
                              to_string(s.type) + ", found " + to_string(type_of(e->value)));
        }
        if (!s.choices.empty()) {
            std::vector<std::string> given;
            if (s.type == ParamType::string) given.push_back(std::get<std::string>(v));
            if (s.type == ParamType::string_list) given = std::get<std::vector<std::string>>(v);
            for (const auto& g : given) {
                if (std::find(s.choices.begin(), s.choices.end(), g) == s.choices.end()) {
                    throw ConfigError(e->where.str() + ": " + component_ + "." + s.name + " = " +
                                      to_string(e->value) + ": '" + g +
                                      "' is not a valid value; valid values are: " + join(s.choices));
                }
            }
        }
    }
}

const Config::Entry* Config::find(const std::string& key) const {
    for (const auto& e : entries_)
        if (e.key == key) return &e;
    return nullptr;
}

const ParamSpec& Config::spec(const std::string& key) const {
    for (const auto& s : specs_)
        if (s.name == key) return s;
    throw PluginError("[" + component_ + "] asked for parameter '" + key +
                      "', which it did not declare (a bug in the plugin: declare it in parameters())");
}

bool Config::has(const std::string& key) const { return find(key) != nullptr; }

SourceLocation Config::where(const std::string& key) const {
    const Entry* e = find(key);
    return e ? e->where : where_;
}

Value Config::get(const std::string& key) const {
    const ParamSpec& s = spec(key);
    const Entry* e = find(key);
    if (!e) {
        if (!s.default_value) fail(key, "is required but was not set");
        return *s.default_value;
    }
    Value v = e->value;
    if (!coerce(v, s.type)) fail(key, std::string("must be a ") + to_string(s.type));
    return v;
}

namespace {
template <class T>
T get_as(const Config& cfg, const std::string& key, ParamType want) {
    Value v = cfg.get(key);
    if (type_of(v) != want) {
        throw PluginError("[" + cfg.component() + "] read parameter '" + key + "' as " + to_string(want) +
                          " but declared it as " + to_string(type_of(v)) + " (a bug in the plugin)");
    }
    return std::get<T>(std::move(v));
}
}  // namespace

bool Config::get_bool(const std::string& key) const { return get_as<bool>(*this, key, ParamType::boolean); }
std::int64_t Config::get_integer(const std::string& key) const {
    return get_as<std::int64_t>(*this, key, ParamType::integer);
}
double Config::get_real(const std::string& key) const { return get_as<double>(*this, key, ParamType::real); }
std::string Config::get_string(const std::string& key) const {
    return get_as<std::string>(*this, key, ParamType::string);
}
std::vector<std::int64_t> Config::get_integer_list(const std::string& key) const {
    return get_as<std::vector<std::int64_t>>(*this, key, ParamType::integer_list);
}
std::vector<double> Config::get_real_list(const std::string& key) const {
    return get_as<std::vector<double>>(*this, key, ParamType::real_list);
}
std::vector<std::string> Config::get_string_list(const std::string& key) const {
    return get_as<std::vector<std::string>>(*this, key, ParamType::string_list);
}

void Config::require(bool ok, const std::string& key, const std::string& what) const {
    if (!ok) fail(key, what);
}

void Config::fail(const std::string& key, const std::string& what) const {
    std::string value;
    try {
        value = " = " + to_string(get(key));
    } catch (const Error&) {
    }
    throw ConfigError(where(key).str() + ": " + component_ + "." + key + value + ": " + what);
}

}  // namespace ntkssl
