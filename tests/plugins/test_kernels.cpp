// Kernels: Gauss–Hermite rules, the Gaussian expectations of each activation against closed
// forms, high-degree quadrature and Monte Carlo, the analytic NTK/NNGP through the loader
// against SCIENCE.md's reference values and against wide networks, and the classic kernels
// against their formulas evaluated entry by entry.
#include <doctest/doctest.h>

#include <cmath>

#include <ntkssl/linalg.hpp>

#include "kernels/gauss_hermite.hpp"
#include "kernels/gaussian_expectations.hpp"
#include "ntkssl/core/ntk.hpp"
#include "plugin_fixture.hpp"

using namespace ntkssl;
using namespace ntkssl::core;
using ntkssl::test::param;
using plugins::Activation;
using plugins::GaussianExpectations;

namespace {

const Matrix kPair = {{0.8, -0.3, 0.5}, {0.1, 0.9, -0.4}};  // SCIENCE.md's reference inputs
// Their Gram entries without scaling: ‖x‖² = ‖x'‖² = 0.98, x·x' = −0.39.
constexpr double kS11 = 0.98, kS22 = 0.98, kS12 = -0.39;

struct Pair {
    double ss, dd;
};

Pair expect(const std::string& act, double s11, double s22, double s12, GaussianExpectations::Method m, std::size_t degree,
            double slope = 0.0) {
    const GaussianExpectations g(Activation(act, slope), m, degree);
    Pair p{};
    g.row(s11, &s22, &s12, 1, &p.ss, &p.dd);
    return p;
}

// E[σ(u)σ(v)], E[σ'(u)σ'(v)] by direct sampling of (u, v) = (w·x, w·x'), w ~ N(0, I_3).
Pair monte_carlo(const std::string& act, int draws, std::uint64_t seed, Pair* stderr_out) {
    const Activation a(act);
    Rng rng(seed);
    double ss = 0, dd = 0, ss2 = 0, dd2 = 0;
    for (int t = 0; t < draws; ++t) {
        double u = 0, v = 0;
        for (std::size_t i = 0; i < 3; ++i) {
            const double w = rng.normal();
            u += w * kPair(0, i);
            v += w * kPair(1, i);
        }
        const double s = a.value(u) * a.value(v), d = a.derivative(u) * a.derivative(v);
        ss += s;
        dd += d;
        ss2 += s * s;
        dd2 += d * d;
    }
    const double n = draws;
    ss /= n;
    dd /= n;
    if (stderr_out) *stderr_out = {std::sqrt((ss2 / n - ss * ss) / n), std::sqrt((dd2 / n - dd * dd) / n)};
    return {ss, dd};
}

ArchitectureDescription dense(const std::string& family, const std::string& act, std::vector<std::size_t> widths, bool input_scaling,
                              std::size_t d) {
    ArchitectureDescription a;
    a.family = family;
    a.activation = act;
    a.parametrization = "ntk";
    a.input_dim = d;
    a.output_dim = 2;
    a.hidden_widths = std::move(widths);
    a.input_scaling = input_scaling;
    a.trainable = {"W", "V"};
    return a;
}

Component<Kernel> kernel(const std::string& type, const ArchitectureDescription* arch, std::vector<Config::Entry> params = {}) {
    BuildContext ctx;
    ctx.architecture = arch;
    if (arch) ctx.input_dim = arch->input_dim;
    return ntkssl::test::registry().create<Kernel>(PluginKind::kernel, type, "kernel", {"test", 0, 0}, std::move(params), ctx);
}

Component<Architecture> network(const std::string& type, std::vector<Config::Entry> params, std::size_t d) {
    BuildContext ctx;
    ctx.input_dim = d;
    return ntkssl::test::registry().create<Architecture>(PluginKind::architecture, type, "architecture", {"test", 0, 0},
                                                         std::move(params), ctx);
}

Matrix random_matrix(std::size_t r, std::size_t c, std::uint64_t seed, double scale = 1.0) {
    Rng rng(seed);
    Matrix m = Matrix::from_shape({r, c});
    rng.fill_normal(m, 0.0, scale);
    return m;
}

}  // namespace

