// Config: validation against declared parameters, with file:line:col in every message.
#include <doctest/doctest.h>

#include <functional>

#include <ntkssl/config.hpp>
#include <ntkssl/errors.hpp>

#include "test_support.hpp"

using namespace ntkssl;

namespace {

std::vector<ParamSpec> specs() {
    return {ParamSpec::real("lambda", 1.0, "weight"), ParamSpec::integer("width", 64, "width"),
            ParamSpec::string("activation", "tanh", "nonlinearity", {"tanh", "relu"}),
            ParamSpec::required("dim", ParamType::integer, "dimension"),
            ParamSpec::string_list("trainable", {"W", "V"}, "blocks", {"W", "V", "b"})};
}

Config::Entry entry(const std::string& key, Value v, int line, int col) { return {key, std::move(v), {"p.toml", line, col}}; }

std::string message_of(const std::function<void()>& f) { return ntkssl::test::error_message<ConfigError>(f); }

}  // namespace

TEST_CASE("declared defaults are returned for keys that are not set") {
    const Config c("loss", {"p.toml", 3, 1}, {entry("dim", std::int64_t{20}, 4, 1)}, specs());
    CHECK(c.get_real("lambda") == 1.0);
    CHECK(c.get_integer("width") == 64);
    CHECK(c.get_string("activation") == "tanh");
    CHECK(c.get_integer("dim") == 20);
    CHECK(c.get_string_list("trainable") == std::vector<std::string>{"W", "V"});
    CHECK_FALSE(c.has("lambda"));
    CHECK(c.has("dim"));
}

TEST_CASE("an integer is accepted where a real is declared") {
    const Config c("loss", {"p.toml", 3, 1}, {entry("dim", std::int64_t{3}, 4, 1), entry("lambda", std::int64_t{2}, 5, 1)}, specs());
    CHECK(c.get_real("lambda") == 2.0);
}

TEST_CASE("unknown key: the message has file:line:col and lists the valid keys") {
    const auto m = message_of([] {
        Config("loss", {"p.toml", 3, 1}, {entry("dim", std::int64_t{3}, 4, 1), entry("lamda", 0.5, 7, 3)}, specs());
    });
    CHECK(m.find("p.toml:7:3") != std::string::npos);
    CHECK(m.find("unknown key 'lamda'") != std::string::npos);
    CHECK(m.find("lambda, width, activation, dim, trainable") != std::string::npos);
}

TEST_CASE("wrong type: the message has file:line:col, expected and found types") {
    const auto m = message_of([] {
        Config("architecture", {"p.toml", 3, 1}, {entry("dim", std::int64_t{3}, 4, 1), entry("width", std::string("wide"), 9, 9)}, specs());
    });
    CHECK(m == "p.toml:9:9: architecture.width = \"wide\" has the wrong type: expected integer, found string");
}

TEST_CASE("missing required key: the message has the table's file:line:col") {
    const auto m = message_of([] { Config("dataset", {"p.toml", 12, 1}, {}, specs()); });
    CHECK(m.find("p.toml:12:1: [dataset] is missing the required key 'dim'") == 0);
}

TEST_CASE("a value outside the declared choices is refused with the valid values") {
    const auto m = message_of([] {
        Config("architecture", {"p.toml", 1, 1}, {entry("dim", std::int64_t{3}, 2, 1), entry("activation", std::string("sigmoid"), 5, 14)}, specs());
    });
    CHECK(m.find("p.toml:5:14") == 0);
    CHECK(m.find("valid values are: tanh, relu") != std::string::npos);
    const auto m2 = message_of([] {
        Config("architecture", {"p.toml", 1, 1},
               {entry("dim", std::int64_t{3}, 2, 1), entry("trainable", std::vector<std::string>{"W", "U"}, 6, 1)}, specs());
    });
    CHECK(m2.find("'U' is not a valid value") != std::string::npos);
}

TEST_CASE("require() reports the key's location and value") {
    const Config c("loss", {"p.toml", 3, 1}, {entry("dim", std::int64_t{3}, 4, 1), entry("lambda", -1.0, 8, 10)}, specs());
    const auto m = message_of([&] { c.require(c.get_real("lambda") >= 0, "lambda", "must be >= 0"); });
    CHECK(m == "p.toml:8:10: loss.lambda = -1.0: must be >= 0");
}

TEST_CASE("asking for an undeclared parameter is a plugin bug, reported as PluginError") {
    const Config c("loss", {"p.toml", 3, 1}, {entry("dim", std::int64_t{3}, 4, 1)}, specs());
    CHECK_THROWS_AS(c.get_real("alpha"), PluginError);
    CHECK_THROWS_AS(c.get_integer("lambda"), PluginError);  // declared real, read as integer
}

TEST_CASE("values print as TOML, reals in their shortest round-trip form") {
    CHECK(to_string(Value{0.1}) == "0.1");
    CHECK(to_string(Value{1e-5}) == "1e-05");
    CHECK(to_string(Value{2.0}) == "2.0");
    CHECK(to_string(Value{std::vector<std::string>{"W", "V"}}) == "[\"W\", \"V\"]");
    CHECK(to_string(Value{std::vector<std::int64_t>{64, 256}}) == "[64, 256]");
    CHECK(to_string(Value{true}) == "true");
}
