// Synthetic datasets: no files, drawn from the Rng the core hands in.
//
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

// `count` points drawn uniformly on the sphere of the given radius in R^dim (class centres).
Matrix random_centres(Rng rng, std::size_t count, std::size_t dim, double radius) {
    Matrix centres = Matrix::from_shape({count, dim});
    for (std::size_t k = 0; k < count; ++k) {
        double norm = 0;
        for (std::size_t j = 0; j < dim; ++j) norm += (centres(k, j) = rng.normal()) * centres(k, j);
        norm = std::sqrt(norm);
        for (std::size_t j = 0; j < dim; ++j) centres(k, j) *= norm > 0 ? radius / norm : 0.0;
    }
    return centres;
}

// synthetic.gaussian_mixture: C labelled Gaussian clusters in R^d. Centres are drawn uniformly
// on the sphere of radius `separation`; point i belongs to class i mod C and is its centre plus
// N(0, σ² I_d). With separation ≫ σ the classes are linearly separable.
class GaussianMixture final : public Dataset {
public:
    static std::vector<ParamSpec> parameters() {
        return {
            ParamSpec::integer("n", 64, "number of samples N"),
            ParamSpec::integer("dim", 20, "dimension d"),
            ParamSpec::integer("classes", 4, "number of classes C (labels 0..C−1)"),
            ParamSpec::real("separation", 3.0, "norm of the class centres"),
            ParamSpec::real("sigma", 1.0, "standard deviation σ of each coordinate around its centre"),
        };
    }
    explicit GaussianMixture(const Config& cfg)
        : n_(cfg.get_integer("n")), dim_(cfg.get_integer("dim")), classes_(cfg.get_integer("classes")),
          separation_(cfg.get_real("separation")), sigma_(cfg.get_real("sigma")) {
        cfg.require(n_ >= 1, "n", "must be at least 1");
        cfg.require(dim_ >= 1, "dim", "must be at least 1");
        cfg.require(classes_ >= 1, "classes", "must be at least 1");
        cfg.require(separation_ >= 0 && std::isfinite(separation_), "separation", "must be a finite number >= 0");
        cfg.require(sigma_ >= 0 && std::isfinite(sigma_), "sigma", "must be a finite number >= 0");
    }
    DatasetData load(Rng& rng) const override {
        const auto n = static_cast<std::size_t>(n_), d = static_cast<std::size_t>(dim_), c = static_cast<std::size_t>(classes_);
        const Matrix centres = random_centres(rng.derive("centres"), c, d, separation_);
        Rng point_rng = rng.derive("points");
        DatasetData data;
        data.x = Matrix::from_shape({n, d});
        data.sample_shape = {d};
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t k = i % c;
            for (std::size_t j = 0; j < d; ++j) data.x(i, j) = centres(k, j) + sigma_ * point_rng.normal();
            data.labels.push_back(static_cast<int>(k));
        }
        std::ostringstream os;
        os << "synthetic.gaussian_mixture(n=" << n_ << ", dim=" << dim_ << ", classes=" << classes_ << ", separation=" << separation_
           << ", sigma=" << sigma_ << ", stream=" << rng.key() << ")";
        data.provenance = os.str();
        return data;
    }

private:
    std::int64_t n_, dim_, classes_;
    double separation_, sigma_;
};

// synthetic.latent_classes: data whose augmentation structure is known. The first `signal_dims`
// coordinates carry the class (centre μ_y, spread `signal_sigma`); the remaining `nuisance_dims`
// coordinates are pure nuisance, N(0, nuisance_sigma²), independent of the class. An
// augmentation that perturbs only nuisance directions preserves the class exactly, and one that
// perturbs everything (gaussian_noise) mixes both — so what an SSL method should learn (the
// signal subspace) is known in advance.
class LatentClasses final : public Dataset {
public:
    static std::vector<ParamSpec> parameters() {
        return {
            ParamSpec::integer("n", 64, "number of samples N"),
            ParamSpec::integer("classes", 4, "number of latent classes C"),
            ParamSpec::integer("signal_dims", 4, "coordinates that carry the class"),
            ParamSpec::integer("nuisance_dims", 16, "coordinates that carry only nuisance"),
            ParamSpec::real("separation", 3.0, "norm of the class centres in the signal coordinates"),
            ParamSpec::real("signal_sigma", 0.3, "spread around the class centre in the signal coordinates"),
            ParamSpec::real("nuisance_sigma", 1.0, "standard deviation of the nuisance coordinates"),
        };
    }
    explicit LatentClasses(const Config& cfg)
        : n_(cfg.get_integer("n")), classes_(cfg.get_integer("classes")), signal_(cfg.get_integer("signal_dims")),
          nuisance_(cfg.get_integer("nuisance_dims")), separation_(cfg.get_real("separation")),
          signal_sigma_(cfg.get_real("signal_sigma")), nuisance_sigma_(cfg.get_real("nuisance_sigma")) {
        cfg.require(n_ >= 1, "n", "must be at least 1");
        cfg.require(classes_ >= 1, "classes", "must be at least 1");
        cfg.require(signal_ >= 1, "signal_dims", "must be at least 1");
        cfg.require(nuisance_ >= 0, "nuisance_dims", "must be >= 0");
        for (const char* key : {"separation", "signal_sigma", "nuisance_sigma"})
            cfg.require(cfg.get_real(key) >= 0 && std::isfinite(cfg.get_real(key)), key, "must be a finite number >= 0");
    }
    DatasetData load(Rng& rng) const override {
        const auto n = static_cast<std::size_t>(n_), c = static_cast<std::size_t>(classes_);
        const auto s = static_cast<std::size_t>(signal_), d = s + static_cast<std::size_t>(nuisance_);
        const Matrix centres = random_centres(rng.derive("centres"), c, s, separation_);
        Rng point_rng = rng.derive("points");
        DatasetData data;
        data.x = Matrix::from_shape({n, d});
        data.sample_shape = {d};
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t k = i % c;
            for (std::size_t j = 0; j < s; ++j) data.x(i, j) = centres(k, j) + signal_sigma_ * point_rng.normal();
            for (std::size_t j = s; j < d; ++j) data.x(i, j) = nuisance_sigma_ * point_rng.normal();
            data.labels.push_back(static_cast<int>(k));
        }
        std::ostringstream os;
        os << "synthetic.latent_classes(n=" << n_ << ", classes=" << classes_ << ", signal_dims=" << signal_ << ", nuisance_dims=" << nuisance_
           << ", stream=" << rng.key() << ")";
        data.provenance = os.str();
        return data;
    }

private:
    std::int64_t n_, classes_, signal_, nuisance_;
    double separation_, signal_sigma_, nuisance_sigma_;
};

}  // namespace ntkssl::plugins

NTKSSL_PLUGIN("ntkssl.datasets.synthetic", NTKSSL_VERSION) {
    ntkssl::register_plugin<ntkssl::plugins::Sphere>(registrar, "synthetic.sphere",
                                                     "points on the unit sphere in R^d, optionally in labelled clusters");
    ntkssl::register_plugin<ntkssl::plugins::GaussianMixture>(registrar, "synthetic.gaussian_mixture",
                                                              "labelled Gaussian clusters with a chosen separation");
    ntkssl::register_plugin<ntkssl::plugins::LatentClasses>(registrar, "synthetic.latent_classes",
                                                            "class signal in some coordinates, pure nuisance in the others");
}
