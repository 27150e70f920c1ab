// synthetic.sphere: N points on the unit sphere S^{d−1} ⊂ R^d, optionally in labelled clusters.
//
// Without clusters, x = g/‖g‖ with g ~ N(0, I_d): uniform on the sphere. With C clusters,
// centres c_1..c_C are drawn uniformly on the sphere, point i belongs to cluster i mod C, and
// x = (c + s·g)/‖c + s·g‖ with spread s; its label is the cluster index. The theory assumes
// bounded inputs; unit norm also keeps x·x'/d comparable across d.
#include <ntkssl/ntkssl.hpp>

#include <cmath>
#include <sstream>

namespace ntkssl::plugins {

class Sphere final : public Dataset {
public:
    static std::vector<ParamSpec> parameters() {
        return {
            ParamSpec::integer("n", 64, "number of samples N"),
            ParamSpec::integer("dim", 20, "ambient dimension d"),
            ParamSpec::integer("clusters", 0, "number of labelled clusters (0: uniform, no labels)"),
            ParamSpec::real("spread", 0.3, "within-cluster spread s (only with clusters > 0)"),
        };
    }

    explicit Sphere(const Config& cfg)
        : n_(cfg.get_integer("n")),
          dim_(cfg.get_integer("dim")),
          clusters_(cfg.get_integer("clusters")),
          spread_(cfg.get_real("spread")) {
        cfg.require(n_ >= 1, "n", "must be at least 1");
        cfg.require(dim_ >= 1, "dim", "must be at least 1");
        cfg.require(clusters_ >= 0, "clusters", "must be >= 0");
        cfg.require(spread_ >= 0.0 && std::isfinite(spread_), "spread", "must be a finite number >= 0");
    }

    DatasetData load(Rng& rng) const override {
        const auto n = static_cast<std::size_t>(n_), d = static_cast<std::size_t>(dim_);
        DatasetData data;
        data.x = Matrix::from_shape({n, d});
        data.sample_shape = {d};
        Matrix centres = Matrix::from_shape({static_cast<std::size_t>(clusters_), d});
        Rng centre_rng = rng.derive("centres");
        for (std::size_t c = 0; c < centres.shape(0); ++c) draw_on_sphere(centre_rng, &centres(c, 0), d);
        Rng point_rng = rng.derive("points");
        for (std::size_t i = 0; i < n; ++i) {
            double* row = &data.x(i, 0);
            if (clusters_ == 0) {
                draw_on_sphere(point_rng, row, d);
                continue;
            }
            const std::size_t c = i % static_cast<std::size_t>(clusters_);
            for (std::size_t j = 0; j < d; ++j) row[j] = centres(c, j) + spread_ * point_rng.normal();
            normalize(row, d);
            data.labels.push_back(static_cast<int>(c));
        }
        std::ostringstream os;
        os << "synthetic.sphere(n=" << n_ << ", dim=" << dim_ << ", clusters=" << clusters_ << ", spread=" << spread_
           << ", stream=" << rng.key() << ")";
        data.provenance = os.str();
        return data;
    }

private:
    static void normalize(double* v, std::size_t d) {
        double s = 0.0;
        for (std::size_t j = 0; j < d; ++j) s += v[j] * v[j];
        s = std::sqrt(s);
        if (s == 0.0) {  // probability zero; pick the first axis rather than dividing by zero
            v[0] = 1.0;
            return;
        }
        for (std::size_t j = 0; j < d; ++j) v[j] /= s;
    }
    static void draw_on_sphere(Rng& rng, double* v, std::size_t d) {
        for (std::size_t j = 0; j < d; ++j) v[j] = rng.normal();
        normalize(v, d);
    }

    std::int64_t n_, dim_, clusters_;
    double spread_;
};

}  // namespace ntkssl::plugins

NTKSSL_PLUGIN("ntkssl.datasets.synthetic", NTKSSL_VERSION) {
    ntkssl::register_plugin<ntkssl::plugins::Sphere>(registrar, "synthetic.sphere",
                                                     "points on the unit sphere in R^d, optionally in labelled clusters");
}