TEST_CASE("Gauss-Hermite with n nodes integrates e^{-t^2} t^{2j} exactly up to degree 2n-1") {
    // ∫ e^{−t²} t^{2j} dt = Γ(j + 1/2); odd moments vanish. Exact in exact arithmetic; in double
    // the rounding of a sum is relative to Σ w|t|^deg (odd moments cancel between ±t).
    for (std::size_t n : {1, 5, 12, 40}) {
        const auto q = plugins::gauss_hermite(n);
        REQUIRE(q.nodes.size() == n);
        for (std::size_t deg = 0; deg + 1 <= 2 * n; ++deg) {
            double s = 0, scale = 0;
            for (std::size_t i = 0; i < n; ++i) {
                const double term = q.weights[i] * std::pow(q.nodes[i], static_cast<double>(deg));
                s += term;
                scale += std::fabs(term);
            }
            const double exact = deg % 2 ? 0.0 : std::tgamma(static_cast<double>(deg) / 2 + 0.5);
            CAPTURE(n);
            CAPTURE(deg);
            CHECK(std::fabs(s - exact) <= 1e-12 * static_cast<double>(n + deg) * scale);
        }
    }
    // The classic 5-point rule (Abramowitz & Stegun, table 25.10).
    const auto q5 = plugins::gauss_hermite(5);
    CHECK(q5.nodes[4] == doctest::Approx(2.020182870456086).epsilon(1e-14));
    CHECK(q5.weights[4] == doctest::Approx(0.019953242059046).epsilon(1e-12));
    CHECK(q5.weights[2] == doctest::Approx(0.945308720482942).epsilon(1e-12));
}

TEST_CASE("closed forms reproduce SCIENCE.md's reference values (ReLU and erf)") {
    const auto relu = expect("relu", kS11, kS22, kS12, GaussianExpectations::Method::automatic, 8);
    CHECK(relu.ss == doctest::Approx(0.07099).epsilon(1e-4));
    CHECK(relu.dd == doctest::Approx(0.1849).epsilon(2e-4));
    const auto erf = expect("erf", kS11, kS22, kS12, GaussianExpectations::Method::automatic, 8);
    CHECK(erf.ss == doctest::Approx(-0.1698).epsilon(3e-4));
    CHECK(erf.dd == doctest::Approx(0.4459).epsilon(2e-4));
}

TEST_CASE("closed forms agree with high-degree quadrature: erf, identity to 1e-10, relu and leaky relu to the kink's rate") {
    using M = GaussianExpectations::Method;
    const double cases[][3] = {{kS11, kS22, kS12}, {1.0, 2.0, 0.9}, {0.3, 0.3, 0.3}, {2.0, 0.5, -0.99}};
    for (const auto& c : cases) {
        CAPTURE(c[2]);
        for (const char* act : {"erf", "identity"}) {
            const auto closed = expect(act, c[0], c[1], c[2], M::automatic, 8);
            const auto quad = expect(act, c[0], c[1], c[2], M::quadrature, 80);
            CHECK(std::fabs(closed.ss - quad.ss) < 1e-10);
            CHECK(std::fabs(closed.dd - quad.dd) < 1e-10);
        }
        // relu's kink: Gauss–Hermite converges only polynomially; at degree 300 the error is
        // below 1e-3 on these cases (and a wrong closed form is off by more than 1e-2).
        for (double slope : {0.0, 0.2}) {
            const char* act = slope > 0 ? "leaky_relu" : "relu";
            const auto closed = expect(act, c[0], c[1], c[2], M::automatic, 8, slope);
            const auto quad = expect(act, c[0], c[1], c[2], M::quadrature, 300, slope);
            CAPTURE(std::string(act));
            CHECK(std::fabs(closed.ss - quad.ss) < 1e-3);
            CHECK(std::fabs(closed.dd - quad.dd) < 1e-2);
        }
    }
}

