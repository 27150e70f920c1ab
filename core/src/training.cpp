#include "ntkssl/core/training.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <set>
#include <sstream>

#include <ntkssl/linalg.hpp>

#include "ntkssl/core/dataset_preparation.hpp"
#include "ntkssl/core/ntk.hpp"

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

std::string at_step(std::int64_t step, double lr) {
    std::ostringstream os;
    os << "step " << step << " (t = " << lr * static_cast<double>(step) << ")";
    return os.str();
}

}  // namespace

PreparedPoint prepare_point(const ResolvedPipeline& pipeline, const Registry& registry) {
    PreparedPoint pt;
    pt.pipeline = pipeline;
    const Rng root(static_cast<std::uint64_t>(pipeline.seed));

    // The [dataset] table holds the plugin's parameters and the core's common options; check
    // the keys against both lists at once, then give each side its own.
    const auto& ds = pipeline.dataset;
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

    BuildContext ctx;
    const auto dataset = registry.create<Dataset>(PluginKind::dataset, ds.type, ds.section, ds.where, plugin_params, ctx);
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
    PreparedData prepared = prepare_dataset(std::move(loaded), common, root);
    pt.data = std::move(prepared.train);
    pt.heldout = std::move(prepared.heldout);
    const std::size_t n = pt.data.x.shape(0), d = pt.data.x.shape(1);

    ctx.input_dim = d;
    ctx.sample_shape = pt.data.sample_shape;
    for (const auto& a : pipeline.augmentations)
        pt.augmentations.push_back(registry.create<Augmentation>(PluginKind::augmentation, a.type, a.section, a.where, a.params, ctx));

    pt.loss = registry.create<Loss>(PluginKind::loss, pipeline.loss.type, pipeline.loss.section, pipeline.loss.where,
                                    pipeline.loss.params, ctx);
    const std::size_t num_views = pt.loss.call("views", [](const Loss& l) { return l.views(); });
    const bool needs_labels = pt.loss.call("needs_labels", [](const Loss& l) { return l.needs_labels(); });
    if (num_views < 1) throw PluginError(pt.loss.context() + ": declares " + std::to_string(num_views) + " views; at least 1 is needed");
    if (needs_labels && pt.data.labels.empty()) {
        throw ConfigError(pipeline.loss.where.str() + ": loss '" + pipeline.loss.type + "' needs labels, but dataset '" +
                          pipeline.dataset.type + "' (" + pipeline.dataset.where.str() + ") provides none");
    }

    pt.architecture = registry.create<Architecture>(PluginKind::architecture, pipeline.architecture.type,
                                                    pipeline.architecture.section, pipeline.architecture.where,
                                                    pipeline.architecture.params, ctx);

    pt.num_views = num_views;

    // Refuse, with the estimate, a point that cannot fit, instead of dying halfway through it:
    // θ, θ_0, the gradient and an update temporary (4P); the data and its views; a forward and
    // backward pass over every view (≈ 4 activation matrices per hidden layer); two probe NTKs
    // (Θ_0 and Θ_t) and the NTK's working budget.
    {
        const ArchitectureDescription desc = pt.architecture.call("describe", [](const Architecture& a) { return a.describe(); });
        const double params = static_cast<double>(pt.architecture.call("num_parameters", [](const Architecture& a) { return a.num_parameters(); }));
        const double k = static_cast<double>(pt.architecture.call("output_dim", [](const Architecture& a) { return a.output_dim(); }));
        double units = 0;
        for (auto w : desc.hidden_widths) units += static_cast<double>(w);
        const double samples = static_cast<double>(n), probe = static_cast<double>(pipeline.measure.get_integer("probe_size"));
        const double theta = 4 * params * 8, data = (1 + static_cast<double>(num_views)) * samples * static_cast<double>(d) * 8,
                     passes = static_cast<double>(num_views) * 4 * samples * units * 8;
        const auto metrics = pipeline.measure.get_string_list("metrics");
        const bool ntk = std::find(metrics.begin(), metrics.end(), "ntk_relative_change") != metrics.end();
        const double ntks = ntk ? 2 * (probe * k) * (probe * k) * 8 + static_cast<double>(pipeline.measure.get_integer("ntk_memory_mb") << 20) : 0.0;
        const double total = theta + data + passes + ntks;
        const std::uint64_t available = available_memory_bytes();
        if (available > 0 && total > static_cast<double>(available)) {
            throw ConfigError(pipeline.architecture.where.str() + ": this point needs about " + mib(total) + " (parameters " + mib(theta) +
                              ", data and views " + mib(data) + ", activations " + mib(passes) + ", NTK on the probe " + mib(ntks) +
                              ") but " + mib(static_cast<double>(available)) +
                              " are available; reduce the width, the dataset, measure.probe_size or measure.ntk_memory_mb");
        }
    }
    pt.views = make_views(pt, 0);

    const auto probe_size = static_cast<std::size_t>(pipeline.measure.get_integer("probe_size"));
    pipeline.measure.require(probe_size <= n, "probe_size",
                             "is larger than the data set (" + std::to_string(n) + " samples)");
    pt.probe = take_rows(pt.data.x, 0, probe_size);
    if (pipeline.measure.get_string("ntk") == "structured") {
        const bool has = pt.architecture.call("has_structured_ntk", [](const Architecture& a) { return a.has_structured_ntk(); });
        pipeline.measure.require(has, "ntk", "architecture '" + pipeline.architecture.type + "' has no structured NTK");
    }
    return pt;
}

