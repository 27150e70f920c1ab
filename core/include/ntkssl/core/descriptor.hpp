// Checking a plugin library's descriptor (plugin.hpp), before any C++ object crosses.
//
// The descriptor comes from a library that may be broken or hostile: every field is checked, and
// strings are read with a bound (a name longer than kMaxDescriptorString, without a terminator
// within it, or with control characters, is refused), so that a bad library produces an error
// message, not a crash or a terminal full of garbage. Separate from the loader so that it can be
// fuzzed without loading anything (fuzz/descriptor_fuzz.cpp).
#pragma once

#include <string>

#include <ntkssl/plugin.hpp>

namespace ntkssl::core {

constexpr std::size_t kMaxDescriptorString = 256;

struct DescriptorInfo {
    std::string library_name, library_version, sdk_version;
};

// Throws AbiError (ABI version, struct size, toolchain tag: with both sides' values) or
// PluginError (missing or malformed fields), each naming `path`.
DescriptorInfo check_descriptor(const ntkssl_plugin_descriptor* d, const std::string& path);

}  // namespace ntkssl::core
