// Building a sweep point and checking, before anything trains, that what it asks can work.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>

#include "ntkssl/core/dataset_preparation.hpp"
#include "ntkssl/core/metrics.hpp"
#include "ntkssl/core/ntk.hpp"
#include "ntkssl/core/problems.hpp"
#include "ntkssl/core/training.hpp"

namespace ntkssl::core {

namespace {

// Memory the machine offers: NTKSSL_MEMORY_LIMIT_MB when set (shared machines, tests), else
// MemAvailable of /proc/meminfo; 0 when unknown (then nothing is refused).
std::uint64_t available_memory_bytes() {
    if (const char* env = std::getenv("NTKSSL_MEMORY_LIMIT_MB")) return std::strtoull(env, nullptr, 10) << 20;
    std::ifstream in("/proc/meminfo");
    std::string key;
    std::uint64_t kib = 0;
    std::string unit;
    while (in >> key >> kib >> unit)
        if (key == "MemAvailable:") return kib << 10;
    return 0;
}

std::string mib(double bytes) {
    std::ostringstream os;
    os << std::fixed << std::setprecision(bytes < (1 << 20) ? 2 : 0) << bytes / (1 << 20) << " MiB";
    return os.str();
}

bool all_finite(const Matrix& m) {
    return std::all_of(m.begin(), m.end(), [](double v) { return std::isfinite(v); });
}

// Points that differ only in width (or anything but the data) load the same data: the last few
// prepared datasets are kept, keyed by the dataset's library, type, parameters and the seed —
// everything load() and the common options depend on (they draw only from the seed's streams).
class DatasetCache {
public:
    std::shared_ptr<const PreparedData> find(const std::string& key) {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto it = entries_.begin(); it != entries_.end(); ++it)
            if (it->first == key) {
                entries_.splice(entries_.begin(), entries_, it);  // most recently used first
                return entries_.front().second;
            }
        return nullptr;
    }
    void put(const std::string& key, std::shared_ptr<const PreparedData> data) {
        std::lock_guard<std::mutex> lock(mutex_);
        entries_.emplace_front(key, std::move(data));
        if (entries_.size() > kCapacity) entries_.pop_back();
    }

private:
    static constexpr std::size_t kCapacity = 4;
    std::mutex mutex_;
    std::list<std::pair<std::string, std::shared_ptr<const PreparedData>>> entries_;
};

DatasetCache& dataset_cache() {
    static DatasetCache cache;
    return cache;
}

// Loads the dataset and applies the common options (subset, holdout, normalize).
void load_data(PreparedPoint& pt, const Registry& registry) {
    const auto& ds = pt.pipeline.dataset;
    // The [dataset] table holds the plugin's parameters and the core's common options; check
    // the keys against both lists at once, then give each side its own.
    const Registry::Entry& ds_entry = registry.require(PluginKind::dataset, ds.type, ds.where);
    std::vector<ParamSpec> all_specs = ds_entry.info.parameters;
    const auto common_specs = Pipeline::dataset_common_parameters();
    all_specs.insert(all_specs.end(), common_specs.begin(), common_specs.end());
    Config(ds.section, ds.where, ds.params, all_specs);  // validates; throws ConfigError
    std::vector<Config::Entry> plugin_params, common_params;
    for (const auto& e : ds.params) {
        const bool common = std::any_of(common_specs.begin(), common_specs.end(), [&](const ParamSpec& p) { return p.name == e.key; });
        (common ? common_params : plugin_params).push_back(e);
    }
    const Config common(ds.section, ds.where, common_params, common_specs);

    std::string key = ds_entry.library->path + "\n" + ds.type + "\n" + std::to_string(pt.pipeline.seed);
    for (const auto& e : ds.params) key += "\n" + e.key + "=" + to_string(e.value);
    if (auto cached = dataset_cache().find(key)) {
        pt.data = cached->train;
        pt.heldout = cached->heldout;
        return;
    }

    const Rng root(static_cast<std::uint64_t>(pt.pipeline.seed));
    const auto dataset = registry.create<Dataset>(PluginKind::dataset, ds.type, ds.section, ds.where, plugin_params, BuildContext{});
    Rng data_rng = root.derive("dataset");
    DatasetData loaded = dataset.call("load", [&](const Dataset& d) { return d.load(data_rng); });
    const std::string from = dataset.context();
    NTKSSL_CHECK(loaded.x.shape(0) >= 1 && loaded.x.shape(1) >= 1, ShapeError,
                 from << ": load() returned an empty data set (" << loaded.x.shape(0) << "×" << loaded.x.shape(1) << ")");
    NTKSSL_CHECK(all_finite(loaded.x), NumericError, from << ": load() returned non-finite values");
    NTKSSL_CHECK(loaded.labels.empty() || loaded.labels.size() == loaded.x.shape(0), ShapeError,
                 from << ": load() returned " << loaded.labels.size() << " labels for " << loaded.x.shape(0) << " samples");
    if (loaded.sample_shape.empty()) loaded.sample_shape = {loaded.x.shape(1)};
    std::size_t shape_product = 1;
    for (auto s : loaded.sample_shape) shape_product *= s;
    NTKSSL_CHECK(shape_product == loaded.x.shape(1), ShapeError,
                 from << ": sample_shape has " << shape_product << " entries but samples have " << loaded.x.shape(1));
    auto prepared = std::make_shared<PreparedData>(prepare_dataset(std::move(loaded), common, root));
    pt.data = prepared->train;
    pt.heldout = prepared->heldout;
    dataset_cache().put(key, std::move(prepared));
}

// What the metrics, the optimizer and the kernel models ask of the data and the components.
void check_requests(PreparedPoint& pt, Problems& problems) {
    const ResolvedPipeline& p = pt.pipeline;
    const Config& m = p.measure;
    const Config& t = p.train;
    const auto metrics = m.get_string_list("metrics");
    const std::size_t n = pt.data.x.shape(0), held = pt.heldout.x.shape(0);
    const bool fixed_views = t.get_string("views") == "fixed";
    for (const auto& name : metrics) {
        const MetricInfo* info = find_metric(name);
        if (!info) continue;  // the choices of [measure] metrics already refused it
        problems.check([&] {
            m.require(!info->heldout || held > 0, "metrics",
                      "'" + name + "' needs held-out samples; set [dataset] holdout (e.g. holdout = 0.25)");
            m.require(!info->labels || (!pt.data.labels.empty() && !pt.heldout.labels.empty()), "metrics",
                      "'" + name + "' needs labels, and dataset '" + p.dataset.type + "' (" + p.dataset.where.str() + ") provides none");
            m.require(!(info->kernel || info->linearization) || fixed_views, "metrics",
                      "'" + name + "' trains a kernel-regime model on the training views, which needs [train] views = \"fixed\"");
        });
    }
    problems.check([&] {
        const auto probe = static_cast<std::size_t>(m.get_integer("probe_size"));
        const bool from_heldout = m.get_string("probe_from") == "heldout";
        const std::size_t available = from_heldout ? held : n;
        m.require(probe <= available, "probe_size",
                  "is larger than the " + std::string(from_heldout ? "held-out" : "training") + " set (" + std::to_string(available) +
                      " samples)");
    });
    problems.check([&] {
        const auto batch = t.get_integer("batch_size");
        t.require(batch == 0 || (batch >= 2 && static_cast<std::size_t>(batch) <= n), "batch_size",
                  "must be between 2 and the number of training samples (" + std::to_string(n) + ")");
    });
    problems.check([&] {
        const bool closed = m.get_string("kernel_model") == "closed_form";
        const bool wants_kernel_model = std::any_of(metrics.begin(), metrics.end(), [](const std::string& s) {
            const MetricInfo* i = find_metric(s);
            return i && i->kernel && s != "ntk_init_vs_limit" && s != "kernel_trace";
        });
        m.require(!(closed && wants_kernel_model) || pt.num_views >= 2, "kernel_model",
                  "closed_form (kernelized Barlow Twins) needs a loss of at least 2 views");
    });
}

// Refuse, with the estimate, a point that cannot fit, instead of dying halfway through it.
void check_memory(const PreparedPoint& pt) {
    const ResolvedPipeline& p = pt.pipeline;
    const ArchitectureDescription desc = pt.architecture.call("describe", [](const Architecture& a) { return a.describe(); });
    const double params = static_cast<double>(pt.architecture.call("num_parameters", [](const Architecture& a) { return a.num_parameters(); }));
    const double k = static_cast<double>(pt.architecture.call("output_dim", [](const Architecture& a) { return a.output_dim(); }));
    double units = 0;
    for (auto w : desc.hidden_widths) units += static_cast<double>(w);
    const double samples = static_cast<double>(pt.data.x.shape(0)), d = static_cast<double>(pt.data.x.shape(1));
    const double views = static_cast<double>(pt.num_views), probe = static_cast<double>(p.measure.get_integer("probe_size"));
    const auto metrics = p.measure.get_string_list("metrics");
    auto wants = [&](auto pred) { return std::any_of(metrics.begin(), metrics.end(), [&](const std::string& s) { return pred(s); }); };
    const bool ntk = wants([](const std::string& s) { return s == "ntk_relative_change" || s == "ntk_init_vs_limit"; });
    const bool lin = wants([](const std::string& s) { const auto* i = find_metric(s); return i && i->linearization; });
    const bool kern = wants([](const std::string& s) { const auto* i = find_metric(s); return i && i->kernel; });
    const double budget = static_cast<double>(p.measure.get_integer("ntk_memory_mb") << 20);
    // θ, θ_0, velocity, gradient and a temporary (5P); data, views and held-out views; the kept
    // forward passes of every view (≈ 4 activation matrices per hidden layer); the probe NTKs
    // (Θ_0, Θ_t); the linearization's (V·N·K)² kernel; the kernel model's Gram matrices.
    const double theta = 5 * params * 8;
    const double data = (1 + 2 * views) * (samples + static_cast<double>(pt.heldout.x.shape(0))) * d * 8;
    const double passes = views * 4 * samples * units * 8;
    const double ntks = ntk ? 2 * (probe * k) * (probe * k) * 8 + budget : 0.0;
    const double mz = views * samples;
    const double linearization = lin ? (mz * k) * (mz * k) * 8 + budget : 0.0;
    const double kernel = kern ? 4 * mz * mz * 8 : 0.0;
    const double total = theta + data + passes + ntks + linearization + kernel;
    const std::uint64_t available = available_memory_bytes();
    if (available > 0 && total > static_cast<double>(available)) {
        throw ConfigError(p.architecture.where.str() + ": this point needs about " + mib(total) + " (parameters " + mib(theta) +
                          ", data and views " + mib(data) + ", activations " + mib(passes) + ", NTK on the probe " + mib(ntks) +
                          (lin ? ", linearization " + mib(linearization) : std::string()) +
                          (kern ? ", kernel model " + mib(kernel) : std::string()) + ") but " + mib(static_cast<double>(available)) +
                          " are available; reduce the width, the dataset, measure.probe_size or measure.ntk_memory_mb");
    }
}

}  // namespace

