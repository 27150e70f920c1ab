// The only TOML++ user in ntkssl.
#include "ntkssl/core/pipeline.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include <toml++/toml.h>

#include <ntkssl/errors.hpp>

#include "ntkssl/core/metrics.hpp"
#include "ntkssl/core/problems.hpp"
#include "ntkssl/core/toml_guard.hpp"

namespace ntkssl::core {

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kSections = {"pipeline", "dataset", "augmentation", "architecture", "loss",
                                            "kernel",   "train",   "sweep",        "measure",      "report"};
// Sections a sweep can replace as a whole, by a list of variant tables.
const std::vector<std::string> kVariantSections = {"dataset", "architecture", "loss", "kernel", "train", "measure"};



SourceLocation location(const toml::source_region& r) {
    SourceLocation loc;
    loc.file = r.path ? *r.path : std::string("<input>");
    loc.line = static_cast<int>(r.begin.line);
    loc.column = static_cast<int>(r.begin.column);
    return loc;
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
}

// The document as plain data with a location on every node. TOML++ does not keep source
// positions when a node is copied, and every sweep point needs its own copy.
struct Node {
    enum class Kind { value, table, tables };
    Kind kind = Kind::table;
    SourceLocation where;
    Value value;                                     // Kind::value
    std::vector<std::pair<std::string, Node>> items;  // Kind::table, in file order
    std::vector<Node> elements;                       // Kind::tables ([[x]])

