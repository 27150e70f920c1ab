// two_layer and mlp: the architecture contract for every activation, parametrization, bias and
// trainable choice; the forward pass against SCIENCE.md's formula; the NTK at initialization
// against its infinite-width limit.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include <ntkssl/linalg.hpp>
#include <ntkssl/testing/architecture_contract.hpp>
#include <xtensor-blas/xlinalg.hpp>

#include "ntkssl/core/ntk.hpp"
#include "plugin_fixture.hpp"

using namespace ntkssl;
using namespace ntkssl::core;
using ntkssl::test::param;

namespace {

Component<Architecture> make(std::vector<Config::Entry> params, std::size_t d, const std::string& type = "two_layer") {
    BuildContext ctx;
    ctx.input_dim = d;
    return ntkssl::test::registry().create<Architecture>(PluginKind::architecture, type, "architecture", {"test", 0, 0},
                                                         std::move(params), ctx);
}

Matrix random_matrix(std::size_t r, std::size_t c, Rng& rng, double scale = 1.0) {
    Matrix m = Matrix::from_shape({r, c});
    rng.fill_normal(m, 0.0, scale);
    return m;
}

struct Variant {
    std::string activation, parametrization;
    bool bias;
    std::vector<std::string> trainable;
};

std::vector<Variant> variants() {
    std::vector<Variant> out;
    for (const char* act : {"tanh", "relu", "leaky_relu", "erf", "gelu", "softplus", "identity"})
        for (const char* par : {"ntk", "standard", "mean-field"}) out.push_back({act, par, true, {"W", "V", "b"}});
    for (const char* par : {"ntk", "mean-field"}) {
        out.push_back({"tanh", par, false, {"W", "V"}});
        out.push_back({"tanh", par, false, {"W"}});
        out.push_back({"tanh", par, false, {"V"}});
        out.push_back({"relu", par, true, {"b"}});
        out.push_back({"erf", par, true, {"W", "b"}});
    }
    return out;
}

std::vector<Config::Entry> params_of(const Variant& v, std::int64_t width, std::int64_t k) {
    return {param("width", width), param("output_dim", k), param("activation", v.activation),
            param("parametrization", v.parametrization), param("bias", v.bias), param("trainable", v.trainable),
            param("sigma_w", 1.3), param("sigma_v", 0.8), param("sigma_b", 0.5)};
}

std::string name_of(const Variant& v) {
    std::string t;
    for (const auto& s : v.trainable) t += s;
    return v.activation + "/" + v.parametrization + "/bias=" + (v.bias ? "on" : "off") + "/trains=" + t;
}

}  // namespace

TEST_CASE("forward equals the formula of SCIENCE.md computed with scalar loops") {
    // f(x) = (1/√M) V tanh(W x / √d), N(0,1) init, no bias: the paper's network.
    const std::size_t d = 5, m = 7, k = 3, n = 4;
    const auto arch = make({param("width", std::int64_t(m)), param("output_dim", std::int64_t(k))}, d);
    Rng rng(1);
    Vector theta;
    arch.get().initialize(theta, rng);
    REQUIRE(theta.size() == m * d + k * m);
    const Matrix x = random_matrix(n, d, rng);
    const Matrix z = arch.get().forward(theta, x);
    for (std::size_t a = 0; a < n; ++a)
        for (std::size_t o = 0; o < k; ++o) {
            double f = 0;
            for (std::size_t j = 0; j < m; ++j) {
                double u = 0;
                for (std::size_t i = 0; i < d; ++i) u += theta(j * d + i) * x(a, i);
                f += theta(m * d + o * m + j) * std::tanh(u / std::sqrt(double(d)));
            }
            CHECK(z(a, o) == doctest::Approx(f / std::sqrt(double(m))).epsilon(1e-13));
        }
}