PreparedPoint prepare_point(const ResolvedPipeline& pipeline, const Registry& registry) {
    PreparedPoint pt;
    pt.pipeline = pipeline;
    Problems problems;

    const auto& t = pipeline.train;
    const double time = t.get_real("time");
    pt.steps = time > 0 ? std::llround(time / t.get_real("learning_rate")) : t.get_integer("steps");

    // The loss needs nothing of the data: checked even when the data cannot be loaded.
    problems.check([&] {
        pt.loss = registry.create<Loss>(PluginKind::loss, pipeline.loss.type, pipeline.loss.section, pipeline.loss.where,
                                        pipeline.loss.params, BuildContext{});
        pt.num_views = pt.loss.call("views", [](const Loss& l) { return l.views(); });
        if (pt.num_views < 1)
            throw PluginError(pt.loss.context() + ": declares " + std::to_string(pt.num_views) + " views; at least 1 is needed");
    });
    if (!problems.check([&] { load_data(pt, registry); })) problems.throw_if_any();  // the rest needs the data's dimension
    const std::size_t d = pt.data.x.shape(1);
    BuildContext ctx;
    ctx.input_dim = d;
    ctx.sample_shape = pt.data.sample_shape;
    for (const auto& a : pipeline.augmentations)
        problems.check([&] {
            pt.augmentations.push_back(registry.create<Augmentation>(PluginKind::augmentation, a.type, a.section, a.where, a.params, ctx));
        });
    if (pt.loss) {
        problems.check([&] {
            const bool needs_labels = pt.loss.call("needs_labels", [](const Loss& l) { return l.needs_labels(); });
            if (needs_labels && pt.data.labels.empty()) {
                throw ConfigError(pipeline.loss.where.str() + ": loss '" + pipeline.loss.type + "' needs labels, but dataset '" +
                                  pipeline.dataset.type + "' (" + pipeline.dataset.where.str() + ") provides none");
            }
        });
    }
    problems.check([&] {
        pt.architecture = registry.create<Architecture>(PluginKind::architecture, pipeline.architecture.type,
                                                        pipeline.architecture.section, pipeline.architecture.where,
                                                        pipeline.architecture.params, ctx);
    });

    const auto metrics = pipeline.measure.get_string_list("metrics");
    const bool wants_kernel = std::any_of(metrics.begin(), metrics.end(), [](const std::string& s) {
        const MetricInfo* i = find_metric(s);
        return i && i->kernel;
    });
    if (pt.architecture && (wants_kernel || pipeline.kernel)) {
        problems.check([&] {
            const ArchitectureDescription desc = pt.architecture.call("describe", [](const Architecture& a) { return a.describe(); });
            BuildContext kctx = ctx;
            kctx.architecture = &desc;
            const ComponentSpec spec = pipeline.kernel ? *pipeline.kernel
                                                       : ComponentSpec{"kernel", "ntk_analytic", pipeline.measure.where("metrics"), {}};
            pt.kernel = registry.create<Kernel>(PluginKind::kernel, spec.type, spec.section, spec.where, spec.params, kctx);
        });
    }
    check_requests(pt, problems);
    if (pt.architecture && pt.loss) problems.check([&] { check_memory(pt); });
    if (pt.architecture && pipeline.measure.get_string("ntk") == "structured") {
        problems.check([&] {
            const bool has = pt.architecture.call("has_structured_ntk", [](const Architecture& a) { return a.has_structured_ntk(); });
            pipeline.measure.require(has, "ntk", "architecture '" + pipeline.architecture.type + "' has no structured NTK");
        });
    }
    problems.throw_if_any();

    pt.views = make_views(pt, 0);
    const auto probe_size = static_cast<std::size_t>(pipeline.measure.get_integer("probe_size"));
    const Matrix& probe_source = pipeline.measure.get_string("probe_from") == "heldout" ? pt.heldout.x : pt.data.x;
    pt.probe = take_rows(probe_source, 0, probe_size);
    return pt;
}

