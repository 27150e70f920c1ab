// Training one point and measuring it (see training.hpp for the update rules and streams).
#include "ntkssl/core/training.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <set>
#include <sstream>

#include <ntkssl/linalg.hpp>

#include "ntkssl/core/kernel_models.hpp"
#include "ntkssl/core/metrics.hpp"
#include "ntkssl/core/ntk.hpp"
#include "ntkssl/core/optimizer.hpp"
#include "ntkssl/core/representation.hpp"

namespace ntkssl::core {

namespace {

std::string at_step(std::int64_t step, double lr) {
    std::ostringstream os;
    os << "step " << step << " (t = " << lr * static_cast<double>(step) << ")";
    return os.str();
}

bool finite(const Matrix& m) {
    return std::all_of(m.begin(), m.end(), [](double v) { return std::isfinite(v); });
}
bool finite(const Vector& v) {
    return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
}

Matrix rows_of(const Matrix& x, const std::vector<std::size_t>& rows) {
    Matrix out = Matrix::from_shape({rows.size(), x.shape(1)});
    for (std::size_t i = 0; i < rows.size(); ++i) std::copy(&x(rows[i], 0), &x(rows[i], 0) + x.shape(1), &out(i, 0));
    return out;
}

Labels labels_of(const Labels& y, const std::vector<std::size_t>& rows) {
    if (y.empty()) return {};
    Labels out;
    for (auto r : rows) out.push_back(y[r]);
    return out;
}

Matrix stack(const std::vector<Matrix>& blocks) {
    std::size_t rows = 0;
    for (const auto& b : blocks) rows += b.shape(0);
    Matrix out = Matrix::from_shape({rows, blocks.front().shape(1)});
    std::size_t r = 0;
    for (const auto& b : blocks) {
        std::copy(b.begin(), b.end(), &out(r, 0));
        r += b.shape(0);
    }
    return out;
}

// The samples of each step: all of them, or (sgd) batches of shuffled epochs, the last
// incomplete batch of an epoch dropped.
class Batches {
public:
    Batches(std::size_t n, std::size_t batch, std::uint64_t seed) : n_(n), batch_(batch == 0 ? n : batch), seed_(seed) {}
    bool full() const { return batch_ == n_; }
    const std::vector<std::size_t>& at(std::int64_t step) {
        const std::size_t per_epoch = n_ / batch_;
        const auto epoch = static_cast<std::uint64_t>(step) / per_epoch, b = static_cast<std::uint64_t>(step) % per_epoch;
        if (full()) {
            if (rows_.empty())
                for (std::size_t i = 0; i < n_; ++i) rows_.push_back(i);
            return rows_;
        }
        if (epoch != epoch_ || order_.empty()) {
            order_.resize(n_);
            for (std::size_t i = 0; i < n_; ++i) order_[i] = i;
            Rng rng = Rng(seed_).derive("epochs").derive(epoch);
            for (std::size_t i = n_; i > 1; --i) std::swap(order_[i - 1], order_[rng.uniform_index(i)]);  // Fisher–Yates
            epoch_ = epoch;
        }
        rows_.assign(order_.begin() + static_cast<std::ptrdiff_t>(b * batch_), order_.begin() + static_cast<std::ptrdiff_t>((b + 1) * batch_));
        return rows_;
    }

private:
    std::size_t n_, batch_;
    std::uint64_t seed_, epoch_ = 0;
    std::vector<std::size_t> order_, rows_;
};

// ∂L/∂f of a function-space model: its outputs on Z (V blocks of N rows) restricted to the
// batch's rows, through the loss plugin; scattered back into an M×K gradient.
struct FunctionGradient {
    const Component<Loss>* loss;
    std::size_t views, n;
    const Labels* labels;

