// Symbol visibility of the SDK library. Plugins are built with hidden visibility; the SDK's
// own classes (errors, Config, Rng) keep default visibility so that their type information is
// one object shared by the core and every plugin, which is what lets the core catch a
// plugin's ntkssl::ConfigError as a ConfigError.
#pragma once

#if defined(_WIN32)
#error "ntkssl supports ELF platforms (Linux) only"
#endif

#define NTKSSL_SDK_API __attribute__((visibility("default")))
#define NTKSSL_PLUGIN_EXPORT extern "C" __attribute__((visibility("default")))
