// negative_cosine: L = −(1/N) Σ_i ⟨u¹_i, u²_i⟩ with u = z / max(‖z‖, 1e-12): the negative mean
// cosine similarity of the two views of each sample — the similarity term of BYOL and SimSiam
// without their predictor and stop-gradient (which are not a gradient flow of one network).
// It has no repulsive term, so its minimizers include collapsed representations.
// Range [−1, 1]; identical views give −1.
#include <ntkssl/ntkssl.hpp>

namespace ntkssl::plugins {

class NegativeCosine final : public Loss {
public:
    static std::vector<ParamSpec> parameters() { return {}; }
    explicit NegativeCosine(const Config&) {}

    LossValue evaluate(const std::vector<Matrix>& views, const Labels&) const override {
        ops::require_views(views, 2, "negative_cosine", 1);
        const std::size_t n = views[0].shape(0), k = views[0].shape(1);
        const ops::RowNormalized a = ops::normalize_rows(views[0]), b = ops::normalize_rows(views[1]);
        LossValue out;
        const double inv_n = 1.0 / static_cast<double>(n);
        Matrix ga = Matrix::from_shape({n, k}), gb = Matrix::from_shape({n, k});
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < k; ++j) {
                out.value -= inv_n * a.u(i, j) * b.u(i, j);
                ga(i, j) = -inv_n * b.u(i, j);  // ∂L/∂u¹
                gb(i, j) = -inv_n * a.u(i, j);  // ∂L/∂u²
            }
        out.gradients = {ops::normalize_rows_backward(a, ga), ops::normalize_rows_backward(b, gb)};
        return out;
    }
};

}  // namespace ntkssl::plugins

NTKSSL_PLUGIN("ntkssl.losses.negative_cosine", NTKSSL_VERSION) {
    ntkssl::register_plugin<ntkssl::plugins::NegativeCosine>(registrar, "negative_cosine",
                                                             "−mean cosine similarity of the two views (no negatives)");
}
