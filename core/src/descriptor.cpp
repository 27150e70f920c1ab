#include "ntkssl/core/descriptor.hpp"

#include <cstring>

#include <ntkssl/errors.hpp>

namespace ntkssl::core {

namespace {

// The string at s, if it is terminated within kMaxDescriptorString bytes and printable (no
// control characters; UTF-8 bytes ≥ 0x80 are allowed). Reads at most the bound.
bool bounded_string(const char* s, std::string& out) {
    if (!s) return false;
    const void* end = std::memchr(s, '\0', kMaxDescriptorString + 1);
    if (!end) return false;
    out.assign(s, static_cast<const char*>(end));
    for (unsigned char c : out)
        if (c < 0x20 || c == 0x7f) return false;
    return true;
}

std::string shown(const char* s) {
    std::string v;
    return bounded_string(s, v) ? "'" + v + "'" : s ? "(unreadable: longer than " + std::to_string(kMaxDescriptorString) +
                                                          " bytes or not printable)"
                                                    : std::string("(null)");
}

}  // namespace

DescriptorInfo check_descriptor(const ntkssl_plugin_descriptor* d, const std::string& path) {
    if (!d) throw PluginError("plugin library '" + path + "': its entry point returned no descriptor");
    // ABI version and size are the first two fields of every descriptor version: read them
    // before trusting anything else.
    if (d->abi_version != NTKSSL_ABI_VERSION) {
        throw AbiError("plugin library '" + path + "' was built for ntkssl plugin ABI " + std::to_string(d->abi_version) +
                       "; this ntkssl (" NTKSSL_VERSION ") speaks ABI " + std::to_string(NTKSSL_ABI_VERSION) +
                       ". Rebuild the plugin against this ntkssl's SDK.");
    }
    if (d->struct_size != sizeof(ntkssl_plugin_descriptor)) {
        throw AbiError("plugin library '" + path + "' has a descriptor of " + std::to_string(d->struct_size) +
                       " bytes; this ntkssl expects " + std::to_string(sizeof(ntkssl_plugin_descriptor)) + " bytes for ABI " +
                       std::to_string(NTKSSL_ABI_VERSION) + ". Rebuild the plugin against this ntkssl's SDK.");
    }
    std::string toolchain;
    if (!bounded_string(d->toolchain, toolchain) || toolchain != NTKSSL_TOOLCHAIN_TAG) {
        throw AbiError("plugin library '" + path + "' was built with toolchain " + shown(d->toolchain) +
                       "; this ntkssl was built with '" NTKSSL_TOOLCHAIN_TAG
                       "'. Build the plugin with the same compiler ABI, standard library and xtensor version.");
    }
    DescriptorInfo info;
    if (!bounded_string(d->library_name, info.library_name) || info.library_name.empty() || !d->register_plugins) {
        throw PluginError("plugin library '" + path + "' has an incomplete descriptor (library name " + shown(d->library_name) +
                          (d->register_plugins ? "" : ", no registration callback") + ")");
    }
    if (d->library_version && !bounded_string(d->library_version, info.library_version))
        throw PluginError("plugin library '" + path + "' has a malformed library version " + shown(d->library_version));
    if (d->sdk_version && !bounded_string(d->sdk_version, info.sdk_version))
        throw PluginError("plugin library '" + path + "' has a malformed SDK version " + shown(d->sdk_version));
    return info;
}

}  // namespace ntkssl::core