TEST_CASE("tanh by quadrature agrees with Monte Carlo (5 standard errors) and is not erf") {
    Pair se{};
    const auto mc = monte_carlo("tanh", 2000000, 11, &se);
    const auto quad = expect("tanh", kS11, kS22, kS12, GaussianExpectations::Method::automatic, 64);
    CHECK(std::fabs(quad.ss - mc.ss) < 5 * se.ss);
    CHECK(std::fabs(quad.dd - mc.dd) < 5 * se.dd);
    // The default degree 64 has converged: it agrees with degree 160 to 1e-9 for E[σσ] and 1e-8
    // for E[σ'σ'] (tanh's poles at ±iπ/2 limit Gauss–Hermite to a rate of about exp(−c√n)).
    const auto fine = expect("tanh", kS11, kS22, kS12, GaussianExpectations::Method::automatic, 160);
    CHECK(std::fabs(quad.ss - fine.ss) < 1e-9);
    CHECK(std::fabs(quad.dd - fine.dd) < 1e-8);
    // erf is a different function: about 5% off on these inputs, far outside the Monte Carlo error.
    const auto erf = expect("erf", kS11, kS22, kS12, GaussianExpectations::Method::automatic, 8);
    CHECK(std::fabs(erf.dd - quad.dd) > 0.02 * std::fabs(quad.dd));
    for (const char* act : {"gelu", "softplus"}) {
        const auto m = monte_carlo(act, 1000000, 13, &se);
        const auto q = expect(act, kS11, kS22, kS12, GaussianExpectations::Method::automatic, 64);
        CAPTURE(std::string(act));
        CHECK(std::fabs(q.ss - m.ss) < 5 * se.ss);
        CHECK(std::fabs(q.dd - m.dd) < 5 * se.dd);
    }
}

TEST_CASE("ntk_analytic and nngp_analytic of a two-layer network are SCIENCE.md's formula") {
    // No input scaling, unit scales: NNGP = E[σσ], NTK = E[σσ] + (x·x') E[σ'σ'].
    for (const char* act : {"relu", "erf", "tanh"}) {
        const auto desc = dense("two_layer", act, {512}, false, 3);
        const Matrix ntk = kernel("ntk_analytic", &desc).get().gram(kPair, kPair);
        const Matrix nngp = kernel("nngp_analytic", &desc).get().gram(kPair, kPair);
        const auto e = expect(act, kS11, kS22, kS12, GaussianExpectations::Method::automatic, 64);
        CAPTURE(std::string(act));
        CHECK(nngp(0, 1) == doctest::Approx(e.ss).epsilon(1e-12));
        CHECK(ntk(0, 1) == doctest::Approx(e.ss + kS12 * e.dd).epsilon(1e-12));
        CHECK(ntk(1, 0) == doctest::Approx(ntk(0, 1)).epsilon(1e-14));
    }
    // Input scaling 1/d and σ_v, σ_w enter as Σ = σ_w² x·x'/d and an overall σ_v².
    auto desc = dense("two_layer", "relu", {512}, true, 3);
    desc.sigma_w = 1.5;
    desc.sigma_v = 0.7;
    const Matrix ntk = kernel("ntk_analytic", &desc).get().gram(kPair, kPair);
    const double c = 1.5 * 1.5 / 3.0;
    const auto e = expect("relu", c * kS11, c * kS22, c * kS12, GaussianExpectations::Method::automatic, 8);
    CHECK(ntk(0, 1) == doctest::Approx(0.49 * (e.ss + c * kS12 * e.dd)).epsilon(1e-12));
}

TEST_CASE("the multi-layer recursion matches the empirical NTK of wide MLPs averaged over seeds") {
    // Depth 2 and 3, tanh and relu, with biases. Over S = 8 seeds at width 2048 every entry of
    // the empirical NTK has a sample mean and a standard error; it must lie within 5 standard
    // errors of the limit, plus 1% of the diagonal for the O(1/M) finite-width bias. Dropping
    // the backpropagated term (the NNGP part alone) misses by 30% and more.
    const Matrix x = random_matrix(4, 5, 3, 0.6);
    const int seeds = 8;
    for (const char* act : {"tanh", "relu"})
        for (std::int64_t depth : {2, 3}) {
            const auto net = network("mlp",
                                     {param("width", std::int64_t(2048)), param("depth", depth), param("output_dim", std::int64_t(1)),
                                      param("activation", std::string(act)), param("bias", true),
                                      param("trainable", std::vector<std::string>{"W", "V", "b"}), param("sigma_w", 1.2),
                                      param("sigma_b", 0.4), param("sigma_v", 0.9)},
                                     5);
            const ArchitectureDescription desc = net.get().describe();
            const Matrix limit = kernel("ntk_analytic", &desc).get().gram(x, x);
            Matrix sum = xt::zeros<double>({4, 4}), sum2 = xt::zeros<double>({4, 4});
            for (int s = 0; s < seeds; ++s) {
                Rng rng(500 + s);
                Vector theta;
                net.get().initialize(theta, rng);
                const Matrix ntk = net.get().structured_ntk(theta, x, x, NtkOutput::full, std::size_t{1} << 28);
                sum += ntk;
                sum2 += ntk * ntk;
            }
            const Matrix mean = sum / static_cast<double>(seeds);
            CAPTURE(std::string(act));
            CAPTURE(depth);
            for (std::size_t i = 0; i < 4; ++i)
                for (std::size_t j = 0; j < 4; ++j) {
                    const double var = (sum2(i, j) - seeds * mean(i, j) * mean(i, j)) / (seeds - 1);
                    const double se = std::sqrt(std::max(var, 0.0) / seeds);
                    CAPTURE(i);
                    CAPTURE(j);
                    CHECK(std::fabs(mean(i, j) - limit(i, j)) < 5 * se + 0.01 * limit(i, i));
                }
            const Matrix nngp = kernel("nngp_analytic", &desc).get().gram(x, x);
            CHECK(std::fabs(mean(0, 0) - nngp(0, 0)) > 0.3 * limit(0, 0));
        }
}

