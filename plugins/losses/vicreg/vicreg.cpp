// vicreg: Variance-Invariance-Covariance Regularization (Bardes, Ponce, LeCun, ICLR 2022), as
// in the official implementation, on two views x = Z¹, y = Z² (N×K, N ≥ 2):
//
//   L = α · mean_{n,k} (x_nk − y_nk)²                                  invariance (MSE)
//     + β · [mean_j relu(1 − s_j(x)) + mean_j relu(1 − s_j(y))] / 2    variance
//     + γ · [c(x) + c(y)]                                              covariance
//
//   s_j(x) = √(Var_j(x) + ε),  Var with N − 1 (PyTorch's default);
//   c(x) = Σ_{i≠j} Cov_ij(x)² / K,  Cov = x̄ᵀ x̄ / (N − 1) with x̄ the column-centred x.
//
// Defaults α = 25, β = 25, γ = 1, ε = 1e-4 (the paper's). relu'(0) is taken as 0, so at a
// column with s_j exactly 1 the variance term contributes no gradient (PyTorch does the same).
//
// GRADIENT (for x; y alike, with the sign of the MSE term flipped):
//   ∂/∂x_nj  = 2α (x − y)_nj / (N K)
//            − (β / 2K) · 1[s_j < 1] · x̄_nj / ((N − 1) s_j)
//            + γ · [2 x̄ D / (N − 1)]_nj,   D = (2/K) · Cov with zero diagonal.
#include <ntkssl/ntkssl.hpp>

#include <cmath>

namespace ntkssl::plugins {

class VicReg final : public Loss {
public:
    static std::vector<ParamSpec> parameters() {
        return {
            ParamSpec::real("sim_coeff", 25.0, "α, weight of the invariance (MSE) term"),
            ParamSpec::real("std_coeff", 25.0, "β, weight of the variance term"),
            ParamSpec::real("cov_coeff", 1.0, "γ, weight of the covariance term"),
            ParamSpec::real("epsilon", 1e-4, "ε in s_j = √(Var_j + ε)"),
        };
    }
    explicit VicReg(const Config& cfg)
        : alpha_(cfg.get_real("sim_coeff")), beta_(cfg.get_real("std_coeff")), gamma_(cfg.get_real("cov_coeff")),
          eps_(cfg.get_real("epsilon")) {
        for (const char* key : {"sim_coeff", "std_coeff", "cov_coeff"})
            cfg.require(cfg.get_real(key) >= 0 && std::isfinite(cfg.get_real(key)), key, "must be a finite number >= 0");
        cfg.require(eps_ > 0 && std::isfinite(eps_), "epsilon", "must be a finite number > 0");
    }

    LossValue evaluate(const std::vector<Matrix>& views, const Labels&) const override {
        ops::require_views(views, 2, "vicreg", 2);
        const std::size_t n = views[0].shape(0), k = views[0].shape(1);
        const double nk = static_cast<double>(n * k), n1 = static_cast<double>(n - 1), kd = static_cast<double>(k);
        LossValue out;
        out.gradients = {Matrix::from_shape({n, k}), Matrix::from_shape({n, k})};

        for (std::size_t i = 0; i < n * k; ++i) {
            const double diff = views[0].data()[i] - views[1].data()[i];
            out.value += alpha_ * diff * diff / nk;
            out.gradients[0].data()[i] = 2 * alpha_ * diff / nk;
            out.gradients[1].data()[i] = -2 * alpha_ * diff / nk;
        }
        for (std::size_t v = 0; v < 2; ++v) {
            const Matrix xc = ops::center_columns(views[v]);
            Matrix& g = out.gradients[v];
            Matrix cov = linalg::matmul(xc, xc, linalg::Op::transpose, linalg::Op::none);
            cov /= n1;
            for (std::size_t j = 0; j < k; ++j) {
                const double s = std::sqrt(cov(j, j) + eps_);
                if (s < 1.0) {
                    out.value += beta_ * (1.0 - s) / (2 * kd);
                    for (std::size_t r = 0; r < n; ++r) g(r, j) -= beta_ / (2 * kd) * xc(r, j) / (n1 * s);
                }
            }
            Matrix d = xt::zeros<double>({k, k});
            for (std::size_t i = 0; i < k; ++i)
                for (std::size_t j = 0; j < k; ++j)
                    if (i != j) {
                        out.value += gamma_ * cov(i, j) * cov(i, j) / kd;
                        d(i, j) = 2.0 * cov(i, j) / kd;
                    }
            // ∂c/∂x̄ = 2 x̄ D / (N − 1); its columns already sum to zero, so centring passes it through.
            linalg::gemm(xc, linalg::Op::none, d, linalg::Op::none, g, 2 * gamma_ / n1, 1.0);
        }
        return out;
    }

private:
    double alpha_, beta_, gamma_, eps_;
};

}  // namespace ntkssl::plugins

NTKSSL_PLUGIN("ntkssl.losses.vicreg", NTKSSL_VERSION) {
    ntkssl::register_plugin<ntkssl::plugins::VicReg>(registrar, "vicreg",
                                                     "VICReg: invariance (MSE) + variance hinge + covariance penalty");
}
