// The registry: every plugin the loader found, by kind and name, with the library it came from.
//
// The core never names a concrete plugin: it asks the registry for (kind, name) as the pipeline
// says. Objects it creates are returned as Component<T>, which (1) keeps the plugin's library
// loaded for as long as the object lives and (2) catches anything the plugin throws at the
// call and re-throws it, same error kind, with the plugin, library and pipeline location.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ntkssl/errors.hpp>
#include <ntkssl/plugin.hpp>

namespace ntkssl::core {

// A loaded plugin library. `handle` owns the OS handle (type-erased so that only the loader
// includes Boost.DLL); the library is unloaded when the last shared_ptr to it goes away.
struct Library {
    std::string path;
    std::string name;
    std::string version;
    std::string sdk_version;
    std::shared_ptr<void> handle;
};

// A plugin-created object plus its context. Every call into it goes through call().
template <class T>
class Component {
public:
    Component() = default;
    Component(std::shared_ptr<T> object, std::string context) : object_(std::move(object)), context_(std::move(context)) {}

    // Runs f(object) and re-throws whatever escapes with the component's context prepended.
    template <class F>
    decltype(auto) call(const char* what, F&& f) const {
        try {
            return f(static_cast<const T&>(*object_));
        } catch (const Error& e) {
            throw_error(e.kind(), context_ + ": " + what + ": " + e.what());
        } catch (const std::exception& e) {
            throw PluginError(context_ + ": " + what + ": " + e.what());
        } catch (...) {
            throw PluginError(context_ + ": " + what + ": a non-standard exception was thrown");
        }
    }
    const T& get() const { return *object_; }
    const std::string& context() const { return context_; }
    explicit operator bool() const { return static_cast<bool>(object_); }

private:
    std::shared_ptr<T> object_;
    std::string context_;
};

class Registry final : public Registrar {
public:
    struct Entry {
        // Declared first so that it is destroyed last: the factories below are code from the
        // library, and must go before the library may be unloaded.
        std::shared_ptr<const Library> library;
        PluginInfo info;
        Factory<Dataset> dataset;
        Factory<Augmentation> augmentation;
        Factory<Architecture> architecture;
        Factory<Loss> loss;
        Factory<Kernel> kernel;
    };

    // Registration (called from a library's callback while `current` is set by the loader).
    void begin_library(std::shared_ptr<const Library> library);
    void end_library();
    void add_dataset(PluginInfo info, Factory<Dataset> factory) override;
    void add_augmentation(PluginInfo info, Factory<Augmentation> factory) override;
    void add_architecture(PluginInfo info, Factory<Architecture> factory) override;
    void add_loss(PluginInfo info, Factory<Loss> factory) override;
    void add_kernel(PluginInfo info, Factory<Kernel> factory) override;

    // Lookup. find() returns nullptr when absent; names() lists a kind's registered names.
    const Entry* find(PluginKind kind, const std::string& name) const;
    std::vector<std::string> names(PluginKind kind) const;
    std::vector<const Entry*> entries() const;
    const std::vector<std::shared_ptr<const Library>>& libraries() const { return libraries_; }
    bool has_library(const std::string& canonical_path) const;

    // The entry for (kind, name), or a ConfigError at `where` that lists the registered names.
    const Entry& require(PluginKind kind, const std::string& name, const SourceLocation& where) const;

    // Builds the component's Config (validating the table against the declared parameters)
    // and constructs the object; failures name plugin, library and location.
    template <class T>
    Component<T> create(PluginKind kind, const std::string& name, const std::string& section,
                        const SourceLocation& where, std::vector<Config::Entry> params,
                        const BuildContext& ctx) const;

private:
    Entry& add(PluginInfo info);
    std::map<std::pair<PluginKind, std::string>, Entry> entries_;
    std::vector<std::shared_ptr<const Library>> libraries_;
    std::shared_ptr<const Library> current_;
};

// "loss 'barlow_twins' (library ntkssl.losses.barlow_twins 0.1.0, /path/lib.so)"
std::string describe_entry(const Registry::Entry& e);

template <class T>
const Factory<T>& factory_of(const Registry::Entry& e);

template <class T>
Component<T> Registry::create(PluginKind kind, const std::string& name, const std::string& section,
                              const SourceLocation& where, std::vector<Config::Entry> params,
                              const BuildContext& ctx) const {
    const Entry& e = require(kind, name, where);
    // Config validation errors already carry file:line:col and say which table; no prefix.
    Config cfg(section, where, std::move(params), e.info.parameters);
    const std::string context = describe_entry(e) + " at " + where.str();
    T* raw = nullptr;
    try {
        raw = factory_of<T>(e)(cfg, ctx).release();
    } catch (const ConfigError&) {
        throw;  // a parameter the plugin rejected: the message names the key's location
    } catch (const Error& err) {
        throw_error(err.kind(), context + ": construction failed: " + err.what());
    } catch (const std::exception& err) {
        throw PluginError(context + ": construction failed: " + err.what());
    } catch (...) {
        throw PluginError(context + ": construction failed: a non-standard exception was thrown");
    }
    if (!raw) throw PluginError(context + ": the factory returned no object");
    // The deleter holds the library: the object's destructor is code in that library.
    std::shared_ptr<const Library> lib = e.library;
    std::shared_ptr<T> object(raw, [lib](T* p) { delete p; });
    return Component<T>(std::move(object), context);
}

}  // namespace ntkssl::core
