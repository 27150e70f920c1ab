#include "barlow_twins.hpp"

#include <cmath>

namespace ntkssl::plugins {

namespace {

struct Standardized {
    Matrix z;           // z̃
    Vector inv_std;     // 1/√(var + ε) per column
};

Standardized standardize(const Matrix& z, double eps) {
    const std::size_t n = z.shape(0), k = z.shape(1);
    Standardized s{Matrix::from_shape({n, k}), Vector::from_shape({k})};
    for (std::size_t j = 0; j < k; ++j) {
        double mean = 0.0;
        for (std::size_t i = 0; i < n; ++i) mean += z(i, j);
        mean /= static_cast<double>(n);
        double var = 0.0;
        for (std::size_t i = 0; i < n; ++i) var += (z(i, j) - mean) * (z(i, j) - mean);
        var /= static_cast<double>(n);
        NTKSSL_CHECK(var + eps > 0.0, NumericError,
                     "barlow_twins: embedding dimension " << j << " is constant over the batch and epsilon = 0, "
                     "so it cannot be standardized; set epsilon > 0 or standardize = false");
        s.inv_std(j) = 1.0 / std::sqrt(var + eps);
        for (std::size_t i = 0; i < n; ++i) s.z(i, j) = (z(i, j) - mean) * s.inv_std(j);
    }
    return s;
}

// Back-propagates g = ∂L/∂z̃ through the per-column standardization.
Matrix standardize_backward(const Standardized& s, const Matrix& g) {
    const std::size_t n = g.shape(0), k = g.shape(1);
    Matrix out = Matrix::from_shape({n, k});
    for (std::size_t j = 0; j < k; ++j) {
        double mean_g = 0.0, mean_gz = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
            mean_g += g(i, j);
            mean_gz += g(i, j) * s.z(i, j);
        }
        mean_g /= static_cast<double>(n);
        mean_gz /= static_cast<double>(n);
        for (std::size_t i = 0; i < n; ++i) out(i, j) = (g(i, j) - mean_g - s.z(i, j) * mean_gz) * s.inv_std(j);
    }
    return out;
}

}  // namespace

std::vector<ParamSpec> BarlowTwins::parameters() {
    return {
        ParamSpec::string("preset", "theory",
                          "theory: raw, symmetric, λ=1; original: standardized, plain, λ=0.0051; "
                          "inverse_dim: raw, symmetric, λ=1/K",
                          {"theory", "original", "inverse_dim"}),
        ParamSpec::real("lambda", 1.0, "weight λ of the off-diagonal terms (default: the preset's)"),
        ParamSpec::boolean("symmetric", true, "use (C + Cᵀ)/2 (default: the preset's)"),
        ParamSpec::boolean("standardize", false,
                           "standardize each embedding dimension over the batch (default: the preset's)"),
        ParamSpec::real("epsilon", 1e-5, "ε added to the variance when standardizing"),
    };
}

BarlowTwins::BarlowTwins(const Config& cfg)
    : preset_(cfg.get_string("preset")), has_lambda_(cfg.has("lambda")), epsilon_(cfg.get_real("epsilon")) {
    const bool original = preset_ == "original";
    lambda_ = has_lambda_ ? cfg.get_real("lambda") : (original ? 0.0051 : 1.0);
    symmetric_ = cfg.has("symmetric") ? cfg.get_bool("symmetric") : !original;
    standardize_ = cfg.has("standardize") ? cfg.get_bool("standardize") : original;
    cfg.require(lambda_ >= 0.0 && std::isfinite(lambda_), "lambda", "must be a finite number >= 0");
    cfg.require(epsilon_ >= 0.0 && std::isfinite(epsilon_), "epsilon", "must be a finite number >= 0");
}

LossValue BarlowTwins::evaluate(const std::vector<Matrix>& views, const Labels&) const {
    NTKSSL_CHECK(views.size() == 2, ShapeError, "barlow_twins needs 2 views, got " << views.size());
    const Matrix& z1 = views[0];
    const Matrix& z2 = views[1];
    NTKSSL_CHECK(z1.shape() == z2.shape(), ShapeError,
                 "barlow_twins: views differ in shape: " << z1.shape(0) << "×" << z1.shape(1) << " vs "
                                                         << z2.shape(0) << "×" << z2.shape(1));
    const std::size_t n = z1.shape(0), k = z1.shape(1);
    NTKSSL_CHECK(n >= 1 && k >= 1, ShapeError, "barlow_twins: empty embeddings (" << n << "×" << k << ")");
    NTKSSL_CHECK(!standardize_ || n >= 2, ShapeError, "barlow_twins: standardize = true needs N >= 2 samples");
    for (const Matrix* z : {&z1, &z2})
        for (double v : *z)
            NTKSSL_CHECK(std::isfinite(v), NumericError, "barlow_twins: an embedding entry is " << v);

    const double lambda = (preset_ == "inverse_dim" && !has_lambda_) ? 1.0 / static_cast<double>(k) : lambda_;
    Standardized s1, s2;
    if (standardize_) {
        s1 = standardize(z1, epsilon_);
        s2 = standardize(z2, epsilon_);
    }
    const Matrix& a = standardize_ ? s1.z : z1;
    const Matrix& b = standardize_ ? s2.z : z2;

    const double inv_n = 1.0 / static_cast<double>(n);
    Matrix c = linalg::matmul(a, b, linalg::Op::transpose, linalg::Op::none);
    c *= inv_n;
    if (symmetric_) c = 0.5 * (c + xt::transpose(c));

    LossValue out;
    Matrix d = Matrix::from_shape({k, k});
    for (std::size_t i = 0; i < k; ++i)
        for (std::size_t j = 0; j < k; ++j) {
            if (i == j) {
                out.value += (1.0 - c(i, i)) * (1.0 - c(i, i));
                d(i, i) = -2.0 * (1.0 - c(i, i));
            } else {
                out.value += lambda * c(i, j) * c(i, j);
                d(i, j) = 2.0 * lambda * c(i, j);
            }
        }
    // D is ∂L/∂C for the C the loss saw; for the symmetrized C it is already symmetric, and
    // ∂L/∂C_raw = (D + Dᵀ)/2 = D.
    Matrix ga = linalg::matmul(b, d, linalg::Op::none, linalg::Op::transpose);
    Matrix gb = linalg::matmul(a, d, linalg::Op::none, linalg::Op::none);
    ga *= inv_n;
    gb *= inv_n;
    if (standardize_) {
        ga = standardize_backward(s1, ga);
        gb = standardize_backward(s2, gb);
    }
    out.gradients.push_back(std::move(ga));
    out.gradients.push_back(std::move(gb));
    return out;
}

}  // namespace ntkssl::plugins

NTKSSL_PLUGIN("ntkssl.losses.barlow_twins", NTKSSL_VERSION) {
    ntkssl::register_plugin<ntkssl::plugins::BarlowTwins>(
        registrar, "barlow_twins", "Barlow Twins: Σ(1−C_ii)² + λΣ_{i≠j}C_ij² on the views' cross-correlation");
}
