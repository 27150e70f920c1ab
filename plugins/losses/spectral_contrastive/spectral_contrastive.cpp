// spectral_contrastive: the spectral contrastive loss of HaoChen, Wei, Gaidon, Ma (NeurIPS
// 2021), in the form of the authors' implementation, on two views (N ≥ 2):
//
//     L = −(2/N) Σ_i ⟨z¹_i, z²_i⟩ + (1/(N(N−1))) Σ_{i≠j} ⟨z¹_i, z²_j⟩²
//
// i.e. −2·E[f(x)ᵀf(x⁺)] + E[(f(x)ᵀf(x⁻))²] with the batch as the sample. Norm clipping (on by
// default, μ = 1): before the loss, a row with ‖z‖ ≥ √μ is scaled to norm √μ; shorter rows are
// left alone. Without clipping the loss is unbounded below in the embedding scale.
//
// GRADIENT: with M = Z¹ Z²ᵀ, ∂L/∂M_ij = −(2/N) δ_ij + 2 M_ij (1 − δ_ij) / (N(N−1)),
// ∂L/∂Z¹ = G Z², ∂L/∂Z² = Gᵀ Z¹, then through the clipping (√μ times the row normalization's
// Jacobian on clipped rows; the clipping is continuous, not differentiable, at ‖z‖ = √μ).
#include <ntkssl/ntkssl.hpp>

#include <cmath>

namespace ntkssl::plugins {

class SpectralContrastive final : public Loss {
public:
    static std::vector<ParamSpec> parameters() {
        return {
            ParamSpec::boolean("clip", true, "scale rows with norm ≥ √mu to norm √mu"),
            ParamSpec::real("mu", 1.0, "μ of the norm clipping"),
        };
    }
    explicit SpectralContrastive(const Config& cfg) : clip_(cfg.get_bool("clip")), mu_(cfg.get_real("mu")) {
        cfg.require(mu_ > 0 && std::isfinite(mu_), "mu", "must be a finite number > 0");
    }

    LossValue evaluate(const std::vector<Matrix>& views, const Labels&) const override {
        ops::require_views(views, 2, "spectral_contrastive", 2);
        const std::size_t n = views[0].shape(0), k = views[0].shape(1);
        const double root_mu = std::sqrt(mu_);
        // Clipped rows and what backward needs to undo them.
        ops::RowNormalized norm[2];
        Matrix z[2] = {views[0], views[1]};
        if (clip_) {
            for (int v = 0; v < 2; ++v) {
                norm[v] = ops::normalize_rows(views[v]);
                for (std::size_t i = 0; i < n; ++i)
                    if (norm[v].norm(i) >= root_mu)
                        for (std::size_t j = 0; j < k; ++j) z[v](i, j) = root_mu * norm[v].u(i, j);
            }
        }
        const Matrix m = linalg::matmul(z[0], z[1], linalg::Op::none, linalg::Op::transpose);
        const double nd = static_cast<double>(n), pairs = nd * (nd - 1);
        LossValue out;
        Matrix g = Matrix::from_shape({n, n});
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < n; ++j) {
                if (i == j) {
                    out.value -= 2.0 * m(i, i) / nd;
                    g(i, i) = -2.0 / nd;
                } else {
                    out.value += m(i, j) * m(i, j) / pairs;
                    g(i, j) = 2.0 * m(i, j) / pairs;
                }
            }
        Matrix grad[2] = {linalg::matmul(g, z[1]), linalg::matmul(g, z[0], linalg::Op::transpose)};
        if (clip_) {
            for (int v = 0; v < 2; ++v) {
                const Matrix through = ops::normalize_rows_backward(norm[v], grad[v]);
                for (std::size_t i = 0; i < n; ++i)
                    if (norm[v].norm(i) >= root_mu)
                        for (std::size_t j = 0; j < k; ++j) grad[v](i, j) = root_mu * through(i, j);
            }
        }
        out.gradients = {std::move(grad[0]), std::move(grad[1])};
        return out;
    }

private:
    bool clip_;
    double mu_;
};

}  // namespace ntkssl::plugins

NTKSSL_PLUGIN("ntkssl.losses.spectral_contrastive", NTKSSL_VERSION) {
    ntkssl::register_plugin<ntkssl::plugins::SpectralContrastive>(
        registrar, "spectral_contrastive", "HaoChen et al.: −2E[f(x)ᵀf(x⁺)] + E[(f(x)ᵀf(x⁻))²], with norm clipping");
}
