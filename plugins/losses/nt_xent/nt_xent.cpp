// simclr and infonce_dot: the NT-Xent (InfoNCE) loss of SimCLR (Chen et al., ICML 2020) over
// the 2N embeddings of a batch, with cosine similarity (simclr) or raw dot products
// (infonce_dot, for the cosine-versus-dot study of Anil, Esser, Ghoshdastidar, AAAI 2024).
//
// With w = [Z¹; Z²] (2N×K), u_i = w_i / max(‖w_i‖, 1e-12) for simclr (u = w for infonce_dot),
// S = U Uᵀ / τ and p(i) = i ± N the other view of the same sample:
//
//     ℓ_i = −S_{i,p(i)} + log Σ_{k≠i} exp(S_ik),      L = (1/2N) Σ_i ℓ_i,
//
// i.e. both directions (view 1 → 2 and 2 → 1) averaged. τ defaults to 0.5 (SimCLR's CIFAR
// setting; the field uses 0.1–0.5).
//
// GRADIENT: with P_ik = softmax_{k≠i}(S_ik), ∂L/∂S_ik = (P_ik − δ_{k,p(i)}) / 2N (0 on k = i),
// ∂L/∂U = (G + Gᵀ) U / τ, then through the row normalization (simclr).
//
// EXACT CASE: identical views of N mutually orthogonal unit embeddings give, for every i,
// ℓ = −1/τ + log(e^{1/τ} + 2N − 2).
#include <ntkssl/ntkssl.hpp>

#include <algorithm>
#include <cmath>

namespace ntkssl::plugins {

class NtXent : public Loss {
public:
    static std::vector<ParamSpec> parameters() {
        return {ParamSpec::real("temperature", 0.5, "τ; similarities are divided by it")};
    }
    NtXent(const Config& cfg, bool cosine) : tau_(cfg.get_real("temperature")), cosine_(cosine) {
        cfg.require(tau_ > 0 && std::isfinite(tau_), "temperature", "must be a finite number > 0");
    }

    LossValue evaluate(const std::vector<Matrix>& views, const Labels&) const override {
        ops::require_views(views, 2, cosine_ ? "simclr" : "infonce_dot", 1);
        const std::size_t n = views[0].shape(0), k = views[0].shape(1), m = 2 * n;
        Matrix w = Matrix::from_shape({m, k});
        std::copy(views[0].begin(), views[0].end(), w.begin());
        std::copy(views[1].begin(), views[1].end(), w.begin() + static_cast<std::ptrdiff_t>(n * k));
        ops::RowNormalized normalized;
        if (cosine_) normalized = ops::normalize_rows(w);
        const Matrix& u = cosine_ ? normalized.u : w;

        Matrix s = linalg::gram(u, linalg::Op::none, 1.0 / tau_);  // S = U Uᵀ / τ
        Matrix g = xt::zeros<double>({m, m});
        LossValue out;
        const double inv_m = 1.0 / static_cast<double>(m);
        for (std::size_t i = 0; i < m; ++i) {
            const std::size_t pos = i < n ? i + n : i - n;
            double mx = -INFINITY;
            for (std::size_t j = 0; j < m; ++j)
                if (j != i) mx = std::max(mx, s(i, j));
            double sum = 0;
            for (std::size_t j = 0; j < m; ++j)
                if (j != i) sum += std::exp(s(i, j) - mx);
            out.value += inv_m * (-s(i, pos) + mx + std::log(sum));
            for (std::size_t j = 0; j < m; ++j)
                if (j != i) g(i, j) = inv_m * std::exp(s(i, j) - mx) / sum;
            g(i, pos) -= inv_m;
        }
        NTKSSL_CHECK(std::isfinite(out.value), NumericError,
                     (cosine_ ? "simclr" : "infonce_dot") << ": the loss is " << out.value
                                                          << " (similarities too large for exp?)");
        const Matrix sym = g + xt::transpose(g);
        Matrix grad_u = linalg::matmul(sym, u);
        grad_u /= tau_;
        const Matrix grad_w = cosine_ ? ops::normalize_rows_backward(normalized, grad_u) : grad_u;
        out.gradients = {Matrix::from_shape({n, k}), Matrix::from_shape({n, k})};
        std::copy(grad_w.begin(), grad_w.begin() + static_cast<std::ptrdiff_t>(n * k), out.gradients[0].begin());
        std::copy(grad_w.begin() + static_cast<std::ptrdiff_t>(n * k), grad_w.end(), out.gradients[1].begin());
        return out;
    }

private:
    double tau_;
    bool cosine_;
};

class SimClr final : public NtXent {
public:
    using NtXent::parameters;
    explicit SimClr(const Config& cfg) : NtXent(cfg, true) {}
};

class InfoNceDot final : public NtXent {
public:
    using NtXent::parameters;
    explicit InfoNceDot(const Config& cfg) : NtXent(cfg, false) {}
};

}  // namespace ntkssl::plugins

NTKSSL_PLUGIN("ntkssl.losses.nt_xent", NTKSSL_VERSION) {
    ntkssl::register_plugin<ntkssl::plugins::SimClr>(registrar, "simclr",
                                                     "NT-Xent over 2N views with cosine similarity and temperature τ");
    ntkssl::register_plugin<ntkssl::plugins::InfoNceDot>(registrar, "infonce_dot",
                                                         "NT-Xent with raw dot products instead of cosine similarity");
}
