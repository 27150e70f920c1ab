// The pipeline parser: sections, sweep grid, overrides, and file:line:col on every error.
#include <doctest/doctest.h>

#include <functional>

#include <ntkssl/errors.hpp>

#include "ntkssl/core/loader.hpp"
#include "ntkssl/core/pipeline.hpp"
#include "ntkssl/core/training.hpp"
#include "test_support.hpp"

using namespace ntkssl;
using namespace ntkssl::core;
namespace t = ntkssl::test;

namespace {

const char* kValid = R"([pipeline]
seed = 3

[dataset]
type = "synthetic.sphere"
n = 8
dim = 5

[[augmentation]]
type = "gaussian_noise"
sigma = 0.1

[architecture]
type = "two_layer"
width = 16

[loss]
type = "barlow_twins"

[train]
steps = 4

[measure]
probe_size = 4

[sweep]
"architecture.width" = [16, 32, 64]
"pipeline.seed" = [1, 2]
)";

std::filesystem::path write(const std::string& name, const std::string& text) {
    const auto dir = t::scratch("pipeline_" + name);
    const auto p = dir / (name + ".toml");
    t::write_text(p, text);
    return p;
}

std::string config_error(const std::function<void()>& f) { return t::error_message<ConfigError>(f); }

Registry& plugins() {
    static Registry r = [] {
        Registry reg;
        load_plugins(reg, PluginSearch{{t::plugin_dir()}, false, false});
        return reg;
    }();
    return r;
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
    const auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("a sweep grid spans the product of its axes, last axis fastest, in file order") {
    const auto p = Pipeline::load(write("grid", kValid));
    REQUIRE(p.sweep().size() == 2);
    CHECK(p.sweep()[0].key == "architecture.width");
    CHECK(p.num_points() == 6);
    const auto v = p.point_values(3);  // width index 1, seed index 1
    CHECK(std::get<std::int64_t>(v[0]) == 32);
    CHECK(std::get<std::int64_t>(v[1]) == 2);
    const auto r = p.resolve(3);
    CHECK(r.seed == 2);
    bool found = false;
    for (const auto& e : r.architecture.params)
        if (e.key == "width") {
            found = true;
            CHECK(std::get<std::int64_t>(e.value) == 32);
            CHECK(e.where.line == 27);  // the sweep list: errors about a swept value point there
        }
    CHECK(found);
}

TEST_CASE("--set overrides a key - a bare word is a string - --set sweep.* replaces an axis") {
    const auto p = Pipeline::load(write("set", kValid), {"train.steps=9", "loss.preset=original", "sweep.pipeline.seed=[5]"});
    CHECK(p.num_points() == 3);
    const auto r = p.resolve(0);
    CHECK(r.train.get_integer("steps") == 9);
    CHECK(r.seed == 5);
    REQUIRE(r.loss.params.size() == 1);
    CHECK(std::get<std::string>(r.loss.params[0].value) == "original");
    CHECK(r.loss.params[0].where.str() == "--set loss.preset=original");
}

TEST_CASE("malformed TOML: ConfigError with file:line:col") {
    const auto path = write("malformed", "[pipeline]\nseed = 3\n[dataset\ntype = \"x\"\n");
    const auto m = config_error([&] { Pipeline::load(path); });
    CHECK(m.find(path.string() + ":3:") == 0);
    CHECK(m.find("malformed TOML") != std::string::npos);
}

TEST_CASE("a table header that cannot start with a key is a located error, not TOML++'s assertion (fuzz regression)") {
    // Found by fuzz/pipeline_fuzz.cpp: TOML++ 3.3 asserts on these instead of reporting them.
    for (const char* text : {"[# a comment in a header]\nx = 1\n", "[[[1]]]\n", "[pipeline]\nseed = 1\n  [[=\n"}) {
        const auto path = write("header", text);
        const auto m = config_error([&] { Pipeline::load(path); });
        CAPTURE(text);
        CHECK(m.find("malformed TOML: a table header must start with a key") != std::string::npos);
        CHECK(m.find(path.string() + ":") == 0);
    }
    // Non-ASCII outside strings and comments, and after a line-ending backslash, reach undefined
    // behaviour in TOML++ 3.3 (its issues #190 and #295): refused, located, before TOML++ sees them.
    auto m1 = config_error([&] { Pipeline::load(write("mu", "[pipeline]\nseed = \xce\xbc\n")); });
    CHECK(m1.find(":2:8: malformed TOML: a non-ASCII character in a value that is not a string") != std::string::npos);
    m1 = config_error([&] { Pipeline::load(write("mukey", "[pipeline]\n\xce\xbc = 1\n")); });
    CHECK(m1.find(":2:1: malformed TOML: a non-ASCII character outside a string or comment") != std::string::npos);
    m1 = config_error([&] { Pipeline::load(write("backslash", "[pipeline]\nname = \"\"\"\\\n\xc2\xa7\"\"\"\n")); });
    CHECK(m1.find(":3:1: malformed TOML: a non-ASCII character right after a backslash and whitespace") != std::string::npos);
    // A malformed bare value that runs into a quote: TOML++ scans past the quote, so the string
    // that seems to open there does not protect what follows.
    m1 = config_error([&] { Pipeline::load(write("badvalue", "[pipeline]\nseed = 1x'\xc6\x99'\n")); });
    CHECK(m1.find(":2:11: malformed TOML: a non-ASCII character in a value that is not a string") != std::string::npos);
    // ... and so do the brackets in it: no inline table opens there, so no quoted key either.
    m1 = config_error([&] { Pipeline::load(write("badvalue2", "[pipeline]\nseed = [0xcaE{\"\"E{\"E{E\xc2\xba\n]\n")); });
    CHECK(m1.find(":2:23: malformed TOML: a non-ASCII character in a value that is not a string") != std::string::npos);
    // Three quotes where a key goes open a multi-line string for TOML++ as well: the '#' in it
    // starts no comment, and its bad escape is found.
    m1 = config_error([&] { Pipeline::load(write("multikey", "\"\"\"\"# \\\xef\xbb\xbe\n\"\"\" = 1\n")); });
    CHECK(m1.find(":1:8: malformed TOML: a backslash followed by a non-ASCII character") != std::string::npos);
    // TOML++ builds and destroys tables recursively: a header of 200,000 dotted parts overflows
    // its stack. Keys of more than 32 parts and nesting deeper than 32 are refused first.
    std::string deep = "[";
    for (int i = 0; i < 200000; ++i) deep += i ? ".a" : "a";
    m1 = config_error([&] { Pipeline::load(write("deepkey", deep + "]\nx = 1\n")); });
    CHECK(m1.find(":1:65: malformed TOML: a key of more than 32 dotted parts") != std::string::npos);
    const std::string nested = "[pipeline]\nseed = " + std::string(40, '[') + std::string(40, ']') + "\n";
    m1 = config_error([&] { Pipeline::load(write("deepvalue", nested)); });
    CHECK(m1.find(":2:40: malformed TOML: arrays and inline tables nested more than 32 deep") != std::string::npos);
    // Control characters and invalid UTF-8 are refused wherever they are.
    m1 = config_error([&] { Pipeline::load(write("control", std::string("[pipeline]\nname = \"a\x01" "b\"\n"))); });
    CHECK(m1.find(":2:10: malformed TOML: control character U+0001") != std::string::npos);
    m1 = config_error([&] { Pipeline::load(write("utf8bad", "[pipeline]\nname = \"\xc3\x28\"\n")); });
    CHECK(m1.find(":2:9: malformed TOML: invalid UTF-8") != std::string::npos);
    // Non-ASCII inside strings and comments is fine, and a non-ASCII --set value is a bare string.
    const auto ok = Pipeline::load(write("utf8", std::string(kValid) + "# café\n"), {"pipeline.name=μ-study"});
    CHECK(ok.resolve(0).name == "μ-study");
    // A byte-order mark at the start, as some editors write, is no character of the file.
    const auto with_bom = Pipeline::load(write("bom", "\xef\xbb\xbf" + std::string(kValid)));
    const auto without = Pipeline::load(write("nobom", kValid));
    CHECK(with_bom.resolve(0).seed == without.resolve(0).seed);
    CHECK(with_bom.num_points() == without.num_points());
    // Brackets that are not headers are left to TOML: nested arrays and strings.
    const auto m = config_error([&] { Pipeline::load(write("nested", "[pipeline]\nname = \"\"\"\n[# not a header\n\"\"\"\n[x]\n")); });
    CHECK(m.find("unknown section 'x'") != std::string::npos);
}

TEST_CASE("unknown section, missing component, missing type: each located") {
    auto m = config_error([&] { Pipeline::load(write("section", std::string(kValid) + "\n[trian]\nsteps = 3\n")); });
    CHECK(m.find(":30:1: unknown section 'trian'") != std::string::npos);
    m = config_error([&] { Pipeline::load(write("nocomponent", replace(kValid, "[loss]\ntype = \"barlow_twins\"\n", ""))); });
    CHECK(m.find("has no [loss] table") != std::string::npos);
    m = config_error([&] { Pipeline::load(write("notype", replace(kValid, "type = \"barlow_twins\"", "lambda = 1"))); });
    CHECK(m.find(":17:1: [loss] has no 'type' key") != std::string::npos);
}

TEST_CASE("core sections: unknown key and wrong type carry file:line:col") {
    auto m = config_error([&] { Pipeline::load(write("trainkey", replace(kValid, "steps = 4", "step = 4"))); });
    CHECK(m.find(":21:1: unknown key 'step' in [train]; valid keys are: steps, time, learning_rate") != std::string::npos);
    m = config_error([&] { Pipeline::load(write("traintype", replace(kValid, "steps = 4", "steps = \"four\""))); });
    CHECK(m.find(":21:1: train.steps = \"four\" has the wrong type: expected integer, found string") != std::string::npos);
}

TEST_CASE("plugin tables are validated against the plugin's declared parameters when the point is prepared") {
    const auto p = Pipeline::load(write("pluginkey", replace(kValid, "width = 16", "width = 16\nwidht = 32")));
    const auto m = config_error([&] { prepare_point(p.resolve(0), plugins()); });
    CHECK(m.find(":16:1: unknown key 'widht' in [architecture]") != std::string::npos);
    CHECK(m.find("valid keys are: width, output_dim, activation") != std::string::npos);

    const auto p2 = Pipeline::load(write("pluginrange", replace(kValid, "sigma = 0.1", "sigma = -0.1")));
    const auto m2 = config_error([&] { prepare_point(p2.resolve(0), plugins()); });
    CHECK(m2.find(":11:1: augmentation[0].sigma = -0.1: must be a finite number >= 0") != std::string::npos);
}

TEST_CASE("a bad swept value is reported at the sweep list") {
    const auto p = Pipeline::load(write("sweepvalue", replace(kValid, "[16, 32, 64]", "[16, 0, 64]")));
    const auto m = config_error([&] { prepare_point(p.resolve(2), plugins()); });
    CHECK(m.find(":27:") != std::string::npos);
    CHECK(m.find("architecture.width = 0: must be at least 1") != std::string::npos);
}

TEST_CASE("the fingerprint changes with the effective pipeline and not otherwise") {
    const auto path = write("fingerprint", kValid);
    CHECK(Pipeline::load(path).fingerprint() == Pipeline::load(path).fingerprint());
    CHECK(Pipeline::load(path).fingerprint() != Pipeline::load(path, {"train.steps=5"}).fingerprint());
}
