// gaussian_noise: x' = x + σ·ε with ε ~ N(0, I_d), independently per sample (and optionally
// projected back onto the unit sphere, for data that lives there).
// identity: x' = x, for pipelines that want one view untouched.
#include <ntkssl/ntkssl.hpp>

#include <cmath>

namespace ntkssl::plugins {

class GaussianNoise final : public Augmentation {
public:
    static std::vector<ParamSpec> parameters() {
        return {
            ParamSpec::real("sigma", 0.1, "standard deviation σ of the added noise, per coordinate"),
            ParamSpec::boolean("renormalize", false, "project each noisy sample back onto the unit sphere"),
        };
    }
    explicit GaussianNoise(const Config& cfg) : sigma_(cfg.get_real("sigma")), renormalize_(cfg.get_bool("renormalize")) {
        cfg.require(sigma_ >= 0.0 && std::isfinite(sigma_), "sigma", "must be a finite number >= 0");
    }

    Matrix apply(const Matrix& x, const Shape&, Rng& rng) const override {
        Matrix out = x;
        for (auto& v : out) v += sigma_ * rng.normal();
        if (renormalize_) {
            for (std::size_t i = 0; i < out.shape(0); ++i) {
                double s = 0.0;
                for (std::size_t j = 0; j < out.shape(1); ++j) s += out(i, j) * out(i, j);
                s = std::sqrt(s);
                if (s > 0.0)
                    for (std::size_t j = 0; j < out.shape(1); ++j) out(i, j) /= s;
            }
        }
        return out;
    }

private:
    double sigma_;
    bool renormalize_;
};

class Identity final : public Augmentation {
public:
    static std::vector<ParamSpec> parameters() { return {}; }
    explicit Identity(const Config&) {}
    Matrix apply(const Matrix& x, const Shape&, Rng&) const override { return x; }
};

}  // namespace ntkssl::plugins

NTKSSL_PLUGIN("ntkssl.augmentations.noise", NTKSSL_VERSION) {
    ntkssl::register_plugin<ntkssl::plugins::GaussianNoise>(registrar, "gaussian_noise",
                                                            "adds N(0, σ²) noise to every coordinate");
    ntkssl::register_plugin<ntkssl::plugins::Identity>(registrar, "identity", "leaves the samples unchanged");
}
