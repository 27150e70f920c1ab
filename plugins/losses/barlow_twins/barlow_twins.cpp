#include "barlow_twins.hpp"

#include <cmath>

namespace ntkssl::plugins {

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
    ops::require_views(views, 2, "barlow_twins", standardize_ ? 2 : 1);
    const Matrix& z1 = views[0];
    const Matrix& z2 = views[1];
    const std::size_t n = z1.shape(0), k = z1.shape(1);

    const double lambda = (preset_ == "inverse_dim" && !has_lambda_) ? 1.0 / static_cast<double>(k) : lambda_;
    ops::Standardized s1, s2;
    if (standardize_) {
        s1 = ops::standardize_columns(z1, epsilon_);
        s2 = ops::standardize_columns(z2, epsilon_);
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
        ga = ops::standardize_columns_backward(s1, ga);
        gb = ops::standardize_columns_backward(s2, gb);
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
