// Finite-difference checks for plugin authors: the first piece of the SDK's contract kit.
//
// WHAT IT CHECKS: that the gradient a loss or an architecture returns is the gradient of the
// value it returns, by central differences
//
//     ∂f/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / 2h,   h = step · max(1, |x_i|),
//
// whose error is O(h²) (truncation) + O(ε_mach·|f|/h) (rounding): about 1e-10 relative for
// step = 1e-5 in double precision, far below the 1e-6 a correct gradient is held to and far
// above what a wrong one (a missing term, a transposed matrix, a factor of 2) produces.
//
// The error reported is norm-wise: max_i |g_i − fd_i| / max(max_i |fd_i|, floor). It does not
// blow up on entries that happen to be near zero.
//
// USAGE (any test framework; with doctest):
//     auto r = ntkssl::testing::check_loss_gradient(loss, {z1, z2}, {});
//     CHECK_MESSAGE(r.max_relative_error < 1e-6, r.describe());
//
// Header-only, and it uses nothing but the SDK, so it builds into a plugin author's tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

#include <ntkssl/architecture.hpp>
#include <ntkssl/loss.hpp>
#include <ntkssl/random.hpp>

namespace ntkssl::testing {

struct GradientCheck {
    double max_relative_error = 0.0;  // norm-wise, see above
    double max_abs_error = 0.0;
    double gradient_scale = 0.0;      // max |fd_i|
    std::size_t worst_index = 0;      // flat index of the largest error
    std::size_t checked = 0;          // number of coordinates compared
    std::string what;

    std::string describe() const {
        std::ostringstream os;
        os << what << ": max relative error " << max_relative_error << " (abs " << max_abs_error << ", gradient scale "
           << gradient_scale << ", worst coordinate " << worst_index << ", " << checked << " coordinates)";
        return os.str();
    }
};

namespace detail {
// Indices of θ that belong to trainable blocks: the only ones a gradient or Jacobian speaks for
// (frozen blocks are still inputs of the network, but their entries are defined to be 0).
inline std::vector<std::size_t> trainable_indices(const Architecture& arch) {
    std::vector<std::size_t> out;
    for (const auto& b : arch.blocks()) {
        if (!b.trainable) continue;
        std::size_t size = 1;
        for (auto s : b.shape) size *= s;
        for (std::size_t i = b.offset; i < b.offset + size; ++i) out.push_back(i);
    }
    return out;
}

inline GradientCheck compare(const std::vector<double>& analytic, const std::vector<double>& numeric, const std::string& what) {
    GradientCheck r;
    r.what = what;
    r.checked = analytic.size();
    for (double v : numeric) r.gradient_scale = std::max(r.gradient_scale, std::fabs(v));
    for (std::size_t i = 0; i < analytic.size(); ++i) {
        const double e = std::fabs(analytic[i] - numeric[i]);
        if (e > r.max_abs_error || !std::isfinite(e)) {
            r.max_abs_error = std::isfinite(e) ? e : INFINITY;
            r.worst_index = i;
        }
    }
    r.max_relative_error = r.max_abs_error / std::max(r.gradient_scale, 1e-12);
    return r;
}
}  // namespace detail

// Checks LossValue::gradients against central differences of LossValue::value, for every
// entry of every view.
inline GradientCheck check_loss_gradient(const Loss& loss, std::vector<Matrix> views, const Labels& labels,
                                         double step = 1e-5) {
    const LossValue at = loss.evaluate(views, labels);
    std::vector<double> analytic, numeric;
    for (std::size_t v = 0; v < views.size(); ++v) {
        for (std::size_t i = 0; i < views[v].size(); ++i) {
            double& x = views[v].data()[i];
            const double x0 = x, h = step * std::max(1.0, std::fabs(x0));
            x = x0 + h;
            const double fp = loss.evaluate(views, labels).value;
            x = x0 - h;
            const double fm = loss.evaluate(views, labels).value;
            x = x0;
            numeric.push_back((fp - fm) / (2 * h));
            analytic.push_back(at.gradients.at(v).data()[i]);
        }
    }
    return detail::compare(analytic, numeric, "loss gradient");
}

// Checks Architecture::backward(θ, X, G) against central differences of s(θ) = Σ G ∘ f_θ(X)
// in θ, on `coordinates` trainable parameters drawn from rng (all trainable ones when 0).
inline GradientCheck check_architecture_backward(const Architecture& arch, Vector theta, const Matrix& x, const Matrix& g,
                                                 Rng& rng, std::size_t coordinates = 0, double step = 1e-5) {
    const Vector analytic_full = arch.backward(theta, x, g);
    auto s = [&](const Vector& th) {
        const Matrix z = arch.forward(th, x);
        double acc = 0.0;
        for (std::size_t i = 0; i < z.size(); ++i) acc += g.data()[i] * z.data()[i];
        return acc;
    };
    const std::vector<std::size_t> trainable = detail::trainable_indices(arch);
    std::vector<std::size_t> idx;
    if (coordinates == 0 || coordinates >= trainable.size()) {
        idx = trainable;
    } else {
        for (std::size_t c = 0; c < coordinates; ++c) idx.push_back(trainable[rng.uniform_index(trainable.size())]);
    }
    std::vector<double> analytic, numeric;
    for (std::size_t i : idx) {
        const double t0 = theta(i), h = step * std::max(1.0, std::fabs(t0));
        theta(i) = t0 + h;
        const double fp = s(theta);
        theta(i) = t0 - h;
        const double fm = s(theta);
        theta(i) = t0;
        numeric.push_back((fp - fm) / (2 * h));
        analytic.push_back(analytic_full(i));
    }
    return detail::compare(analytic, numeric, "architecture backward");
}

// Checks Architecture::jacobian(θ, X) row n·K + k against central differences of f_k(x_n),
// in the columns of trainable parameters.
inline GradientCheck check_architecture_jacobian(const Architecture& arch, Vector theta, const Matrix& x, double step = 1e-5) {
    const Matrix j = arch.jacobian(theta, x);
    const std::vector<std::size_t> cols = detail::trainable_indices(arch);
    const std::size_t rows = j.shape(0), p = j.shape(1);
    std::vector<double> analytic, numeric(rows * cols.size());
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t i : cols) analytic.push_back(j.data()[r * p + i]);
    for (std::size_t c = 0; c < cols.size(); ++c) {
        const std::size_t i = cols[c];
        const double t0 = theta(i), h = step * std::max(1.0, std::fabs(t0));
        theta(i) = t0 + h;
        const Matrix fp = arch.forward(theta, x);
        theta(i) = t0 - h;
        const Matrix fm = arch.forward(theta, x);
        theta(i) = t0;
        for (std::size_t r = 0; r < rows; ++r) numeric[r * cols.size() + c] = (fp.data()[r] - fm.data()[r]) / (2 * h);
    }
    return detail::compare(analytic, numeric, "architecture jacobian");
}

}  // namespace ntkssl::testing
