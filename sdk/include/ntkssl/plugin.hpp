// The plugin boundary: how a shared library tells ntkssl what it provides.
//
// WHAT IT REPRESENTS: a plugin library exports exactly one C function, `ntkssl_plugin_entry`,
// which returns a plain descriptor (below). The core reads the descriptor's ABI version and
// size before anything else, then the toolchain tag, and only when all three match does it
// call the registration callback, which registers factories explicitly (no static
// initialisers). A library is written like this:
//
//     #include <ntkssl/ntkssl.hpp>
//     class MyLoss final : public ntkssl::Loss {
//     public:
//         static std::vector<ntkssl::ParamSpec> parameters();  // declared parameters
//         explicit MyLoss(const ntkssl::Config& cfg);          // or (cfg, const BuildContext&)
//         ntkssl::LossValue evaluate(const std::vector<ntkssl::Matrix>& views,
//                                    const ntkssl::Labels& labels) const override;
//     };
//     NTKSSL_PLUGIN("my_losses", "1.0.0") {
//         ntkssl::register_plugin<MyLoss>(registrar, "my_loss", "one line that says what it is");
//     }
//
// and built with `ntkssl_add_plugin(my_losses SOURCES my_loss.cpp)` from the CMake package.
//
// GUARANTEES of the core: a library stays loaded while any object it created is alive;
// exceptions thrown by a factory or method are caught at the call and reported with the
// plugin's name, library and pipeline location; two libraries registering the same
// (kind, name) are refused with both paths in the message.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ntkssl/architecture.hpp"
#include "ntkssl/augmentation.hpp"
#include "ntkssl/config.hpp"
#include "ntkssl/context.hpp"
#include "ntkssl/dataset.hpp"
#include "ntkssl/export.hpp"
#include "ntkssl/kernel.hpp"
#include "ntkssl/loss.hpp"
#include "ntkssl/version.hpp"

#define NTKSSL_STRINGIFY_(x) #x
#define NTKSSL_STRINGIFY(x) NTKSSL_STRINGIFY_(x)

// What must agree between the core and a plugin for C++ objects to cross: the C++ ABI of the
// compiler, the standard library and its string ABI, and the xtensor version (Matrix layout).
#if defined(_LIBCPP_VERSION)
#define NTKSSL_STDLIB_TAG "libc++-" NTKSSL_STRINGIFY(_LIBCPP_VERSION)
#else
#define NTKSSL_STDLIB_TAG "libstdc++-cxx11abi" NTKSSL_STRINGIFY(_GLIBCXX_USE_CXX11_ABI)
#endif
#define NTKSSL_TOOLCHAIN_TAG                                                               \
    "gxxabi" NTKSSL_STRINGIFY(__GXX_ABI_VERSION) ";" NTKSSL_STDLIB_TAG ";xtensor" NTKSSL_STRINGIFY( \
        XTENSOR_VERSION_MAJOR) "." NTKSSL_STRINGIFY(XTENSOR_VERSION_MINOR)

extern "C" {
// Plain data only: this struct is read before the core trusts anything else in the library.
// Never reorder fields; append new ones and bump NTKSSL_ABI_VERSION.
struct ntkssl_plugin_descriptor {
    std::uint32_t abi_version;  // NTKSSL_ABI_VERSION the library was built with
    std::uint32_t struct_size;  // sizeof(ntkssl_plugin_descriptor) in the library
    const char* sdk_version;    // NTKSSL_VERSION of the SDK it was built against
    const char* toolchain;      // NTKSSL_TOOLCHAIN_TAG
    const char* library_name;
    const char* library_version;
    void (*register_plugins)(void* registrar);  // registrar is an ntkssl::Registrar*
};
}

#define NTKSSL_PLUGIN_ENTRY_NAME "ntkssl_plugin_entry"