    Node* find(const std::string& key) {
        for (auto& [k, n] : items)
            if (k == key) return &n;
        return nullptr;
    }
    const Node* find(const std::string& key) const { return const_cast<Node*>(this)->find(key); }
};

// TOML value → SDK Value: scalars and homogeneous arrays of scalars.
Value to_value(const toml::node& node, const std::string& key) {
    const SourceLocation where = location(node.source());
    if (auto b = node.as_boolean()) return b->get();
    if (auto i = node.as_integer()) return static_cast<std::int64_t>(i->get());
    if (auto f = node.as_floating_point()) return f->get();
    if (auto s = node.as_string()) return s->get();
    if (auto arr = node.as_array()) {
        if (arr->empty()) return std::vector<std::int64_t>{};
        bool all_int = true, all_num = true, all_str = true;
        for (const auto& e : *arr) {
            all_int = all_int && e.is_integer();
            all_num = all_num && (e.is_integer() || e.is_floating_point());
            all_str = all_str && e.is_string();
        }
        if (all_int) {
            std::vector<std::int64_t> v;
            for (const auto& e : *arr) v.push_back(e.as_integer()->get());
            return v;
        }
        if (all_num) {
            std::vector<double> v;
            for (const auto& e : *arr)
                v.push_back(e.is_integer() ? static_cast<double>(e.as_integer()->get()) : e.as_floating_point()->get());
            return v;
        }
        if (all_str) {
            std::vector<std::string> v;
            for (const auto& e : *arr) v.push_back(e.as_string()->get());
            return v;
        }
        throw ConfigError(where.str() + ": '" + key + "' is an array that mixes types or nests arrays; " +
                          "use a flat list of numbers or of strings");
    }
    throw ConfigError(where.str() + ": '" + key + "' has a value of a type ntkssl does not take here " +
                      "(dates and times are not parameters)");
}

Node convert(const toml::node& n, const std::string& key) {
    Node out;
    out.where = location(n.source());
    if (const auto* t = n.as_table()) {
        out.kind = Node::Kind::table;
        // TOML++ keeps keys sorted; restore the file's order.
        for (const auto& [k, child] : *t) {
            Node c = convert(child, key + "." + std::string(k.str()));
            // A key = value pair is located at its key: that is where a user looks.
            if (c.kind == Node::Kind::value && k.source().path) c.where = location(k.source());
            out.items.emplace_back(std::string(k.str()), std::move(c));
        }
        std::stable_sort(out.items.begin(), out.items.end(), [](const auto& a, const auto& b) {
            return std::make_pair(a.second.where.line, a.second.where.column) <
                   std::make_pair(b.second.where.line, b.second.where.column);
        });
    } else if (const auto* a = n.as_array(); a && !a->empty() && a->is_array_of_tables()) {
        out.kind = Node::Kind::tables;
        for (std::size_t i = 0; i < a->size(); ++i) out.elements.push_back(convert(*a->get(i), key));
    } else {
        out.kind = Node::Kind::value;
        out.value = to_value(n, key);
    }
    return out;
}

std::vector<std::string> split_key(const std::string& dotted) {
    std::vector<std::string> parts;
    std::stringstream ss(dotted);
    std::string p;
    while (std::getline(ss, p, '.')) parts.push_back(p);
    if (!dotted.empty() && dotted.back() == '.') parts.push_back("");
    return parts;
}

bool is_index(const std::string& s) {
    return !s.empty() && s.size() < 9 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// Sets `dotted` (e.g. "architecture.width" or "augmentation.0.sigma") in the document.
void set_dotted(Node& root, const std::string& dotted, const Value& value, const SourceLocation& where) {
    const auto parts = split_key(dotted);
    if (parts.size() < 2 || std::any_of(parts.begin(), parts.end(), [](const auto& p) { return p.empty(); })) {
        throw ConfigError(where.str() + ": '" + dotted + "' is not a dotted key of the form section.key (e.g. architecture.width)");
    }
    if (std::find(kSections.begin(), kSections.end(), parts[0]) == kSections.end() || parts[0] == "sweep") {
        throw ConfigError(where.str() + ": '" + dotted + "' does not start with a section ntkssl knows; valid sections: " +
                          "pipeline, dataset, augmentation, architecture, loss, kernel, train, measure, report");
    }
    Node* cur = &root;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        const std::string& p = parts[i];
        if (cur->kind == Node::Kind::table) {
            Node* next = cur->find(p);
            if (!next) {
                Node t;
                t.kind = Node::Kind::table;
                t.where = where;
                cur->items.emplace_back(p, std::move(t));
                next = &cur->items.back().second;
            }
            cur = next;
        } else if (cur->kind == Node::Kind::tables) {
            if (!is_index(p) || std::stoul(p) >= cur->elements.size()) {
                throw ConfigError(where.str() + ": '" + dotted + "': '" + p + "' is not an index of the " +
                                  std::to_string(cur->elements.size()) + " [[" + parts[i - 1] + "]] tables (0-based)");
            }
            cur = &cur->elements[std::stoul(p)];
        } else {
            throw ConfigError(where.str() + ": '" + dotted + "': '" + parts[i - 1] + "' is a value, not a table");
        }
    }
    if (cur->kind != Node::Kind::table) {
        throw ConfigError(where.str() + ": '" + dotted + "' does not name a key inside a table" +
                          (cur->kind == Node::Kind::tables ? " (index the [[...]] tables: e.g. augmentation.0.sigma)" : ""));
    }
    Node leaf;
    leaf.kind = Node::Kind::value;
    leaf.where = where;
    leaf.value = value;
    if (Node* existing = cur->find(parts.back())) *existing = std::move(leaf);
    else cur->items.emplace_back(parts.back(), std::move(leaf));
}

// Entries of a table (every key except `skip`), refusing nested tables.
std::vector<Config::Entry> entries_of(const Node& t, const std::string& section, const std::vector<std::string>& skip) {
    std::vector<Config::Entry> out;
    for (const auto& [key, node] : t.items) {
        if (std::find(skip.begin(), skip.end(), key) != skip.end()) continue;
        if (node.kind != Node::Kind::value) {
            throw ConfigError(node.where.str() + ": '" + section + "." + key + "' is a table, but [" + section +
                              "] takes no sub-table '" + key + "'");
        }
        out.push_back({key, node.value, node.where});
    }
    return out;
}

const Node* section_table(const Node& root, const std::string& section) {
    const Node* n = root.find(section);
    if (n && n->kind != Node::Kind::table)
        throw ConfigError(n->where.str() + ": '" + section + "' must be a table ([" + section + "])");
    return n;
}

Config core_config(const Node& root, const std::string& section, std::vector<ParamSpec> specs, const std::string& file,
                   const std::vector<std::string>& skip = {}) {
    SourceLocation where{file, 0, 0};
    std::vector<Config::Entry> entries;
    if (const Node* n = section_table(root, section)) {
        where = n->where;
        entries = entries_of(*n, section, skip);
    }
    return Config(section, where, std::move(entries), std::move(specs));
}

ComponentSpec component(const Node& t, const std::string& section) {
    ComponentSpec c;
    c.section = section;
    c.where = t.where;
    const Node* type = t.find("type");
    if (!type) throw ConfigError(t.where.str() + ": [" + section + "] has no 'type' key; it must name a registered plugin");
    if (type->kind != Node::Kind::value || !std::holds_alternative<std::string>(type->value))
        throw ConfigError(type->where.str() + ": " + section + ".type must be a string naming a plugin");
    c.type = std::get<std::string>(type->value);
    c.where = type->where;
    c.params = entries_of(t, section, {"type"});
    return c;
}

ComponentSpec required_component(const Node& root, const std::string& section, const std::string& file) {
    const Node* n = section_table(root, section);
    if (!n) throw ConfigError(file + ": the pipeline has no [" + section + "] table; it needs one with a 'type'");
    return component(*n, section);
}

std::string toml_key(const std::string& k) {
    const bool bare = !k.empty() && std::all_of(k.begin(), k.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '_' || c == '-';
    });
    return bare ? k : to_string(Value{k});
}