std::vector<Matrix> make_views(const PreparedPoint& pt, std::uint64_t round) {
    const Rng views_rng = Rng(static_cast<std::uint64_t>(pt.pipeline.seed)).derive("views").derive(round);
    const std::size_t n = pt.data.x.shape(0), d = pt.data.x.shape(1);
    std::vector<Matrix> views;
    for (std::size_t v = 0; v < pt.num_views; ++v) {
        Matrix x = pt.data.x;
        for (std::size_t a = 0; a < pt.augmentations.size(); ++a) {
            Rng r = views_rng.derive(v).derive(a);
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

std::vector<MetricRecord> train_point(PreparedPoint& pt, PointProgress* progress, const std::atomic<bool>& stop) {
    const ResolvedPipeline& p = pt.pipeline;
    const auto steps = p.train.get_integer("steps");
    const double lr = p.train.get_real("learning_rate");
    const double divergence = p.train.get_real("divergence_factor");
    std::int64_t every = p.measure.get_integer("every");
    if (every == 0) every = std::max<std::int64_t>(1, steps / 10);
    const auto metrics = p.measure.get_string_list("metrics");
    const std::set<std::string> want(metrics.begin(), metrics.end());
    const NtkMethod method = parse_ntk_method(p.measure.get_string("ntk"));
    const std::size_t budget = static_cast<std::size_t>(p.measure.get_integer("ntk_memory_mb")) << 20;
    const auto& arch = pt.architecture;

    Vector theta;
    Rng init_rng = Rng(static_cast<std::uint64_t>(p.seed)).derive("init");
    arch.call("initialize", [&](const Architecture& a) {
        a.initialize(theta, init_rng);
        return 0;
    });
    const std::size_t num_params = arch.call("num_parameters", [](const Architecture& a) { return a.num_parameters(); });
    NTKSSL_CHECK(theta.size() == num_params, ShapeError,
                 arch.context() << ": initialize() made " << theta.size() << " parameters, num_parameters() says " << num_params);
    const Vector theta0 = theta;

    Matrix ntk0;
    double ntk0_norm = 0.0;
    if (want.count("ntk_relative_change")) {
        ntk0 = empirical_ntk(arch, theta0, pt.probe, pt.probe, method, budget);
        ntk0_norm = linalg::frobenius_norm(ntk0);
        NTKSSL_CHECK(ntk0_norm > 0 && std::isfinite(ntk0_norm), NumericError,
                     arch.context() << ": the NTK at initialization has norm " << ntk0_norm << " on the probe set");
    }

    std::vector<MetricRecord> records;
    if (progress) progress->total = steps;
    double initial_loss = 0.0;
    const std::size_t num_views = pt.views.size();
    std::vector<Matrix> z(num_views);

    const bool resample = p.train.get_string("views") == "resample";
    for (std::int64_t step = 0; step <= steps; ++step) {
        if (stop.load(std::memory_order_relaxed)) throw Interrupted{};
        if (resample && step > 0) pt.views = make_views(pt, static_cast<std::uint64_t>(step));
        const double t = lr * static_cast<double>(step);
        for (std::size_t v = 0; v < num_views; ++v) {
            z[v] = arch.call("forward", [&](const Architecture& a) { return a.forward(theta, pt.views[v]); });
            NTKSSL_CHECK(z[v].shape(0) == pt.views[v].shape(0), ShapeError,
                         arch.context() << ": forward() returned " << z[v].shape(0) << " rows for " << pt.views[v].shape(0) << " samples");
        }
        LossValue lv = pt.loss.call("evaluate", [&](const Loss& l) { return l.evaluate(z, pt.data.labels); });
        if (!std::isfinite(lv.value)) {
            throw NumericError("diverged at " + at_step(step, lr) + ": the loss is " + std::to_string(lv.value) +
                               "; try a smaller train.learning_rate");
        }
        if (step == 0) initial_loss = lv.value;
        if (std::fabs(lv.value) > divergence * (std::fabs(initial_loss) + 1.0)) {
            std::ostringstream os;
            os << "diverged at " << at_step(step, lr) << ": the loss " << lv.value << " exceeds " << divergence
               << " × (|initial loss| + 1) = " << divergence * (std::fabs(initial_loss) + 1.0) << "; try a smaller train.learning_rate";
            throw NumericError(os.str());
        }
        if (progress) {
            progress->step = step;
            progress->loss = lv.value;
        }

        if (step % every == 0 || step == steps) {
            if (want.count("loss")) records.push_back({step, t, "loss", lv.value});
            if (want.count("param_distance")) {
                double s = 0.0;
                for (std::size_t i = 0; i < theta.size(); ++i) s += (theta(i) - theta0(i)) * (theta(i) - theta0(i));
                records.push_back({step, t, "param_distance", std::sqrt(s)});
            }
            if (want.count("ntk_relative_change")) {
                const double change = step == 0 ? 0.0 : [&] {
                    Matrix diff = empirical_ntk(arch, theta, pt.probe, pt.probe, method, budget);
                    diff -= ntk0;
                    return linalg::frobenius_norm(diff) / ntk0_norm;
                }();
                records.push_back({step, t, "ntk_relative_change", change});
            }
        }
        if (step == steps) break;

        NTKSSL_CHECK(lv.gradients.size() == num_views, ShapeError,
                     pt.loss.context() << ": evaluate() returned " << lv.gradients.size() << " gradients for " << num_views << " views");
        Vector grad = xt::zeros<double>({theta.size()});
        for (std::size_t v = 0; v < num_views; ++v) {
            NTKSSL_CHECK(lv.gradients[v].shape() == z[v].shape(), ShapeError,
                         pt.loss.context() << ": the gradient of view " << v << " has shape " << lv.gradients[v].shape(0) << "×"
                                           << lv.gradients[v].shape(1) << ", the view's embedding " << z[v].shape(0) << "×" << z[v].shape(1));
            const Vector g = arch.call("backward", [&](const Architecture& a) { return a.backward(theta, pt.views[v], lv.gradients[v]); });
            NTKSSL_CHECK(g.size() == theta.size(), ShapeError,
                         arch.context() << ": backward() returned " << g.size() << " entries, θ has " << theta.size());
            grad += g;
        }
        theta -= lr * grad;
        if (!std::all_of(theta.begin(), theta.end(), [](double v) { return std::isfinite(v); })) {
            throw NumericError("diverged at " + at_step(step + 1, lr) + ": the parameters are no longer finite; try a smaller train.learning_rate");
        }
    }
    return records;
}

}  // namespace ntkssl::core
