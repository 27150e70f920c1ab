// supervised_mse: L = (1/2N) Σ_n ‖z_n − t_n‖², t_n = scale · e_{y_n} (one-hot in R^K).
//
// The classic supervised regression loss whose wide-network NTK is known to stay constant
// (Jacot et al. 2018; Lee et al. 2019): the baseline every SSL loss is compared with. It uses
// one view (the data through the pipeline's augmentations) and needs integer labels in
// [0, K). Gradient: ∂L/∂z_n = (z_n − t_n) / N.
#include <ntkssl/ntkssl.hpp>

#include <cmath>

namespace ntkssl::plugins {

class SupervisedMse final : public Loss {
public:
    static std::vector<ParamSpec> parameters() {
        return {ParamSpec::real("scale", 1.0, "value of the one-hot target's hot entry")};
    }
    explicit SupervisedMse(const Config& cfg) : scale_(cfg.get_real("scale")) {
        cfg.require(std::isfinite(scale_), "scale", "must be finite");
    }
    std::size_t views() const override { return 1; }
    bool needs_labels() const override { return true; }

    LossValue evaluate(const std::vector<Matrix>& views, const Labels& labels) const override {
        ops::require_views(views, 1, "supervised_mse", 1);
        const Matrix& z = views[0];
        const std::size_t n = z.shape(0), k = z.shape(1);
        NTKSSL_CHECK(labels.size() == n, ShapeError, "supervised_mse: " << labels.size() << " labels for " << n << " samples");
        LossValue out;
        Matrix g = z;
        for (std::size_t i = 0; i < n; ++i) {
            NTKSSL_CHECK(labels[i] >= 0 && static_cast<std::size_t>(labels[i]) < k, ShapeError,
                         "supervised_mse: label " << labels[i] << " of sample " << i << " needs an output dimension K > "
                                                  << labels[i] << ", but K = " << k << " (set architecture.output_dim)");
            g(i, static_cast<std::size_t>(labels[i])) -= scale_;
        }
        for (double v : g) out.value += v * v;
        out.value /= 2.0 * static_cast<double>(n);
        g /= static_cast<double>(n);
        out.gradients = {std::move(g)};
        return out;
    }

private:
    double scale_;
};

}  // namespace ntkssl::plugins

NTKSSL_PLUGIN("ntkssl.losses.supervised_mse", NTKSSL_VERSION) {
    ntkssl::register_plugin<ntkssl::plugins::SupervisedMse>(registrar, "supervised_mse",
                                                            "(1/2N)‖Z − one-hot(y)‖²: the supervised baseline (1 view, needs labels)");
}
