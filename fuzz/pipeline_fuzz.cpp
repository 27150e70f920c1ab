// libFuzzer target: pipeline validation. Any text must give either a valid pipeline or a
// ConfigError, never a crash, a hang, a sanitizer report or an unbounded allocation; and a
// valid pipeline must survive its own rendering: parse(resolved_toml()) is the same pipeline
// (same fingerprint, same sweep), which is what `ntkssl report` and --resume rely on.
#include <cstdint>
#include <string>

#include <ntkssl/errors.hpp>

#include "ntkssl/core/pipeline.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const auto p = ntkssl::core::Pipeline::parse(text, "fuzz.toml");
        const auto again = ntkssl::core::Pipeline::parse(p.resolved_toml(), "fuzz.toml");
        if (again.fingerprint() != p.fingerprint() || again.num_points() != p.num_points()) __builtin_trap();
    } catch (const ntkssl::ConfigError&) {
        // the expected answer to a malformed or invalid pipeline
    }
    return 0;
}