TEST_CASE("analytic kernels refuse what has no limit, naming the reason") {
    auto desc = dense("two_layer", "tanh", {64}, true, 3);
    desc.parametrization = "mean-field";
    auto msg = ntkssl::test::error_message<ConfigError>([&] { kernel("ntk_analytic", &desc); });
    CHECK(msg.find("parametrization = \"mean-field\"") != std::string::npos);
    CHECK(msg.find("use parametrization = \"ntk\"") != std::string::npos);
    msg = ntkssl::test::error_message<ConfigError>([&] { kernel("ntk_analytic", nullptr); });
    CHECK(msg.find("no [architecture]") != std::string::npos);
    desc = dense("resnet", "tanh", {64}, true, 3);
    msg = ntkssl::test::error_message<ConfigError>([&] { kernel("nngp_analytic", &desc); });
    CHECK(msg.find("not of architecture family 'resnet'") != std::string::npos);
}

TEST_CASE("classic kernels equal their formulas entry by entry, blockwise gemm or not, and are PSD") {
    const Matrix x1 = random_matrix(7, 4, 21), x2 = random_matrix(5, 4, 22);
    auto direct = [&](const std::string& type, auto f) {
        const Matrix g = kernel(type, nullptr).get().gram(x1, x2);
        for (std::size_t i = 0; i < 7; ++i)
            for (std::size_t j = 0; j < 5; ++j) {
                double dot = 0, sq = 0, n1 = 0, n2 = 0;
                for (std::size_t c = 0; c < 4; ++c) {
                    dot += x1(i, c) * x2(j, c);
                    sq += (x1(i, c) - x2(j, c)) * (x1(i, c) - x2(j, c));
                    n1 += x1(i, c) * x1(i, c);
                    n2 += x2(j, c) * x2(j, c);
                }
                CAPTURE(std::string(type));
                CHECK(g(i, j) == doctest::Approx(f(dot, sq, n1, n2)).epsilon(1e-12));
            }
    };
    direct("linear", [](double dot, double, double, double) { return dot; });
    direct("polynomial", [](double dot, double, double, double) { return std::pow(dot / 4 + 1, 2); });
    direct("rbf", [](double, double sq, double, double) { return std::exp(-sq / 2); });
    direct("laplace", [](double, double sq, double, double) { return std::exp(-std::sqrt(sq)); });
    direct("cosine", [](double dot, double, double n1, double n2) { return dot / std::sqrt(n1 * n2); });
    for (const char* type : {"linear", "polynomial", "rbf", "laplace", "cosine"}) {
        const Matrix g = kernel(type, nullptr).get().gram(x1, x1);
        const auto e = linalg::eigh(g);
        CAPTURE(std::string(type));
        CHECK(e.values(0) >= -1e-10 * e.values(6));
    }
    const auto msg = ntkssl::test::error_message<ConfigError>(
        [&] { kernel("rbf", nullptr, {param("lengthscale", -1.0)}); });
    CHECK(msg.find("kernel.lengthscale = -1") != std::string::npos);
}
