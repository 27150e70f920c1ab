// Loads the in-tree plugins through the real loader once per test binary.
#pragma once

#include "ntkssl/core/loader.hpp"
#include "test_support.hpp"

namespace ntkssl::test {

inline core::Registry& registry() {
    static core::Registry r = [] {
        core::Registry reg;
        core::load_plugins(reg, core::PluginSearch{{plugin_dir()}, false, false});
        return reg;
    }();
    return r;
}

inline Config::Entry param(const std::string& key, Value v) { return {key, std::move(v), {"test", 0, 0}}; }

}  // namespace ntkssl::test
