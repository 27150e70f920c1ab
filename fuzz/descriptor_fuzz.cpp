// libFuzzer target: a plugin descriptor built from arbitrary bytes must give either the library's
// identity or an AbiError/PluginError, never a crash, a sanitizer report or an over-read.
// Input: byte 0 flags (bit 0: the right ABI version, 1: the right size, 2: null toolchain, 3: null
// name, 4: null version, 5: null SDK version, 6: no callback, 7: the right toolchain tag), bytes
// 1–8 the ABI version and size when not the right ones, then up to four NUL-separated strings
// (toolchain, name, version, SDK version).
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <ntkssl/errors.hpp>

#include "ntkssl/core/descriptor.hpp"

namespace {
void no_op(void*) {}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 9) return 0;
    const std::uint8_t flags = data[0];
    std::uint32_t abi = 0, struct_size = 0;
    std::memcpy(&abi, data + 1, 4);
    std::memcpy(&struct_size, data + 5, 4);
    std::vector<std::string> strings;
    std::string cur;
    for (std::size_t i = 9; i < size && strings.size() < 4; ++i) {
        if (data[i] == 0) {
            strings.push_back(cur);
            cur.clear();
        } else {
            cur.push_back(static_cast<char>(data[i]));
        }
    }
    if (strings.size() < 4) strings.push_back(cur);
    strings.resize(4);
    ntkssl_plugin_descriptor d{};
    d.abi_version = (flags & 1) ? NTKSSL_ABI_VERSION : abi;
    d.struct_size = (flags & 2) ? static_cast<std::uint32_t>(sizeof(ntkssl_plugin_descriptor)) : struct_size;
    d.toolchain = (flags & 4) ? nullptr : (flags & 128) ? NTKSSL_TOOLCHAIN_TAG : strings[0].c_str();
    d.library_name = (flags & 8) ? nullptr : strings[1].c_str();
    d.library_version = (flags & 16) ? nullptr : strings[2].c_str();
    d.sdk_version = (flags & 32) ? nullptr : strings[3].c_str();
    d.register_plugins = (flags & 64) ? nullptr : &no_op;
    try {
        const auto info = ntkssl::core::check_descriptor(&d, "fuzz.so");
        // Accepted: the identity is exactly what the descriptor said.
        if (info.library_name != strings[1]) __builtin_trap();
    } catch (const ntkssl::Error&) {
        // the expected answer to a malformed descriptor
    }
    return 0;
}