namespace {

// View v of `data`: every augmentation in order, augmentation a drawing from stream/v/a.
std::vector<Matrix> views_from_stream(const PreparedPoint& pt, const Matrix& data, const Rng& stream) {
    const std::size_t n = data.shape(0), d = data.shape(1);
    std::vector<Matrix> views;
    for (std::size_t v = 0; v < pt.num_views; ++v) {
        Matrix x = data;
        for (std::size_t a = 0; a < pt.augmentations.size(); ++a) {
            Rng r = stream.derive(v).derive(a);
            const auto& aug = pt.augmentations[a];
            x = aug.call("apply", [&](const Augmentation& g) { return g.apply(x, pt.data.sample_shape, r); });
            NTKSSL_CHECK(x.shape(0) == n && x.shape(1) == d, ShapeError,
                         aug.context() << ": apply() changed the shape from " << n << "×" << d << " to " << x.shape(0) << "×" << x.shape(1));
            NTKSSL_CHECK(all_finite(x), NumericError, aug.context() << ": apply() produced non-finite values");
        }
        views.push_back(std::move(x));
    }
    return views;
}

}  // namespace

std::vector<Matrix> make_views(const PreparedPoint& pt, std::uint64_t round) {
    return views_from_stream(pt, pt.data.x, Rng(static_cast<std::uint64_t>(pt.pipeline.seed)).derive("views").derive(round));
}

std::vector<Matrix> make_views_of(const PreparedPoint& pt, const Matrix& x, const std::string& stream) {
    return views_from_stream(pt, x, Rng(static_cast<std::uint64_t>(pt.pipeline.seed)).derive(stream));
}

}  // namespace ntkssl::core
