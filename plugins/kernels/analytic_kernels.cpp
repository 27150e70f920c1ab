#include "analytic_kernels.hpp"

#include <algorithm>
#include <cstring>

#include "inner_product_gram.hpp"

namespace ntkssl::plugins {

namespace {

const ArchitectureDescription& require_architecture(const Config& cfg, const BuildContext& ctx) {
    if (!ctx.architecture) {
        cfg.fail("type", "an analytic kernel is the limit of the pipeline's network, but there is no [architecture] to read it from");
    }
    const ArchitectureDescription& a = *ctx.architecture;
    if (a.family != "two_layer" && a.family != "mlp") {
        cfg.fail("type", "knows the infinite-width limit of fully connected networks (two_layer, mlp), not of architecture family '" +
                             a.family + "'");
    }
    if (a.parametrization != "ntk") {
        cfg.fail("type", "the network uses parametrization = \"" + a.parametrization +
                             "\", whose NTK has no finite infinite-width limit (it grows like the width under \"standard\" and "
                             "vanishes like 1/width under \"mean-field\"); use parametrization = \"ntk\"");
    }
    if (a.hidden_widths.empty() || a.input_dim == 0) cfg.fail("type", "the architecture describes no hidden layer or no input dimension");
    const auto known = Activation::names();
    if (std::find(known.begin(), known.end(), a.activation) == known.end()) {
        cfg.fail("type", "has no Gaussian expectations for activation '" + a.activation + "'");
    }
    return a;
}

GaussianExpectations::Method method_of(const Config& cfg) {
    return cfg.get_string("method") == "quadrature" ? GaussianExpectations::Method::quadrature : GaussianExpectations::Method::automatic;
}

std::size_t degree_of(const Config& cfg) {
    const auto n = cfg.get_integer("quadrature_degree");
    cfg.require(n >= 2 && n <= 400, "quadrature_degree", "must be between 2 and 400");
    return static_cast<std::size_t>(n);
}

}  // namespace

std::vector<ParamSpec> AnalyticKernel::parameters() {
    return {
        ParamSpec::string("method", "auto",
                          "auto: closed forms for relu, leaky_relu, erf and identity, quadrature for the others; "
                          "quadrature: Gauss–Hermite for every activation",
                          {"auto", "quadrature"}),
        ParamSpec::integer("quadrature_degree", 64, "nodes per dimension of the two-dimensional Gauss–Hermite rule (tanh: ~1e-9 at 64)"),
    };
}

AnalyticKernel::AnalyticKernel(const Config& cfg, const BuildContext& ctx, Which which)
    : which_(which),
      arch_(require_architecture(cfg, ctx)),
      expect_(Activation(arch_.activation, arch_.negative_slope), method_of(cfg), degree_of(cfg)) {
    for (const auto& name : arch_.trainable) {
        train_w_ = train_w_ || (!name.empty() && name[0] == 'W');
        train_b_ = train_b_ || (!name.empty() && name[0] == 'b');
        train_v_ = train_v_ || name == "V";
    }
    input_scale_ = arch_.input_scaling ? 1.0 / static_cast<double>(arch_.input_dim) : 1.0;
}

std::vector<Vector> AnalyticKernel::diagonal(const Matrix& x) const {
    const double sw2 = arch_.sigma_w * arch_.sigma_w, sb2 = arch_.bias ? arch_.sigma_b * arch_.sigma_b : 0.0;
    const std::size_t layers = arch_.hidden_widths.size();
    std::vector<Vector> out;
    Vector s = squared_norms(x) * (sw2 * input_scale_) + sb2;
    out.push_back(s);
    for (std::size_t l = 1; l < layers; ++l) {
        Vector next = Vector::from_shape(s.shape());
        for (std::size_t i = 0; i < s.size(); ++i) {
            double ess = 0;
            expect_.row(s(i), &s(i), &s(i), 1, &ess, nullptr);
            next(i) = sw2 * ess + sb2;
        }
        s = next;
        out.push_back(s);
    }
    return out;
}

Matrix AnalyticKernel::gram(const Matrix& x1, const Matrix& x2) const {
    const char* name = which_ == Which::ntk ? "ntk_analytic" : "nngp_analytic";
    NTKSSL_CHECK(x1.shape(1) == arch_.input_dim && x2.shape(1) == arch_.input_dim, ShapeError,
                 name << ": inputs have " << x1.shape(1) << " and " << x2.shape(1) << " features, the network takes d = " << arch_.input_dim);
    const std::vector<Vector> d1 = diagonal(x1), d2 = diagonal(x2);
    const double sw2 = arch_.sigma_w * arch_.sigma_w, sv2 = arch_.sigma_v * arch_.sigma_v;
    const double sb2 = arch_.bias ? arch_.sigma_b * arch_.sigma_b : 0.0;
    const std::size_t layers = arch_.hidden_widths.size(), n2 = x2.shape(0);
    const bool ntk = which_ == Which::ntk;
    // gram(X, X) is symmetric: the expectations (the costly part) are computed for j ≥ i only
    // and the lower triangle is mirrored at the end.
    const bool symmetric = &x1 == &x2 || (x1.shape() == x2.shape() && std::equal(x1.begin(), x1.end(), x2.begin()));

    Matrix gram = inner_product_gram(x1, x2, name, [&](std::size_t r0, const Matrix& dots, Matrix& out) {
        const std::size_t rows = dots.shape(0);
        Matrix sigma = dots * (sw2 * input_scale_) + sb2;                                     // Σ¹
        Matrix theta = dots * ((train_w_ ? sw2 : 0.0) * input_scale_) + (train_b_ ? sb2 : 0.0);  // Θ¹
        Matrix ess = xt::zeros<double>(dots.shape()), edd = xt::zeros<double>(dots.shape());
        // Layers 2..L, then the readout (l = L): the expectations under Σˡ.
        for (std::size_t l = 1; l <= layers; ++l) {
            const Vector& c1 = d1[l - 1];
            const Vector& c2 = d2[l - 1];
            const bool readout = l == layers;
            for (std::size_t i = 0; i < rows; ++i) {
                const std::size_t j0 = symmetric ? r0 + i : 0;
                expect_.row(c1(r0 + i), c2.data() + j0, &sigma(i, j0), n2 - j0, &ess(i, j0), (ntk ? &edd(i, j0) : nullptr));
            }
            if (readout) {
                if (ntk) out = (train_v_ ? sv2 : 0.0) * ess + sv2 * edd * theta;
                else out = sv2 * ess;
                return;
            }
            if (ntk) theta = (train_w_ ? sw2 : 0.0) * ess + (train_b_ ? sb2 : 0.0) + sw2 * edd * theta;
            sigma = sw2 * ess + sb2;
        }
    });
    if (symmetric)
        for (std::size_t i = 0; i < gram.shape(0); ++i)
            for (std::size_t j = 0; j < i; ++j) gram(i, j) = gram(j, i);
    return gram;
}

}  // namespace ntkssl::plugins