    Matrix operator()(const Matrix& f, const std::vector<std::size_t>& rows, double* value) const {
        std::vector<Matrix> z;
        for (std::size_t v = 0; v < views; ++v) {
            std::vector<std::size_t> r;
            for (auto i : rows) r.push_back(v * n + i);
            z.push_back(rows_of(f, r));
        }
        const Labels y = labels_of(*labels, rows);
        LossValue lv = loss->call("evaluate", [&](const Loss& l) { return l.evaluate(z, y); });
        NTKSSL_CHECK(lv.gradients.size() == views, ShapeError,
                     loss->context() << ": evaluate() returned " << lv.gradients.size() << " gradients for " << views << " views");
        if (value) *value = lv.value;
        Matrix g = xt::zeros<double>(f.shape());
        for (std::size_t v = 0; v < views; ++v) {
            NTKSSL_CHECK(lv.gradients[v].shape() == z[v].shape(), ShapeError, loss->context() << ": a gradient has the wrong shape");
            for (std::size_t i = 0; i < rows.size(); ++i)
                std::copy(&lv.gradients[v](i, 0), &lv.gradients[v](i, 0) + f.shape(1), &g(v * n + rows[i], 0));
        }
        return g;
    }
    double value(const Matrix& f) const {
        std::vector<std::size_t> all(n);
        for (std::size_t i = 0; i < n; ++i) all[i] = i;
        double v = 0;
        (*this)(f, all, &v);
        return v;
    }
};

// The kernel model of the kernel_model_* metrics, and what it predicts at the evaluation sets.
struct KernelModel {
    bool closed = false;
    std::optional<KernelDynamics> gd;
    KernelBarlowTwins kbt;
    Matrix velocity;
    // Cross kernels k(set, Z) and the network's f_0 at each set (the gd model starts there).
    Matrix cross_train, cross_heldout, cross_heldout_views;
    Matrix f0_train, f0_heldout, f0_heldout_views;

