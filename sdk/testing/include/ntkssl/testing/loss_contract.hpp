// The loss contract kit: one call checks everything loss.hpp requires of a loss.
//
// Include it after <doctest/doctest.h> in a plugin's test and call it from one test case:
//
//     TEST_CASE("my_loss satisfies the loss contract") {
//         MyLoss loss(ntkssl::Config("loss", {}, {}, MyLoss::parameters()));
//         ntkssl::testing::check_loss_contract(loss);
//     }
//
// What it checks, each on random embeddings (N×K, several seeds) with the number of views the
// loss declares, and labels i mod K when it needs them:
//   1. shapes: one gradient per view, each of its view's shape;
//   2. gradient: central finite differences agree to `tolerance` (norm-wise relative);
//   3. determinism: the same input twice gives bit-identical value and gradients;
//   4. invariance to a joint permutation of the samples (rows of every view, and labels), when
//      the contract says the loss has it: same value, gradients permuted alike;
//   5. degenerate inputs: a constant embedding column, and N = 2 — the loss returns a finite
//      value and finite gradients, or throws ntkssl::NumericError (never a silent NaN);
//   6. a NaN in an embedding is an ntkssl::NumericError, not a NaN result.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include <ntkssl/errors.hpp>
#include <ntkssl/loss.hpp>
#include <ntkssl/random.hpp>
#include <ntkssl/testing/gradient_check.hpp>

namespace ntkssl::testing {

struct LossContract {
    std::size_t samples = 7;   // N of the random inputs
    std::size_t dims = 4;      // K
    double scale = 0.7;        // standard deviation of the random embeddings
    double tolerance = 1e-6;   // finite-difference agreement
    bool permutation_invariant = true;
    std::vector<std::uint64_t> seeds = {1, 2, 3};
};

namespace detail {

inline std::vector<Matrix> random_views(std::size_t views, std::size_t n, std::size_t k, double scale, Rng& rng) {
    std::vector<Matrix> out;
    for (std::size_t v = 0; v < views; ++v) {
        Matrix m = Matrix::from_shape({n, k});
        rng.fill_normal(m, 0.0, scale);
        out.push_back(std::move(m));
    }
    return out;
}

inline Labels labels_for(const Loss& loss, std::size_t n, std::size_t k) {
    Labels y;
    if (loss.needs_labels())
        for (std::size_t i = 0; i < n; ++i) y.push_back(static_cast<int>(i % k));
    return y;
}

inline bool finite(const LossValue& v) {
    if (!std::isfinite(v.value)) return false;
    for (const auto& g : v.gradients)
        for (double x : g)
            if (!std::isfinite(x)) return false;
    return true;
}

// A degenerate input must give finite numbers or a NumericError; anything else fails.
inline void check_degenerate(const Loss& loss, const std::vector<Matrix>& views, const Labels& labels, const char* what) {
    try {
        const LossValue v = loss.evaluate(views, labels);
        CHECK_MESSAGE(finite(v), what << ": the loss returned a non-finite value or gradient instead of a NumericError");
    } catch (const NumericError&) {
        // A clear numeric error is an accepted answer.
    }
}

}  // namespace detail

inline void check_loss_contract(const Loss& loss, const LossContract& c = {}) {
    const std::size_t views = loss.views();
    REQUIRE_MESSAGE(views >= 1, "views() must be at least 1");
    for (std::uint64_t seed : c.seeds) {
        CAPTURE(seed);
        Rng rng(seed);
        const auto z = detail::random_views(views, c.samples, c.dims, c.scale, rng);
        const Labels y = detail::labels_for(loss, c.samples, c.dims);

        const LossValue a = loss.evaluate(z, y);
        REQUIRE_MESSAGE(a.gradients.size() == views, "evaluate() returned " << a.gradients.size() << " gradients for " << views << " views");
        for (std::size_t v = 0; v < views; ++v)
            CHECK_MESSAGE(a.gradients[v].shape() == z[v].shape(), "the gradient of view " << v << " does not have the view's shape");
        CHECK_MESSAGE(detail::finite(a), "non-finite value or gradient on ordinary random input");

        const auto fd = check_loss_gradient(loss, z, y);
        CHECK_MESSAGE(fd.max_relative_error < c.tolerance, fd.describe());

        const LossValue b = loss.evaluate(z, y);
        CHECK_MESSAGE(a.value == b.value, "evaluate() is not deterministic");
        for (std::size_t v = 0; v < views; ++v)
            for (std::size_t i = 0; i < z[v].size(); ++i)
                if (a.gradients[v].data()[i] != b.gradients[v].data()[i]) {
                    FAIL_CHECK("evaluate() gradients are not deterministic (view " << v << ", entry " << i << ")");
                    break;
                }

        if (c.permutation_invariant) {
            std::vector<std::size_t> perm(c.samples);
            std::iota(perm.begin(), perm.end(), 0);
            for (std::size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng.uniform_index(i)]);
            std::vector<Matrix> zp = z;
            Labels yp = y;
            for (std::size_t v = 0; v < views; ++v)
                for (std::size_t i = 0; i < c.samples; ++i)
                    for (std::size_t j = 0; j < c.dims; ++j) zp[v](i, j) = z[v](perm[i], j);
            for (std::size_t i = 0; i < yp.size(); ++i) yp[i] = y[perm[i]];
            const LossValue p = loss.evaluate(zp, yp);
            CHECK_MESSAGE(p.value == doctest::Approx(a.value).epsilon(1e-12), "the value changes when the samples are permuted");
            double worst = 0, scale = 0;
            for (std::size_t v = 0; v < views; ++v)
                for (std::size_t i = 0; i < c.samples; ++i)
                    for (std::size_t j = 0; j < c.dims; ++j) {
                        worst = std::max(worst, std::fabs(p.gradients[v](i, j) - a.gradients[v](perm[i], j)));
                        scale = std::max(scale, std::fabs(a.gradients[v](perm[i], j)));
                    }
            CHECK_MESSAGE(worst <= 1e-12 * std::max(scale, 1e-300) + 1e-300,
                          "the gradients are not permuted with the samples (max deviation " << worst << ")");
        }

        std::vector<Matrix> constant = z;
        for (auto& m : constant)
            for (std::size_t i = 0; i < c.samples; ++i) m(i, 0) = 0.5;
        detail::check_degenerate(loss, constant, y, "a constant embedding column");
        std::vector<Matrix> two;
        for (const auto& m : z) {
            Matrix first = Matrix::from_shape({2, c.dims});
            std::copy(m.data(), m.data() + 2 * c.dims, first.data());
            two.push_back(std::move(first));
        }
        detail::check_degenerate(loss, two, detail::labels_for(loss, 2, c.dims), "N = 2 samples");

        std::vector<Matrix> nan = z;
        nan.back()(1, 1) = std::nan("");
        CHECK_THROWS_AS_MESSAGE(loss.evaluate(nan, y), NumericError, "a NaN embedding must be a NumericError");
    }
}

}  // namespace ntkssl::testing