TEST_CASE("initialization: N(0,1) entries under the NTK parametrization (Monte Carlo)") {
    const auto arch = make({param("width", std::int64_t(4000)), param("output_dim", std::int64_t(5))}, 25);
    Rng rng(9);
    Vector theta;
    arch.get().initialize(theta, rng);
    double s = 0, s2 = 0;
    for (double v : theta) {
        s += v;
        s2 += v * v;
    }
    const double n = static_cast<double>(theta.size()), mean = s / n, var = s2 / n - mean * mean;
    CHECK(std::fabs(mean) < 5 / std::sqrt(n));
    CHECK(std::fabs(var - 1) < 5 * std::sqrt(2 / n));
}

TEST_CASE("two_layer: every variant satisfies the architecture contract") {
    for (const auto& v : variants()) {
        CAPTURE(name_of(v));
        testing::check_architecture_contract(make(params_of(v, 7, 3), 4).get());
    }
}

TEST_CASE("mlp: every variant satisfies the architecture contract, equal and unequal widths") {
    for (const auto& v : variants()) {
        CAPTURE(name_of(v));
        auto p = params_of(v, 0, 2);
        p.erase(p.begin());  // no width: depth and widths below
        p.push_back(param("widths", std::vector<std::int64_t>{5, 6, 4}));
        testing::check_architecture_contract(make(p, 3, "mlp").get());
    }
    testing::check_architecture_contract(make({param("width", std::int64_t(6)), param("depth", std::int64_t(2))}, 4, "mlp").get());
}

TEST_CASE("mlp with one hidden layer is two_layer: same parameters, same function, same NTK") {
    const auto two = make({param("width", std::int64_t(9)), param("bias", true), param("trainable", std::vector<std::string>{"W", "V", "b"})}, 5);
    const auto one = make({param("widths", std::vector<std::int64_t>{9}), param("bias", true),
                           param("trainable", std::vector<std::string>{"W", "V", "b"})}, 5, "mlp");
    Rng r1(4), r2(4);
    Vector t1, t2;
    two.get().initialize(t1, r1);
    one.get().initialize(t2, r2);
    REQUIRE(t1.size() == t2.size());
    CHECK(std::equal(t1.begin(), t1.end(), t2.begin()));
    Matrix x = Matrix::from_shape({4, 5});
    r1.fill_normal(x);
    const Matrix z1 = two.get().forward(t1, x), z2 = one.get().forward(t1, x);
    CHECK(std::equal(z1.begin(), z1.end(), z2.begin()));
    const Matrix a = two.get().structured_ntk(t1, x, x, NtkOutput::full, 1 << 20), b = one.get().structured_ntk(t1, x, x, NtkOutput::full, 1 << 20);
    Matrix diff = a - b;
    CHECK(linalg::frobenius_norm(diff) <= 1e-12 * linalg::frobenius_norm(a));
}

TEST_CASE("the core's generic (Jacobian) and structured NTK paths agree to 1e-10 in every output mode") {
    for (const char* type : {"two_layer", "mlp"}) {
        CAPTURE(type);
        const auto arch = make({param("width", std::int64_t(8)), param("bias", true), param("trainable", std::vector<std::string>{"W", "V", "b"})},
                               6, type);
        Rng rng(5);
        Vector theta;
        arch.get().initialize(theta, rng);
        const Matrix x1 = random_matrix(4, 6, rng), x2 = random_matrix(4, 6, rng);
        for (NtkOutput out : {NtkOutput::full, NtkOutput::trace, NtkOutput::diagonal_blocks}) {
            // A budget of one byte: every sample its own Jacobian chunk.
            const Matrix generic = empirical_ntk(arch, theta, x1, x2, NtkMethod::generic, 1, out);
            const Matrix fast = empirical_ntk(arch, theta, x1, x2, NtkMethod::structured, 1 << 20, out);
            REQUIRE(fast.shape() == generic.shape());
            Matrix diff = fast - generic;
            CHECK(linalg::frobenius_norm(diff) <= 1e-10 * linalg::frobenius_norm(generic));
        }
    }
}

