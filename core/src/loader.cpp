// The only Boost.DLL user in ntkssl.
#include "ntkssl/core/loader.hpp"

#include "ntkssl/core/descriptor.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

namespace ntkssl::core {

namespace fs = std::filesystem;
namespace dll = boost::dll;

namespace {

bool is_shared_library_name(const fs::path& p) {
    const std::string name = p.filename().string();
    // libfoo.so, or a versioned libfoo.so.1.2
    return p.extension() == ".so" || name.find(".so.") != std::string::npos;
}

void add_path(const fs::path& p, bool must_exist, const std::string& origin, std::vector<fs::path>& out,
              std::set<fs::path>& seen) {
    std::error_code ec;
    const auto status = fs::status(p, ec);
    if (ec || !fs::exists(status)) {
        if (must_exist)
            throw ConfigError("plugin path '" + p.string() + "' (from " + origin + ") does not exist");
        return;
    }
    auto take = [&](const fs::path& file) {
        const fs::path canonical = fs::weakly_canonical(file);
        if (seen.insert(canonical).second) out.push_back(canonical);
    };
    if (fs::is_directory(status)) {
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(p)) {
            std::error_code fec;
            // Only regular files (symlinks resolved) with the shared-library suffix.
            if (entry.is_regular_file(fec) && is_shared_library_name(entry.path())) files.push_back(entry.path());
        }
        std::sort(files.begin(), files.end());
        for (const auto& f : files) take(f);
    } else if (fs::is_regular_file(status)) {
        take(p);
    } else {
        throw ConfigError("plugin path '" + p.string() + "' (from " + origin + ") is neither a directory nor a regular file");
    }
}

}  // namespace

void check_plugin_path_safety(const fs::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return;  // a missing path is reported by discovery
    const char* override_hint =
        " A plugin is code that runs with your rights. Fix it (chmod go-w, or chown to yourself), or, if you trust everyone "
        "who can write there, pass --allow-unsafe-plugins (or set NTKSSL_ALLOW_UNSAFE_PLUGINS=1).";
    const bool dir = S_ISDIR(st.st_mode);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    // Group write is refused unless the group is the user's own (Debian's user-private groups
    // give every file of a user with umask 002 group write for that private group).
    const bool group_risk = (st.st_mode & S_IWGRP) && st.st_gid != ::getegid() && st.st_gid != 0;
    if ((st.st_mode & S_IWOTH) || group_risk) {
        throw PluginError("refusing to load plugins from " + std::string(dir ? "directory" : "file") + " '" + path.string() +
                          "': it is writable by " + ((st.st_mode & S_IWOTH) ? std::string("every user") : "group id " + std::to_string(st.st_gid)) +
                          " (mode " + mode + ")." + override_hint);
    }
    if (st.st_uid != ::geteuid() && st.st_uid != 0) {
        throw PluginError("refusing to load plugins from " + std::string(dir ? "directory" : "file") + " '" + path.string() +
                          "': it is owned by user id " + std::to_string(st.st_uid) + ", neither you (" + std::to_string(::geteuid()) +
                          ") nor root." + override_hint);
    }
}

fs::path default_plugin_directory() {
    boost::dll::fs::error_code ec;
    const auto exe = dll::program_location(ec);
    if (ec) return {};
    return fs::path(exe.string()).parent_path() / ".." / "lib" / "ntkssl" / "plugins";
}

std::vector<fs::path> discover_plugin_files(const PluginSearch& search) {
    std::vector<fs::path> out;
    std::set<fs::path> seen;
    for (const auto& p : search.explicit_paths) add_path(p, true, "the pipeline or --plugin-path", out, seen);
    if (search.use_environment) {
        if (const char* env = std::getenv("NTKSSL_PLUGIN_PATH")) {
            std::stringstream ss(env);
            std::string item;
            while (std::getline(ss, item, ':'))
                if (!item.empty()) add_path(item, true, "NTKSSL_PLUGIN_PATH", out, seen);
        }
    }
    if (search.use_default) {
        const fs::path d = default_plugin_directory();
        if (!d.empty()) add_path(fs::weakly_canonical(d), false, "the default plugin directory", out, seen);
    }
    return out;
}

void load_plugin_library(Registry& registry, const fs::path& file) {
    const std::string path = fs::weakly_canonical(file).string();
    if (registry.has_library(path)) return;

    auto lib = std::make_shared<dll::shared_library>();
    try {
        lib->load(boost::dll::fs::path(path), dll::load_mode::rtld_now | dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
        throw PluginError("cannot load plugin library '" + path + "': " + e.what() +
                          ". (Only ntkssl plugin libraries belong on the plugin path.)");
    }
    if (!lib->has(NTKSSL_PLUGIN_ENTRY_NAME)) {
        throw PluginError("'" + path + "' is a shared library but not an ntkssl plugin: it has no entry point '" +
                          NTKSSL_PLUGIN_ENTRY_NAME + "' (define one with NTKSSL_PLUGIN(...) from <ntkssl/plugin.hpp>)");
    }
    using Entry = const ntkssl_plugin_descriptor*();
    const ntkssl_plugin_descriptor* d = lib->get<Entry>(NTKSSL_PLUGIN_ENTRY_NAME)();
    const DescriptorInfo info = check_descriptor(d, path);

    auto library = std::make_shared<Library>();
    library->path = path;
    library->name = info.library_name;
    library->version = info.library_version;
    library->sdk_version = info.sdk_version;
    library->handle = lib;

    registry.begin_library(library);
    try {
        d->register_plugins(static_cast<Registrar*>(&registry));
    } catch (const Error& e) {
        registry.end_library();
        throw_error(e.kind(), "plugin library '" + path + "' failed to register its plugins: " + e.what());
    } catch (const std::exception& e) {
        registry.end_library();
        throw PluginError("plugin library '" + path + "' failed to register its plugins: " + e.what());
    } catch (...) {
        registry.end_library();
        throw PluginError("plugin library '" + path + "' failed to register its plugins: a non-standard exception was thrown");
    }
    registry.end_library();
}

void check_trusted_library(const fs::path& file, bool allow_unsafe) {
    const char* env = std::getenv("NTKSSL_ALLOW_UNSAFE_PLUGINS");
    if (allow_unsafe || (env && std::string(env) == "1")) return;
    check_plugin_path_safety(file.parent_path());
    check_plugin_path_safety(file);
}

void load_plugins(Registry& registry, const PluginSearch& search) {
    for (const auto& f : discover_plugin_files(search)) {
        check_trusted_library(f, search.allow_unsafe);
        load_plugin_library(registry, f);
    }
}

}  // namespace ntkssl::core