    Matrix on_z() const { return closed ? kbt.train_outputs : gd->outputs(); }
    Matrix at(const Matrix& cross, const Matrix& f0) const {
        return closed ? linalg::matmul(cross, kbt.coefficients) : gd->predict(cross, f0);
    }
    double norm() const { return std::sqrt(std::max(0.0, closed ? kbt.norm_squared : gd->norm_squared())); }
};

double ntk_relative_distance(const Matrix& a, const Matrix& b) {
    const Matrix d = a - b;
    return linalg::frobenius_norm(d) / linalg::frobenius_norm(b);
}

}  // namespace

std::vector<MetricRecord> train_point(PreparedPoint& pt, PointProgress* progress, const std::atomic<bool>& stop,
                                      const ArtifactSink& artifacts) {
    const ResolvedPipeline& p = pt.pipeline;
    const auto& arch = pt.architecture;
    const std::int64_t steps = pt.steps;
    Optimizer opt;
    opt.lr = p.train.get_real("learning_rate");
    opt.momentum = p.train.get_real("momentum");
    const std::string kind = p.train.get_string("optimizer");
    opt.kind = kind == "sgd" ? Optimizer::Kind::sgd : kind == "flow" ? Optimizer::Kind::flow : Optimizer::Kind::gd;
    const double lr = opt.lr, divergence = p.train.get_real("divergence_factor");
    const auto metric_list = p.measure.get_string_list("metrics");
    const std::set<std::string> want(metric_list.begin(), metric_list.end());
    auto wants_any = [&](auto pred) { return std::any_of(want.begin(), want.end(), [&](const std::string& m) { return pred(*find_metric(m)); }); };
    const bool want_kernel_model = wants_any([](const MetricInfo& m) {
        return m.kernel && std::string(m.name) != "ntk_init_vs_limit" && std::string(m.name) != "kernel_trace";
    });
    const bool want_linearization = want.count("linearization_gap") > 0;
    const bool want_heldout_loss = want.count("heldout_loss") || want.count("kernel_model_heldout_loss");
    const bool save_ntk = p.measure.get_bool("save_ntk") && artifacts;
    const bool want_probe_ntk = want.count("ntk_relative_change") || want.count("ntk_init_vs_limit") || save_ntk;
    const NtkMethod method = parse_ntk_method(p.measure.get_string("ntk"));
    const std::size_t budget = static_cast<std::size_t>(p.measure.get_integer("ntk_memory_mb")) << 20;
    const std::vector<std::int64_t> schedule = measurement_steps(steps, p.measure.get_integer("every"), p.measure.get_integer("count"),
                                                                 p.measure.get_string("spacing") == "log");
    const std::size_t n = pt.data.x.shape(0), num_views = pt.num_views;
    const auto t0 = std::chrono::steady_clock::now();

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
    const std::size_t k = arch.call("output_dim", [](const Architecture& a) { return a.output_dim(); });

    // Per-parameter learning-rate multipliers s ([train] lr_scaling = "parametrization").
    std::optional<Vector> scale;
    double uniform_scale = 1.0;  // the common multiplier of the trainable blocks, when there is one
    bool scale_uniform = true;
    if (p.train.get_string("lr_scaling") == "parametrization") {
        const auto blocks = arch.call("blocks", [](const Architecture& a) { return a.blocks(); });
        const auto mult = arch.call("learning_rate_multipliers", [](const Architecture& a) { return a.learning_rate_multipliers(); });
        NTKSSL_CHECK(mult.size() == blocks.size(), ShapeError,
                     arch.context() << ": learning_rate_multipliers() gave " << mult.size() << " factors for " << blocks.size() << " blocks");
        scale = Vector(xt::ones<double>({num_params}));
        bool first = true;
        for (std::size_t b = 0; b < blocks.size(); ++b) {
            NTKSSL_CHECK(mult[b] > 0 && std::isfinite(mult[b]), NumericError,
                         arch.context() << ": learning-rate multiplier of block '" << blocks[b].name << "' is " << mult[b]);
            std::size_t size = 1;
            for (auto s : blocks[b].shape) size *= s;
            NTKSSL_CHECK(blocks[b].offset + size <= num_params, ShapeError, arch.context() << ": block '" << blocks[b].name << "' exceeds θ");
            for (std::size_t i = 0; i < size; ++i) (*scale)(blocks[b].offset + i) = mult[b];
            if (!blocks[b].trainable) continue;
            if (first) uniform_scale = mult[b];
            scale_uniform = scale_uniform && (first || mult[b] == uniform_scale);
            first = false;
        }
    }
    const Vector* scale_ptr = scale ? &*scale : nullptr;

    // The network's loss and gradient on a batch of the current views.
    std::vector<std::unique_ptr<ForwardState>> states(num_views);
    struct Evaluation {
        double loss = 0;
        std::vector<Matrix> z;
    };
    auto forward_views = [&](const Vector& th, const std::vector<Matrix>& xs, bool keep) {
        std::vector<Matrix> z(xs.size());
        for (std::size_t v = 0; v < xs.size(); ++v) {
            z[v] = arch.call("forward", [&](const Architecture& a) {
                return keep ? a.forward_keep(th, xs[v], states[v]) : a.forward(th, xs[v]);
            });
            NTKSSL_CHECK(z[v].shape(0) == xs[v].shape(0) && z[v].shape(1) == k, ShapeError,
                         arch.context() << ": forward() returned " << z[v].shape(0) << "×" << z[v].shape(1) << " for " << xs[v].shape(0)
                                        << " samples and K = " << k);
        }
        return z;
    };
    auto evaluate = [&](const std::vector<Matrix>& z, const Labels& y) {
        return pt.loss.call("evaluate", [&](const Loss& l) { return l.evaluate(z, y); });
    };
    // ∇L into `grad` (overwritten), every view's backward pass adding in place.
    auto gradient = [&](const Vector& th, const std::vector<Matrix>& xs, const std::vector<Matrix>& z, const LossValue& lv, Vector& grad) {
        NTKSSL_CHECK(lv.gradients.size() == num_views, ShapeError,
                     pt.loss.context() << ": evaluate() returned " << lv.gradients.size() << " gradients for " << num_views << " views");
        if (grad.size() != num_params) grad = Vector::from_shape({num_params});
        grad.fill(0.0);
        for (std::size_t v = 0; v < num_views; ++v) {
            NTKSSL_CHECK(lv.gradients[v].shape() == z[v].shape(), ShapeError,
                         pt.loss.context() << ": the gradient of view " << v << " has shape " << lv.gradients[v].shape(0) << "×"
                                           << lv.gradients[v].shape(1) << ", the view's embedding " << z[v].shape(0) << "×" << z[v].shape(1));
            arch.call("backward", [&](const Architecture& a) {
                a.backward_accumulate(th, xs[v], lv.gradients[v], states[v].get(), grad);
                return 0;
            });
            NTKSSL_CHECK(grad.size() == num_params, ShapeError, arch.context() << ": backward() resized the gradient to " << grad.size());
        }
    };

    std::vector<MetricRecord> records;
    auto record = [&](std::int64_t step, const char* metric, double value) {
        records.push_back({step, lr * static_cast<double>(step), metric, value});
    };
    auto save = [&](std::int64_t step, const Matrix& m) {
        char name[32];
        std::snprintf(name, sizeof name, "s%08lld", static_cast<long long>(step));
        artifacts(name, m);
    };

    // The probe NTK at init, and its infinite-width limit.
    Matrix ntk0;
    double ntk0_norm = 0.0;
    if (want_probe_ntk) {
        ntk0 = empirical_ntk(arch, theta0, pt.probe, pt.probe, method, budget);
        ntk0_norm = linalg::frobenius_norm(ntk0);
        NTKSSL_CHECK(ntk0_norm > 0 && std::isfinite(ntk0_norm), NumericError,
                     arch.context() << ": the NTK at initialization has norm " << ntk0_norm << " on the probe set");
        if (save_ntk) save(0, ntk0);
    }
    if (want.count("ntk_init_vs_limit")) {
        const Matrix g = pt.kernel.call("gram", [&](const Kernel& kr) { return kr.gram(pt.probe, pt.probe); });
        Matrix limit = xt::zeros<double>(ntk0.shape());
        for (std::size_t a = 0; a < g.shape(0); ++a)
            for (std::size_t b = 0; b < g.shape(1); ++b)
                for (std::size_t o = 0; o < k; ++o) limit(a * k + o, b * k + o) = g(a, b);
        record(0, "ntk_init_vs_limit", ntk_relative_distance(ntk0, limit));
    }

    // Kernel-regime models over the training views Z (fixed views: checked when prepared).
    const Matrix z_inputs = (want_linearization || want_kernel_model || want.count("kernel_trace")) ? stack(pt.views) : Matrix();
    Matrix f0_z;
    if (z_inputs.size() > 0) f0_z = stack(forward_views(theta0, pt.views, false));
    const FunctionGradient fgrad{&pt.loss, num_views, n, &pt.data.labels};
    std::optional<KernelDynamics> linear;
    Matrix linear_velocity;
    if (want_linearization) {
        Matrix kernel = (scale && !scale_uniform) ? weighted_empirical_ntk(arch, theta0, z_inputs, z_inputs, *scale, budget)
                                                  : empirical_ntk(arch, theta0, z_inputs, z_inputs, method, budget);
        if (scale && scale_uniform) kernel *= uniform_scale;
        linear = KernelDynamics::full(std::move(kernel), f0_z);
    }
    std::optional<KernelModel> km;
    if (want_kernel_model || want.count("kernel_trace")) {
        const Matrix gz = pt.kernel.call("gram", [&](const Kernel& kr) { return kr.gram(z_inputs, z_inputs); });
        NTKSSL_CHECK(gz.shape(0) == z_inputs.shape(0) && gz.shape(1) == z_inputs.shape(0) && finite(gz), NumericError,
                     pt.kernel.context() << ": gram() on the training views is not a finite " << z_inputs.shape(0) << "×" << z_inputs.shape(0)
                                         << " matrix");
        double trace = 0;
        for (std::size_t i = 0; i < gz.shape(0); ++i) trace += gz(i, i);
        if (want.count("kernel_trace")) record(0, "kernel_trace", trace / static_cast<double>(gz.shape(0)));
        if (want_kernel_model) {
            km.emplace();
            km->closed = p.measure.get_string("kernel_model") == "closed_form";
            if (km->closed) km->kbt = fit_kernel_barlow_twins(gz, num_views, k, p.measure.get_real("kernel_ridge"));
            else km->gd = KernelDynamics::scalar(gz, f0_z);
            auto cross = [&](const Matrix& x) { return pt.kernel.call("gram", [&](const Kernel& kr) { return kr.gram(x, z_inputs); }); };
            if (want.count("kernel_model_probe_accuracy")) {
                km->cross_train = cross(pt.data.x);
                km->cross_heldout = cross(pt.heldout.x);
                km->f0_train = arch.call("forward", [&](const Architecture& a) { return a.forward(theta0, pt.data.x); });
                km->f0_heldout = arch.call("forward", [&](const Architecture& a) { return a.forward(theta0, pt.heldout.x); });
            }
        }
    }
    std::vector<Matrix> heldout_views;
    if (want_heldout_loss) heldout_views = make_views_of(pt, pt.heldout.x, "heldout_views");
    if (km && want.count("kernel_model_heldout_loss")) {
        const Matrix hv = stack(heldout_views);
        km->cross_heldout_views = pt.kernel.call("gram", [&](const Kernel& kr) { return kr.gram(hv, z_inputs); });
        km->f0_heldout_views = stack(forward_views(theta0, heldout_views, false));
    }
    const FunctionGradient heldout_fgrad{&pt.loss, num_views, pt.heldout.x.shape(0), &pt.heldout.labels};

    if (progress) progress->total = steps;
    double initial_loss = 0.0;
    const bool resample = p.train.get_string("views") == "resample";
    Batches batches(n, static_cast<std::size_t>(p.train.get_integer("batch_size")), static_cast<std::uint64_t>(p.seed));
    Vector velocity, grad;
    std::size_t next_measure = 0;

    for (std::int64_t step = 0; step <= steps; ++step) {
        if (stop.load(std::memory_order_relaxed)) throw Interrupted{};
        if (resample && step > 0) pt.views = make_views(pt, static_cast<std::uint64_t>(step));
        const auto& rows = batches.at(step);
        const std::vector<Matrix> xs = batches.full() ? pt.views : [&] {
            std::vector<Matrix> b;
            for (const auto& v : pt.views) b.push_back(rows_of(v, rows));
            return b;
        }();
        const Labels ys = batches.full() ? pt.data.labels : labels_of(pt.data.labels, rows);
        std::vector<Matrix> z = forward_views(theta, xs, step < steps);
        LossValue lv = evaluate(z, ys);
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
            progress->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        }

        if (next_measure < schedule.size() && schedule[next_measure] == step) {
            ++next_measure;
            // The network on every training sample (the step's batch may be a part of them).
            std::vector<Matrix> z_all = batches.full() ? z : forward_views(theta, pt.views, false);
            const double full_loss = batches.full() ? lv.value : evaluate(z_all, pt.data.labels).value;
            if (want.count("loss")) record(step, "loss", full_loss);
            if (want.count("param_distance")) {
                double s = 0.0;
                for (std::size_t i = 0; i < theta.size(); ++i) s += (theta(i) - theta0(i)) * (theta(i) - theta0(i));
                record(step, "param_distance", std::sqrt(s));
            }
            if (want.count("ntk_relative_change") || (save_ntk && step > 0)) {
                const Matrix ntk = step == 0 ? ntk0 : empirical_ntk(arch, theta, pt.probe, pt.probe, method, budget);
                if (want.count("ntk_relative_change")) record(step, "ntk_relative_change", step == 0 ? 0.0 : ntk_relative_distance(ntk, ntk0));
                if (save_ntk && step > 0) save(step, ntk);
            }
            const Matrix f_z = (linear || km) ? stack(z_all) : Matrix();
            if (linear) record(step, "linearization_gap", linalg::frobenius_norm(Matrix(f_z - linear->outputs())) / linalg::frobenius_norm(f_z));
            if (km) {
                const Matrix g_z = km->on_z();
                if (want.count("kernel_model_gap")) record(step, "kernel_model_gap", relative_gram_distance(f_z, g_z));
                if (want.count("kernel_model_cka")) record(step, "kernel_model_cka", linear_cka(f_z, g_z));
                if (want.count("kernel_model_loss")) record(step, "kernel_model_loss", fgrad.value(g_z));
                if (want.count("kernel_model_norm")) record(step, "kernel_model_norm", km->norm());
                if (want.count("kernel_model_heldout_loss"))
                    record(step, "kernel_model_heldout_loss", heldout_fgrad.value(km->at(km->cross_heldout_views, km->f0_heldout_views)));
                if (want.count("kernel_model_probe_accuracy")) {
                    record(step, "kernel_model_probe_accuracy",
                           linear_probe_accuracy(km->at(km->cross_train, km->f0_train), pt.data.labels,
                                                 km->at(km->cross_heldout, km->f0_heldout), pt.heldout.labels, p.measure.get_real("probe_ridge")));
                }
            }
            if (want.count("heldout_loss")) record(step, "heldout_loss", evaluate(forward_views(theta, heldout_views, false), pt.heldout.labels).value);
            if (want.count("probe_accuracy")) {
                const Matrix ft = arch.call("forward", [&](const Architecture& a) { return a.forward(theta, pt.data.x); });
                const Matrix fh = arch.call("forward", [&](const Architecture& a) { return a.forward(theta, pt.heldout.x); });
                record(step, "probe_accuracy", linear_probe_accuracy(ft, pt.data.labels, fh, pt.heldout.labels, p.measure.get_real("probe_ridge")));
            }
        }
        if (step == steps) break;

        // The network's step.
        gradient(theta, xs, z, lv, grad);
        opt.step(theta, velocity, grad, scale_ptr, [&](const Vector& th) {
            const std::vector<Matrix> zt = forward_views(th, xs, true);
            const LossValue lt = evaluate(zt, ys);
            NTKSSL_CHECK(std::isfinite(lt.value), NumericError, "diverged in the second stage of " << at_step(step, lr) << ": the loss is " << lt.value);
            Vector g2;
            gradient(th, xs, zt, lt, g2);
            return g2;
        });
        if (!finite(theta)) {
            throw NumericError("diverged at " + at_step(step + 1, lr) + ": the parameters are no longer finite; try a smaller train.learning_rate");
        }
        // The kernel-regime models take the same step in function space.
        auto model_step = [&](KernelDynamics& model, Matrix& vel, const char* what) {
            const Matrix g = fgrad(model.outputs(), rows, nullptr);
            opt.step(model.beta(), vel, g, static_cast<const Matrix*>(nullptr),
                     [&](const Matrix& beta) { return fgrad(model.outputs(beta), rows, nullptr); });
            NTKSSL_CHECK(finite(model.beta()), NumericError,
                         "the " << what << " diverged at " << at_step(step + 1, lr) << "; try a smaller train.learning_rate");
        };
        if (linear) model_step(*linear, linear_velocity, "linearized model");
        if (km && !km->closed) model_step(*km->gd, km->velocity, "kernel model");
    }
    return records;
}

}  // namespace ntkssl::core