void render(std::ostream& os, const Node& t, const std::string& prefix) {
    for (const auto& [k, n] : t.items)
        if (n.kind == Node::Kind::value) os << toml_key(k) << " = " << to_string(n.value) << "\n";
    for (const auto& [k, n] : t.items) {
        const std::string name = prefix.empty() ? toml_key(k) : prefix + "." + toml_key(k);
        if (n.kind == Node::Kind::table) {
            os << "\n[" << name << "]\n";
            render(os, n, name);
        } else if (n.kind == Node::Kind::tables) {
            for (const auto& e : n.elements) {
                os << "\n[[" << name << "]]\n";
                render(os, e, name);
            }
        }
    }
}

}  // namespace

struct Pipeline::Impl {
    fs::path file;
    Node root;
    std::vector<SweepAxis> sweep;
    std::map<std::size_t, std::vector<Node>> variants;  // axis index → its tables
};

Pipeline::Pipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Pipeline::~Pipeline() = default;
Pipeline::Pipeline(Pipeline&&) noexcept = default;
Pipeline& Pipeline::operator=(Pipeline&&) noexcept = default;

std::vector<ParamSpec> Pipeline::pipeline_parameters() {
    return {
        ParamSpec::string("name", "", "name of the study (default: the file name without .toml)"),
        ParamSpec::integer("schema", 1, "pipeline schema version; this ntkssl reads schema 1"),
        ParamSpec::integer("seed", 0, "seed of every random stream of a point (data, views, init)"),
        ParamSpec::string_list("plugin_paths", {}, "extra plugin directories or files, relative to this file"),
    };
}
std::vector<ParamSpec> Pipeline::train_parameters() {
    return {
        ParamSpec::integer("steps", 200, "number of optimizer steps (unless time is given)"),
        ParamSpec::real("time", 0.0, "training time horizon T; when > 0, steps = round(T / learning_rate) (flow mode)"),
        ParamSpec::real("learning_rate", 0.1, "step size η; the time axis is t = η·step"),
        ParamSpec::string("optimizer", "gd",
                          "gd: full-batch gradient descent; sgd: mini-batch SGD over shuffled epochs; "
                          "flow: Heun's second-order steps of the gradient flow dθ/dt = −∇L (two gradients a step)",
                          {"gd", "sgd", "flow"}),
        ParamSpec::real("momentum", 0.0, "heavy-ball momentum μ (gd, sgd): v ← μ v + ∇L, θ ← θ − η v"),
        ParamSpec::integer("batch_size", 0, "sgd: samples per mini-batch (0: all samples)"),
        ParamSpec::string("lr_scaling", "none",
                          "none: one η for every parameter; parametrization: each block's η times the architecture's "
                          "multiplier (mean-field: ×width; standard: ×a_l², which trains like the ntk parametrization)",
                          {"none", "parametrization"}),
        ParamSpec::string("views", "fixed",
                          "fixed: the augmented views are drawn once (the paper's finite set of pairs); "
                          "resample: new views every step",
                          {"fixed", "resample"}),
        ParamSpec::real("divergence_factor", 1e6,
                        "a point fails as diverged when its loss exceeds this factor times the initial loss (plus 1)"),
    };
}
std::vector<ParamSpec> Pipeline::measure_parameters() {
    return {
        ParamSpec::integer("every", 0, "measure every this many steps (0: `count` times, spaced by `spacing`), and at the last step"),
        ParamSpec::integer("count", 10, "with every = 0: the number of measurements after step 0"),
        ParamSpec::string("spacing", "linear", "with every = 0: linear or log (geometric) spacing of the measured steps",
                          {"linear", "log"}),
        ParamSpec::integer("probe_size", 16, "number of samples the NTK is measured on (the first ones of probe_from)"),
        ParamSpec::string("probe_from", "train", "where the probe samples come from: the training samples or the held-out ones",
                          {"train", "heldout"}),
        ParamSpec::string_list("metrics", {"loss", "param_distance", "ntk_relative_change"}, "what to measure (docs/outputs.md)",
                               metric_names()),
        ParamSpec::string("ntk", "auto",
                          "auto: the architecture's structured NTK if it has one; generic: Jacobian contraction; "
                          "structured: refuse architectures without one",
                          {"auto", "generic", "structured"}),
        ParamSpec::integer("ntk_memory_mb", 512, "working-memory budget of the empirical NTK (either path), in MiB"),
        ParamSpec::boolean("save_ntk", false, "write the probe NTK at every measurement to ntk/pNNNN-sSSSSSSS.npy"),
        ParamSpec::string("kernel_model", "gd",
                          "the kernel model of kernel_model_* metrics: gd: the [kernel] trained like the network in function "
                          "space from the network's f_0 (the infinite-width network for ntk_analytic); closed_form: "
                          "kernelized Barlow Twins, the minimum-norm representation with C = I",
                          {"gd", "closed_form"}),
        ParamSpec::real("kernel_ridge", 0.0, "closed_form: ridge r = kernel_ridge · mean(diag 𝐊) added to the Gram matrix"),
        ParamSpec::real("probe_ridge", 1e-6, "linear probe: ridge λ relative to the mean squared feature, λ = probe_ridge · tr(FᵀF)/K"),
    };
}
std::vector<ParamSpec> Pipeline::dataset_common_parameters() {
    return {
        ParamSpec::integer("subset", 0, "use this many samples (0: all)"),
        ParamSpec::string("subset_mode", "random",
                          "random: a seeded random subset; stratified: as equal a share of every label as possible "
                          "(needs labels); first: the first samples",
                          {"random", "stratified", "first"}),
        ParamSpec::real("holdout", 0.0, "fraction of the (subset) samples held out from training, chosen at random"),
        ParamSpec::string("normalize", "none",
                          "none; unit_interval: (x − min)/(max − min) over the training samples; standardize: each "
                          "feature to mean 0, std 1 over the training samples; sphere: each sample to norm 1",
                          {"none", "unit_interval", "standardize", "sphere"}),
    };
}