namespace ntkssl {

enum class PluginKind { dataset, augmentation, architecture, loss, kernel };
NTKSSL_SDK_API const char* to_string(PluginKind kind) noexcept;

template <class T>
using Factory = std::function<std::unique_ptr<T>(const Config&, const BuildContext&)>;

struct PluginInfo {
    PluginKind kind;
    std::string name;
    std::string summary;  // one line
    std::vector<ParamSpec> parameters;
};

// Implemented by the core; plugins only call it from their registration callback.
class Registrar {
public:
    virtual ~Registrar() = default;
    virtual void add_dataset(PluginInfo info, Factory<Dataset> factory) = 0;
    virtual void add_augmentation(PluginInfo info, Factory<Augmentation> factory) = 0;
    virtual void add_architecture(PluginInfo info, Factory<Architecture> factory) = 0;
    virtual void add_loss(PluginInfo info, Factory<Loss> factory) = 0;
    virtual void add_kernel(PluginInfo info, Factory<Kernel> factory) = 0;
};

namespace detail {
template <class T>
std::unique_ptr<T> construct(const Config& cfg, const BuildContext& ctx) {
    if constexpr (std::is_constructible_v<T, const Config&, const BuildContext&>) {
        return std::make_unique<T>(cfg, ctx);
    } else {
        static_assert(std::is_constructible_v<T, const Config&>,
                      "a plugin class must be constructible from (const ntkssl::Config&) or "
                      "(const ntkssl::Config&, const ntkssl::BuildContext&)");
        return std::make_unique<T>(cfg);
    }
}
}  // namespace detail

// Registers class T under `name`. T derives from one of the five kinds and has a static
// `std::vector<ParamSpec> parameters()`.
template <class T>
void register_plugin(Registrar& registrar, std::string name, std::string summary) {
    auto make = [](const Config& cfg, const BuildContext& ctx) { return detail::construct<T>(cfg, ctx); };
    if constexpr (std::is_base_of_v<Dataset, T>) {
        registrar.add_dataset({PluginKind::dataset, std::move(name), std::move(summary), T::parameters()},
                              Factory<Dataset>(make));
    } else if constexpr (std::is_base_of_v<Augmentation, T>) {
        registrar.add_augmentation(
            {PluginKind::augmentation, std::move(name), std::move(summary), T::parameters()},
            Factory<Augmentation>(make));
    } else if constexpr (std::is_base_of_v<Architecture, T>) {
        registrar.add_architecture(
            {PluginKind::architecture, std::move(name), std::move(summary), T::parameters()},
            Factory<Architecture>(make));
    } else if constexpr (std::is_base_of_v<Loss, T>) {
        registrar.add_loss({PluginKind::loss, std::move(name), std::move(summary), T::parameters()},
                           Factory<Loss>(make));
    } else {
        static_assert(std::is_base_of_v<Kernel, T>,
                      "a plugin class must derive from Dataset, Augmentation, Architecture, Loss "
                      "or Kernel");
        registrar.add_kernel({PluginKind::kernel, std::move(name), std::move(summary), T::parameters()},
                             Factory<Kernel>(make));
    }
}

}  // namespace ntkssl

// Defines the library's entry point; the braces that follow are the registration callback,
// with `registrar` (an ntkssl::Registrar&) in scope. Use once per library.
#define NTKSSL_PLUGIN(LIBRARY_NAME, LIBRARY_VERSION)                                          \
    static void ntkssl_register_plugins_(::ntkssl::Registrar& registrar);                     \
    static void ntkssl_register_plugins_thunk_(void* registrar) {                             \
        ntkssl_register_plugins_(*static_cast<::ntkssl::Registrar*>(registrar));              \
    }                                                                                         \
    NTKSSL_PLUGIN_EXPORT const ntkssl_plugin_descriptor* ntkssl_plugin_entry();               \
    NTKSSL_PLUGIN_EXPORT const ntkssl_plugin_descriptor* ntkssl_plugin_entry() {              \
        static const ntkssl_plugin_descriptor descriptor = {                                  \
            NTKSSL_ABI_VERSION,                                                               \
            static_cast<std::uint32_t>(sizeof(ntkssl_plugin_descriptor)),                     \
            NTKSSL_VERSION,                                                                   \
            NTKSSL_TOOLCHAIN_TAG,                                                             \
            LIBRARY_NAME,                                                                     \
            LIBRARY_VERSION,                                                                  \
            &ntkssl_register_plugins_thunk_};                                                 \
        return &descriptor;                                                                   \
    }                                                                                         \
    static void ntkssl_register_plugins_(::ntkssl::Registrar& registrar)
