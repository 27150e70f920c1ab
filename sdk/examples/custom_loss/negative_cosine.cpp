#include "negative_cosine.hpp"

#include <cmath>

namespace example {

std::vector<ntkssl::ParamSpec> NegativeCosine::parameters() {
    return {ntkssl::ParamSpec::real("epsilon", 1e-8, "ε in ‖z‖_ε = √(‖z‖² + ε²), keeps zero embeddings finite")};
}

NegativeCosine::NegativeCosine(const ntkssl::Config& cfg) : epsilon_(cfg.get_real("epsilon")) {
    cfg.require(epsilon_ > 0, "epsilon", "must be > 0");
}

ntkssl::LossValue NegativeCosine::evaluate(const std::vector<ntkssl::Matrix>& views, const ntkssl::Labels&) const {
    NTKSSL_CHECK(views.size() == 2 && views[0].shape() == views[1].shape(), ntkssl::ShapeError,
                 "negative_cosine needs two views of the same shape");
    const ntkssl::Matrix& z1 = views[0];
    const ntkssl::Matrix& z2 = views[1];
    const std::size_t n = z1.shape(0), k = z1.shape(1);
    ntkssl::LossValue out;
    out.gradients = {ntkssl::Matrix::from_shape({n, k}), ntkssl::Matrix::from_shape({n, k})};
    const double inv_n = 1.0 / static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i) {
        double c = 0, aa = epsilon_ * epsilon_, bb = epsilon_ * epsilon_;
        for (std::size_t j = 0; j < k; ++j) {
            c += z1(i, j) * z2(i, j);
            aa += z1(i, j) * z1(i, j);
            bb += z2(i, j) * z2(i, j);
        }
        const double p = std::sqrt(aa), q = std::sqrt(bb);
        out.value -= inv_n * c / (p * q);
        for (std::size_t j = 0; j < k; ++j) {
            out.gradients[0](i, j) = -inv_n * (z2(i, j) / (p * q) - c * z1(i, j) / (p * p * p * q));
            out.gradients[1](i, j) = -inv_n * (z1(i, j) / (p * q) - c * z2(i, j) / (p * q * q * q));
        }
    }
    NTKSSL_CHECK(std::isfinite(out.value), ntkssl::NumericError, "negative_cosine: non-finite value (non-finite embeddings?)");
    return out;
}

}  // namespace example

NTKSSL_PLUGIN("example.custom_loss", "1.0.0") {
    ntkssl::register_plugin<example::NegativeCosine>(registrar, "my_negative_cosine", "−mean cosine similarity of the two views");
}
