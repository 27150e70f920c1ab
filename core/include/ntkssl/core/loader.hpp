// Finding and loading plugin libraries (the only part of ntkssl that uses Boost.DLL).
//
// Discovery order: the pipeline's [pipeline] plugin_paths (relative to the pipeline file),
// then the directories in NTKSSL_PLUGIN_PATH (':'-separated), then the default plugin
// directory of the installation, <dir of the executable>/../lib/ntkssl/plugins. A path may
// name a directory (every regular *.so file in it, in name order) or one library file.
// A library reached twice (same canonical path) is loaded once.
//
// A plugin is code that runs with the user's rights, so by default a library is refused when it,
// or the directory it is found in, is writable by group or others, or is owned by someone other
// than the user or root (docs/robustness.md). `allow_unsafe` (--allow-unsafe-plugins, or
// NTKSSL_ALLOW_UNSAFE_PLUGINS=1) turns the check off for users who trust everyone who can write there.
//
// Each library is opened with RTLD_NOW | RTLD_LOCAL. Before any C++ object crosses, the loader
// checks the descriptor's ABI version, struct size and toolchain tag, and refuses a mismatch
// with an AbiError that names the file and both sides' values.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "ntkssl/core/registry.hpp"

namespace ntkssl::core {

struct PluginSearch {
    std::vector<std::filesystem::path> explicit_paths;  // pipeline plugin_paths / --plugin-path
    bool use_environment = true;                         // NTKSSL_PLUGIN_PATH
    bool use_default = true;                             // next to the executable
    bool allow_unsafe = false;                           // skip the ownership/permission check
};

// Throws PluginError naming the path when it (a library or its directory) could be changed by
// someone other than the user or root.
void check_plugin_path_safety(const std::filesystem::path& path);

// The same check for a library file and its directory, unless `allow_unsafe` or
// NTKSSL_ALLOW_UNSAFE_PLUGINS=1 waives it: for every plugin, and for the ntkssl-mpi that
// `mpirun ntkssl` starts.
void check_trusted_library(const std::filesystem::path& file, bool allow_unsafe);

// The library files the search finds, in discovery order (no duplicates).
std::vector<std::filesystem::path> discover_plugin_files(const PluginSearch& search);

// Loads one library and registers its plugins; throws PluginError / AbiError naming the file.
void load_plugin_library(Registry& registry, const std::filesystem::path& file);

// discover + load every file.
void load_plugins(Registry& registry, const PluginSearch& search);

// <dir of the running executable>/../lib/ntkssl/plugins
std::filesystem::path default_plugin_directory();

}  // namespace ntkssl::core