std::vector<ParamSpec> Pipeline::report_parameters() {
    return {
        ParamSpec::string("scaling_key", "architecture.width", "swept key whose scaling summary.json fits (log-log)"),
        ParamSpec::string("replicate_key", "pipeline.seed", "swept key whose values are replicates (mean and spread)"),
        ParamSpec::real("confidence", 0.95, "confidence level of the slope intervals"),
        ParamSpec::integer("bootstrap", 2000, "resamples of the replicates for the bootstrap interval of each slope (0: none)"),
        ParamSpec::boolean("plots", true, "render plots/ with gnuplot (the data and scripts are written either way)"),
    };
}

Pipeline Pipeline::load(const fs::path& file, const std::vector<std::string>& overrides) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw ConfigError(file.string() + ": cannot open the pipeline file");
    std::ostringstream text;
    text << in.rdbuf();
    return parse(text.str(), file, overrides);
}

Pipeline Pipeline::parse(const std::string& text, const fs::path& file, const std::vector<std::string>& overrides) {
    auto impl = std::make_unique<Impl>();
    impl->file = file;
    const std::string path = file.string();
    check_toml_preconditions(text, path);
    try {
        const toml::table doc = toml::parse(text, path);
        impl->root = convert(doc, "");
    } catch (const toml::parse_error& e) {
        throw ConfigError(location(e.source()).str() + ": malformed TOML: " + std::string(e.description()));
    }
    Node& root = impl->root;

    for (const auto& [key, node] : root.items) {
        if (std::find(kSections.begin(), kSections.end(), key) == kSections.end()) {
            throw ConfigError(node.where.str() + ": unknown section '" + key + "'; valid sections: " + join(kSections));
        }
    }

    for (const auto& o : overrides) {
        const auto eq = o.find('=');
        const SourceLocation where{"--set " + o, 0, 0};
        if (eq == std::string::npos || eq == 0) throw ConfigError(where.str() + ": expected --set key=value (e.g. --set train.steps=100)");
        const std::string key = o.substr(0, eq), value_text = o.substr(eq + 1);
        Value value;
        try {
            const std::string doc = "v = " + value_text;
            check_toml_preconditions(doc, "--set " + o);
            const toml::table t = toml::parse(doc, "--set " + o);
            value = to_value(*t.get("v"), key);
        } catch (const toml::parse_error&) {
            value = value_text;  // a bare word is a string: --set loss.preset=original
        } catch (const ConfigError&) {
            value = value_text;  // not TOML either (e.g. a non-ASCII bare word): a string
        }
        if (key.rfind("sweep.", 0) == 0) {
            if (type_of(value) != ParamType::integer_list && type_of(value) != ParamType::real_list &&
                type_of(value) != ParamType::string_list) {
                throw ConfigError(where.str() + ": a sweep axis takes a list of values, e.g. --set 'sweep.pipeline.seed=[1,2]'");
            }
            Node* sweep = root.find("sweep");
            if (!sweep) {
                root.items.emplace_back("sweep", Node{});
                sweep = &root.items.back().second;
                sweep->where = where;
            }
            Node leaf;
            leaf.kind = Node::Kind::value;
            leaf.where = where;
            leaf.value = value;
            const std::string axis = key.substr(6);
            if (Node* existing = sweep->find(axis)) *existing = std::move(leaf);
            else sweep->items.emplace_back(axis, std::move(leaf));
            continue;
        }
        set_dotted(root, key, value, where);
    }

    if (const Node* s = section_table(root, "sweep")) {
        for (const auto& [key, node] : s->items) {
            SweepAxis axis;
            axis.key = key;
            axis.where = node.where;
            if (axis.key.rfind("pipeline.plugin_paths", 0) == 0) throw ConfigError(axis.where.str() + ": '" + axis.key + "' cannot be swept");
            if (node.kind == Node::Kind::tables || (node.kind == Node::Kind::table && key.find('.') == std::string::npos)) {
                // Component variants: "loss" = [{type = "barlow_twins"}, {type = "vicreg"}].
                if (std::find(kVariantSections.begin(), kVariantSections.end(), key) == kVariantSections.end()) {
                    throw ConfigError(axis.where.str() + ": sweep axis '" + key + "' lists tables, but only these sections can be swept " +
                                      "as whole variants: " + join(kVariantSections));
                }
                if (node.kind != Node::Kind::tables)
                    throw ConfigError(axis.where.str() + ": sweep axis '" + key + "' must be a list of tables, e.g. [{type = \"vicreg\"}]");
                axis.variants = true;
                std::vector<Node> tables;
                for (std::size_t i = 0; i < node.elements.size(); ++i) {
                    Node t = node.elements[i];
                    std::string label;
                    if (Node* l = t.find("label")) {
                        if (l->kind != Node::Kind::value || !std::holds_alternative<std::string>(l->value))
                            throw ConfigError(l->where.str() + ": a variant's label must be a string");
                        label = std::get<std::string>(l->value);
                        t.items.erase(std::remove_if(t.items.begin(), t.items.end(), [](const auto& kv) { return kv.first == "label"; }),
                                      t.items.end());
                    } else if (const Node* type = t.find("type"); type && type->kind == Node::Kind::value &&
                                                                   std::holds_alternative<std::string>(type->value)) {
                        label = std::get<std::string>(type->value);
                    } else {
                        label = key + std::to_string(i);
                    }
                    for (const auto& v : axis.values)
                        if (std::get<std::string>(v) == label)
                            throw ConfigError(t.where.str() + ": two variants of '" + key + "' are labelled '" + label +
                                              "'; give each one its own label = \"...\"");
                    axis.values.push_back(Value{label});
                    tables.push_back(std::move(t));
                }
                if (tables.empty()) throw ConfigError(axis.where.str() + ": sweep axis '" + axis.key + "' is empty");
                impl->variants[impl->sweep.size()] = std::move(tables);
                impl->sweep.push_back(std::move(axis));
                continue;
            }
            const auto t = node.kind == Node::Kind::value ? type_of(node.value) : ParamType::boolean;
            const bool list = t == ParamType::integer_list || t == ParamType::real_list || t == ParamType::string_list;
            if (!list) {
                throw ConfigError(axis.where.str() + ": sweep axis '" + axis.key +
                                  "' must be a list of values, e.g. [64, 256, 1024] (write dotted keys in quotes: \"architecture.width\" = [...])");
            }
            std::visit([&](const auto& v) {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, std::vector<std::int64_t>> || std::is_same_v<T, std::vector<double>> ||
                              std::is_same_v<T, std::vector<std::string>>) {
                    for (const auto& x : v) axis.values.push_back(Value{x});
                }
            }, node.value);
            if (axis.values.empty()) throw ConfigError(axis.where.str() + ": sweep axis '" + axis.key + "' is empty");
            impl->sweep.push_back(std::move(axis));
        }
    }
    std::size_t points = 1;
    for (const auto& a : impl->sweep) {
        points *= a.values.size();
        if (points > max_points) {
            throw ConfigError(a.where.str() + ": the sweep has more than " + std::to_string(max_points) +
                              " points; split the study into several pipelines");
        }
    }

    Pipeline p(std::move(impl));
    // Resolve every point now: errors surface at load time, not halfway through a sweep, and
    // all of them at once (each distinct problem once).
    Problems problems;
    for (std::size_t i = 0; i < p.num_points(); ++i) problems.check([&] { p.resolve(i); });
    problems.throw_if_any();
    return p;
}

