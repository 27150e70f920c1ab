#include "ntkssl/core/registry.hpp"

#include <algorithm>

namespace ntkssl::core {

void Registry::begin_library(std::shared_ptr<const Library> library) {
    current_ = std::move(library);
}

void Registry::end_library() {
    libraries_.push_back(current_);
    current_.reset();
}

bool Registry::has_library(const std::string& canonical_path) const {
    return std::any_of(libraries_.begin(), libraries_.end(),
                       [&](const auto& l) { return l->path == canonical_path; });
}

Registry::Entry& Registry::add(PluginInfo info) {
    if (!current_) throw PluginError("a plugin registered '" + info.name + "' outside of its library's registration callback");
    if (info.name.empty()) throw PluginError("plugin library '" + current_->path + "' registered a " +
                                             to_string(info.kind) + " with an empty name");
    const auto key = std::make_pair(info.kind, info.name);
    if (auto it = entries_.find(key); it != entries_.end()) {
        const std::string first = it->second.library->path;
        throw PluginError(std::string(to_string(info.kind)) + " '" + info.name + "' is registered by two libraries: '" +
                          first + "' and '" + current_->path + "'; remove one of them from the plugin path");
    }
    Entry& e = entries_[key];
    e.library = current_;
    e.info = std::move(info);
    return e;
}

void Registry::add_dataset(PluginInfo info, Factory<Dataset> f) {
    // These keys belong to the core in every [dataset] table (Pipeline::dataset_common_parameters).
    for (const auto& p : info.parameters)
        for (const char* reserved : {"subset", "subset_mode", "holdout", "normalize", "type"})
            if (p.name == reserved)
                throw PluginError("dataset '" + info.name + "' declares the parameter '" + p.name +
                                  "', which ntkssl reserves for its common dataset options (subset, subset_mode, holdout, normalize)");
    add(std::move(info)).dataset = std::move(f);
}
void Registry::add_augmentation(PluginInfo info, Factory<Augmentation> f) {
    add(std::move(info)).augmentation = std::move(f);
}
void Registry::add_architecture(PluginInfo info, Factory<Architecture> f) {
    add(std::move(info)).architecture = std::move(f);
}
void Registry::add_loss(PluginInfo info, Factory<Loss> f) { add(std::move(info)).loss = std::move(f); }
void Registry::add_kernel(PluginInfo info, Factory<Kernel> f) { add(std::move(info)).kernel = std::move(f); }

const Registry::Entry* Registry::find(PluginKind kind, const std::string& name) const {
    const auto it = entries_.find({kind, name});
    return it == entries_.end() ? nullptr : &it->second;
}

std::vector<std::string> Registry::names(PluginKind kind) const {
    std::vector<std::string> out;
    for (const auto& [key, e] : entries_)
        if (key.first == kind) out.push_back(key.second);
    return out;
}

std::vector<const Registry::Entry*> Registry::entries() const {
    std::vector<const Entry*> out;
    for (const auto& [key, e] : entries_) out.push_back(&e);
    return out;
}

const Registry::Entry& Registry::require(PluginKind kind, const std::string& name, const SourceLocation& where) const {
    if (const Entry* e = find(kind, name)) return *e;
    std::string known;
    for (const auto& n : names(kind)) known += (known.empty() ? "" : ", ") + n;
    if (known.empty()) known = "(none: no " + std::string(to_string(kind)) + " plugin was found on the plugin path)";
    throw ConfigError(where.str() + ": unknown " + to_string(kind) + " '" + name + "'; registered " + to_string(kind) +
                      " plugins: " + known + ". (Plugins come from [pipeline] plugin_paths, NTKSSL_PLUGIN_PATH and " +
                      "the installation's plugin directory; `ntkssl plugins list` shows what was found.)");
}

std::string describe_entry(const Registry::Entry& e) {
    return std::string(to_string(e.info.kind)) + " '" + e.info.name + "' (library " + e.library->name + " " +
           e.library->version + ", " + e.library->path + ")";
}

template <>
const Factory<Dataset>& factory_of<Dataset>(const Registry::Entry& e) { return e.dataset; }
template <>
const Factory<Augmentation>& factory_of<Augmentation>(const Registry::Entry& e) { return e.augmentation; }
template <>
const Factory<Architecture>& factory_of<Architecture>(const Registry::Entry& e) { return e.architecture; }
template <>
const Factory<Loss>& factory_of<Loss>(const Registry::Entry& e) { return e.loss; }
template <>
const Factory<Kernel>& factory_of<Kernel>(const Registry::Entry& e) { return e.kernel; }

}  // namespace ntkssl::core