TEST_CASE("the empirical NTK's smallest eigenvalue is >= -1e-10 times its largest (LAPACK)") {
    // Θ = J Jᵀ is PSD; rounding may leave tiny negative eigenvalues, never larger ones.
    for (const char* type : {"two_layer", "mlp"})
        for (const char* act : {"tanh", "relu"}) {
            CAPTURE(type);
            CAPTURE(act);
            const auto arch = make({param("width", std::int64_t(24)), param("activation", std::string(act)), param("bias", true),
                                    param("trainable", std::vector<std::string>{"W", "V", "b"})},
                                   5, type);
            Rng rng(8);
            Vector theta;
            arch.get().initialize(theta, rng);
            const Matrix x = random_matrix(12, 5, rng);
            const Matrix ntk = arch.get().structured_ntk(theta, x, x, NtkOutput::full, std::size_t{1} << 24);
            const xt::xarray<double> eig = xt::linalg::eigvalsh(xt::xarray<double>(ntk));
            const double lo = xt::amin(eig)(), hi = xt::amax(eig)();
            CHECK(hi > 0);
            CHECK(lo >= -1e-10 * hi);
        }
}

namespace {

// Closed forms of SCIENCE.md for ReLU (arc-cosine kernel) of (u, v) ~ N(0, [[s11, s12], [s12, s22]]).
struct Relu2 {
    double ss, dd;  // E[σ(u)σ(v)], E[σ'(u)σ'(v)]
};
Relu2 relu_expectations(double s11, double s22, double s12) {
    const double c = std::clamp(s12 / std::sqrt(s11 * s22), -1.0, 1.0), phi = std::acos(c);
    return {std::sqrt(s11 * s22) * (std::sin(phi) + (M_PI - phi) * std::cos(phi)) / (2 * M_PI), (M_PI - phi) / (2 * M_PI)};
}

// Empirical NTK at init of a two_layer network (input_scaling off), averaged over seeds.
Matrix mean_ntk(const std::string& act, std::int64_t width, const Matrix& x, int seeds) {
    const auto arch = make({param("width", width), param("output_dim", std::int64_t(2)), param("activation", act),
                            param("input_scaling", false)},
                           x.shape(1));
    Matrix sum = xt::zeros<double>({x.shape(0) * 2, x.shape(0) * 2});
    for (int s = 0; s < seeds; ++s) {
        Rng rng(100 + s);
        Vector theta;
        arch.get().initialize(theta, rng);
        sum += arch.get().structured_ntk(theta, x, x, NtkOutput::full, std::size_t{1} << 28);
    }
    return sum / static_cast<double>(seeds);
}

const Matrix kPair = {{0.8, -0.3, 0.5}, {0.1, 0.9, -0.4}};  // SCIENCE.md's reference inputs

}  // namespace

TEST_CASE("the ReLU closed form reproduces SCIENCE.md's reference values") {
    const auto e = relu_expectations(0.98, 0.98, -0.39);  // ‖x‖² = ‖x'‖² = 0.98, x·x' = −0.39
    CHECK(e.ss == doctest::Approx(0.07099).epsilon(2e-4));
    CHECK(e.dd == doctest::Approx(0.1849).epsilon(2e-4));
}

TEST_CASE("at init the ReLU NTK is its closed-form infinite-width limit times I_K, up to O(M^-1/2)") {
    // Θ∞(x, x') = E[σσ] + (x·x') E[σ'σ'] on the diagonal output blocks, 0 off the diagonal.
    // Width 32768 and 4 seeds: entries fluctuate by about 0.005/√4; the tolerance 0.02 is
    // about 8 standard deviations, while a wrong term (e.g. a missing factor 1/2) is off by 0.2+.
    const Matrix ntk = mean_ntk("relu", 32768, kPair, 4);
    for (std::size_t a = 0; a < 2; ++a)
        for (std::size_t b = 0; b < 2; ++b) {
            double s11 = 0, s22 = 0, s12 = 0;
            for (std::size_t i = 0; i < 3; ++i) {
                s11 += kPair(a, i) * kPair(a, i);
                s22 += kPair(b, i) * kPair(b, i);
                s12 += kPair(a, i) * kPair(b, i);
            }
            const auto e = relu_expectations(s11, s22, s12);
            const double limit = e.ss + s12 * e.dd;
            CAPTURE(a);
            CAPTURE(b);
            for (std::size_t k = 0; k < 2; ++k) CHECK(std::fabs(ntk(a * 2 + k, b * 2 + k) - limit) < 0.02);
            CHECK(std::fabs(ntk(a * 2, b * 2 + 1)) < 0.02);
        }
}