const fs::path& Pipeline::file() const { return impl_->file; }
const std::vector<SweepAxis>& Pipeline::sweep() const { return impl_->sweep; }

std::size_t Pipeline::num_points() const {
    std::size_t n = 1;
    for (const auto& a : impl_->sweep) n *= a.values.size();
    return n;
}

std::vector<Value> Pipeline::point_values(std::size_t index) const {
    std::vector<Value> out(impl_->sweep.size());
    for (std::size_t i = impl_->sweep.size(); i-- > 0;) {
        const auto& axis = impl_->sweep[i];
        out[i] = axis.values[index % axis.values.size()];
        index /= axis.values.size();
    }
    return out;
}

ResolvedPipeline Pipeline::resolve(std::size_t index) const {
    Node root = impl_->root;
    root.items.erase(std::remove_if(root.items.begin(), root.items.end(), [](const auto& kv) { return kv.first == "sweep"; }),
                     root.items.end());
    const auto values = point_values(index);
    // Whole-table variants first, so that dotted keys can refine them.
    for (std::size_t i = 0; i < values.size(); ++i) {
        const auto& axis = impl_->sweep[i];
        if (!axis.variants) continue;
        const auto& tables = impl_->variants.at(i);
        const std::size_t which = static_cast<std::size_t>(
            std::find(axis.values.begin(), axis.values.end(), values[i]) - axis.values.begin());
        Node table = tables[which];
        // Keys of other sections ride along with the variant: "train.learning_rate" = 0.01, or
        // a sub-table named after a section, train = { learning_rate = 0.01 }.
        std::vector<std::pair<std::string, const Node*>> elsewhere;
        const Node original = table;
        table.items.clear();
        for (const auto& [k, n] : original.items) {
            const bool section = n.kind == Node::Kind::table && std::find(kSections.begin(), kSections.end(), k) != kSections.end();
            if (section) {
                for (const auto& [kk, nn] : n.items) {
                    if (nn.kind != Node::Kind::value)
                        throw ConfigError(nn.where.str() + ": a variant's " + k + " table may hold only values");
                    elsewhere.emplace_back(k + "." + kk, &nn);
                }
            } else if (k.find('.') != std::string::npos && n.kind == Node::Kind::value) {
                elsewhere.emplace_back(k, &n);
            } else {
                table.items.emplace_back(k, n);
            }
        }
        if (Node* existing = root.find(axis.key)) *existing = std::move(table);
        else root.items.emplace_back(axis.key, std::move(table));
        for (const auto& [k, n] : elsewhere) set_dotted(root, k, n->value, n->where);
    }
    for (std::size_t i = 0; i < values.size(); ++i)
        if (!impl_->sweep[i].variants) set_dotted(root, impl_->sweep[i].key, values[i], impl_->sweep[i].where);

    const std::string file = impl_->file.string();
    ResolvedPipeline r;
    Problems problems;
    problems.check([&] {
        const Config pipeline = core_config(root, "pipeline", pipeline_parameters(), file);
        r.name = pipeline.get_string("name");
        pipeline.require(pipeline.get_integer("schema") == 1, "schema", "this ntkssl reads schema 1");
        r.seed = pipeline.get_integer("seed");
    });
    if (r.name.empty()) r.name = impl_->file.stem().string();
    problems.check([&] { r.plugin_paths = plugin_paths(); });
    problems.check([&] { r.dataset = required_component(root, "dataset", file); });
    problems.check([&] { r.architecture = required_component(root, "architecture", file); });
    problems.check([&] { r.loss = required_component(root, "loss", file); });
    problems.check([&] {
        if (const Node* k = section_table(root, "kernel")) r.kernel = component(*k, "kernel");
    });
    problems.check([&] {
        if (const Node* a = root.find("augmentation")) {
            if (a->kind != Node::Kind::tables)
                throw ConfigError(a->where.str() + ": 'augmentation' must be an array of tables ([[augmentation]])");
            for (std::size_t i = 0; i < a->elements.size(); ++i)
                r.augmentations.push_back(component(a->elements[i], "augmentation[" + std::to_string(i) + "]"));
        }
    });
    problems.check([&] {
        r.train = core_config(root, "train", train_parameters(), file);
        const auto& t = r.train;
        t.require(t.get_integer("steps") >= 1, "steps", "must be at least 1");
        const double lr = t.get_real("learning_rate");
        t.require(lr > 0 && std::isfinite(lr), "learning_rate", "must be a positive finite number");
        const double time = t.get_real("time");
        t.require(time >= 0 && std::isfinite(time), "time", "must be >= 0 (0: use steps)");
        t.require(!(time > 0 && t.has("steps")), "time", "give either steps or time, not both");
        t.require(time == 0 || std::llround(time / lr) >= 1, "time", "is shorter than one step of learning_rate");
        t.require(time == 0 || std::llround(time / lr) <= 100000000, "time", "needs more than 10^8 steps of learning_rate");
        const double mu = t.get_real("momentum");
        t.require(mu >= 0 && mu < 1, "momentum", "must be in [0, 1)");
        t.require(mu == 0 || t.get_string("optimizer") != "flow", "momentum", "does not apply to optimizer = \"flow\"");
        t.require(t.get_integer("batch_size") >= 0, "batch_size", "must be >= 0 (0: all samples)");
        t.require(t.get_integer("batch_size") == 0 || t.get_string("optimizer") == "sgd", "batch_size",
                  "only applies to optimizer = \"sgd\"");
        t.require(t.get_real("divergence_factor") > 1, "divergence_factor", "must be > 1");
    });
    problems.check([&] {
        r.measure = core_config(root, "measure", measure_parameters(), file, {"expect"});
        const auto& m = r.measure;
        m.require(m.get_integer("every") >= 0, "every", "must be >= 0 (0: `count` times per run)");
        m.require(m.get_integer("count") >= 1, "count", "must be at least 1");
        m.require(m.get_integer("probe_size") >= 1, "probe_size", "must be at least 1");
        m.require(m.get_integer("ntk_memory_mb") >= 1, "ntk_memory_mb", "must be at least 1");
        m.require(m.get_real("kernel_ridge") >= 0, "kernel_ridge", "must be >= 0");
        m.require(m.get_real("probe_ridge") > 0, "probe_ridge", "must be > 0");
    });
    problems.check([&] {
        r.report = core_config(root, "report", report_parameters(), file, {"expect"});
        const double conf = r.report.get_real("confidence");
        r.report.require(conf > 0 && conf < 1, "confidence", "must be strictly between 0 and 1");
        r.report.require(r.report.get_integer("bootstrap") >= 0 && r.report.get_integer("bootstrap") <= 100000, "bootstrap",
                         "must be between 0 and 100000");
    });

    problems.check([&] {
        const Node* meas = section_table(root, "measure");
        const Node* ex = meas ? meas->find("expect") : nullptr;
        if (!ex) return;
        if (ex->kind != Node::Kind::table) throw ConfigError(ex->where.str() + ": measure.expect must be a table ([measure.expect])");
        for (const auto& [metric, node] : ex->items) {
            if (!find_metric(metric)) {
                throw ConfigError(node.where.str() + ": measure.expect names an unknown metric '" + metric + "'; metrics: " +
                                  join(metric_names()));
            }
            if (node.kind == Node::Kind::value)
                throw ConfigError(node.where.str() + ": measure.expect." + metric + " must be a table such as { slope_max = -0.4 }, " +
                                  "or a list of them");
            std::vector<const Node*> tables;
            if (node.kind == Node::Kind::table) tables.push_back(&node);
            for (const auto& t : node.elements) tables.push_back(&t);
            for (const Node* t : tables) {
                Expectation e;
                e.metric = metric;
                e.where = t->where;
                const std::string section = "measure.expect." + metric;
                if (const Node* w = t->find("where")) {
                    if (w->kind != Node::Kind::table)
                        throw ConfigError(w->where.str() + ": " + section + ".where must be a table of swept keys and values, e.g. " +
                                          "where = { \"architecture.parametrization\" = \"ntk\" }");
                    for (const auto& [k, v] : w->items) {
                        if (v.kind != Node::Kind::value) throw ConfigError(v.where.str() + ": " + section + ".where." + k + " must be a value");
                        e.only.emplace_back(k, v.value);
                    }
                }
                const Config c(section, e.where, entries_of(*t, section, {"where"}),
                               {ParamSpec::real("slope_max", 0.0, "the fitted log-log slope must lie below this"),
                                ParamSpec::real("slope_min", 0.0, "the fitted log-log slope must lie above this")});
                if (c.has("slope_max")) e.slope_max = c.get_real("slope_max");
                if (c.has("slope_min")) e.slope_min = c.get_real("slope_min");
                c.require(e.slope_max || e.slope_min, "slope_max", "state slope_max and/or slope_min");
                r.expectations.push_back(std::move(e));
            }
        }
    });
    problems.check([&] {
        const Node* rep = section_table(root, "report");
        if (const Node* ex = rep ? rep->find("expect") : nullptr)
            throw ConfigError(ex->where.str() + ": expectations moved to [measure.expect] (same syntax: metric = { slope_max = -0.4 })");
    });
    problems.throw_if_any();
    return r;
}

std::vector<fs::path> Pipeline::plugin_paths() const {
    std::vector<fs::path> out;
    const Config pipeline = core_config(impl_->root, "pipeline", pipeline_parameters(), impl_->file.string());
    const fs::path base = fs::absolute(impl_->file).parent_path();
    for (const auto& p : pipeline.get_string_list("plugin_paths")) {
        fs::path path(p);
        out.push_back(path.is_absolute() ? path : base / path);
    }
    return out;
}

std::string Pipeline::resolved_toml() const {
    std::ostringstream os;
    render(os, impl_->root, "");
    return os.str();
}

std::string Pipeline::fingerprint() const {
    // FNV-1a 64 of the effective pipeline text: identifies "the same study" for --resume.
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : resolved_toml()) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    std::ostringstream os;
    os << std::hex << h;
    return os.str();
}

}  // namespace ntkssl::core