TEST_CASE("at init the tanh NTK matches an independent Monte Carlo estimate of its limit") {
    // Limit by direct sampling: (u, v) = (w·x, w·x') with w ~ N(0, I_3), 2·10^6 draws
    // (Monte Carlo error ≈ 1e-3), compared with the network at width 32768 (4 seeds).
    Rng rng(77);
    const int draws = 2000000;
    double t11 = 0, t12 = 0, t22 = 0;
    double s11 = 0, s12 = 0, s22 = 0;
    for (std::size_t i = 0; i < 3; ++i) {
        s11 += kPair(0, i) * kPair(0, i);
        s12 += kPair(0, i) * kPair(1, i);
        s22 += kPair(1, i) * kPair(1, i);
    }
    for (int t = 0; t < draws; ++t) {
        double u = 0, v = 0;
        for (std::size_t i = 0; i < 3; ++i) {
            const double w = rng.normal();
            u += w * kPair(0, i);
            v += w * kPair(1, i);
        }
        const double tu = std::tanh(u), tv = std::tanh(v), du = 1 - tu * tu, dv = 1 - tv * tv;
        t11 += tu * tu + s11 * du * du;
        t12 += tu * tv + s12 * du * dv;
        t22 += tv * tv + s22 * dv * dv;
    }
    const Matrix ntk = mean_ntk("tanh", 32768, kPair, 4);
    CHECK(std::fabs(ntk(0, 0) - t11 / draws) < 0.02);
    CHECK(std::fabs(ntk(0, 2) - t12 / draws) < 0.02);
    CHECK(std::fabs(ntk(2, 2) - t22 / draws) < 0.02);
    CHECK(std::fabs(ntk(3, 3) - t22 / draws) < 0.02);
}

TEST_CASE("at init the off-diagonal output blocks shrink like M^-1/2") {
    // Mean |Θ_12| over 8 seeds and the 2×2 sample pairs, at widths 256 and 16384: the ratio is
    // √64 = 8 for M^-1/2; [4, 16] excludes M^0 (1) and M^-1 (64) with room for seed noise.
    auto off = [](std::int64_t width) {
        const auto arch = make({param("width", width), param("output_dim", std::int64_t(2)), param("input_scaling", false)}, 3);
        double sum = 0;
        for (int s = 0; s < 8; ++s) {
            Rng rng(500 + s);
            Vector theta;
            arch.get().initialize(theta, rng);
            const Matrix t = arch.get().structured_ntk(theta, kPair, kPair, NtkOutput::full, std::size_t{1} << 28);
            for (std::size_t a = 0; a < 2; ++a)
                for (std::size_t b = 0; b < 2; ++b) sum += std::fabs(t(a * 2, b * 2 + 1));
        }
        return sum;
    };
    const double ratio = off(256) / off(16384);
    CHECK(ratio > 4.0);
    CHECK(ratio < 16.0);
}

TEST_CASE("invalid combinations are refused with the key and what is valid") {
    auto message = [](std::vector<Config::Entry> p) {
        try {
            make(std::move(p), 4);
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    CHECK(message({param("trainable", std::vector<std::string>{"b"})}).find("lists \"b\" but bias = false") != std::string::npos);
    CHECK(message({param("width", std::int64_t(0))}).find("architecture.width = 0: must be at least 1") != std::string::npos);
    CHECK(message({param("activation", std::string("sigmoid"))}).find("valid values are: tanh, relu, leaky_relu, erf, gelu, softplus, identity") !=
          std::string::npos);
}
