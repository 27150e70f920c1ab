// two_layer: exact gradients, Jacobians and NTK, for every activation and parametrization.
#include <doctest/doctest.h>

#include <cmath>

#include <ntkssl/linalg.hpp>
#include <ntkssl/testing/gradient_check.hpp>

#include "ntkssl/core/ntk.hpp"
#include "plugin_fixture.hpp"

using namespace ntkssl;
using namespace ntkssl::core;
using ntkssl::test::param;

namespace {

Component<Architecture> make(std::vector<Config::Entry> params, std::size_t d) {
    BuildContext ctx;
    ctx.input_dim = d;
    return ntkssl::test::registry().create<Architecture>(PluginKind::architecture, "two_layer", "architecture",
                                                         {"test", 0, 0}, std::move(params), ctx);
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
    for (const char* act : {"tanh", "relu", "erf", "gelu", "softplus", "identity"})
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

TEST_CASE("backward and jacobian match central finite differences for every variant") {
    const std::size_t d = 4, n = 5;
    for (const auto& v : variants()) {
        CAPTURE(name_of(v));
        const auto arch = make(params_of(v, 7, 3), d);
        Rng rng(3);
        Vector theta;
        arch.get().initialize(theta, rng);
        const Matrix x = random_matrix(n, d, rng);
        const Matrix g = random_matrix(n, 3, rng);
        const auto back = testing::check_architecture_backward(arch.get(), theta, x, g, rng);
        CHECK_MESSAGE(back.max_relative_error < 1e-6, back.describe());
        const auto jac = testing::check_architecture_jacobian(arch.get(), theta, x);
        CHECK_MESSAGE(jac.max_relative_error < 1e-6, jac.describe());
        // Frozen blocks get exactly zero gradient and zero Jacobian columns.
        const Vector full = arch.get().backward(theta, x, g);
        const Matrix jm = arch.get().jacobian(theta, x);
        for (const auto& b : arch.get().blocks()) {
            if (b.trainable) continue;
            std::size_t size = 1;
            for (auto s : b.shape) size *= s;
            for (std::size_t i = b.offset; i < b.offset + size; ++i) {
                CHECK(full(i) == 0.0);
                for (std::size_t r = 0; r < jm.shape(0); ++r) CHECK(jm(r, i) == 0.0);
            }
        }
    }
}

TEST_CASE("the structured NTK equals the Jacobian contraction to 1e-10 for every variant") {
    const std::size_t d = 6;
    for (const auto& v : variants()) {
        CAPTURE(name_of(v));
        const auto arch = make(params_of(v, 9, 3), d);
        Rng rng(5);
        Vector theta;
        arch.get().initialize(theta, rng);
        const Matrix x1 = random_matrix(4, d, rng), x2 = random_matrix(3, d, rng);
        // Generic: J1 J2ᵀ, from the (finite-difference-checked) Jacobian, with a budget so small
        // that every sample is its own chunk.
        const Matrix generic = empirical_ntk(arch, theta, x1, x2, NtkMethod::generic, 1);
        const Matrix fast = empirical_ntk(arch, theta, x1, x2, NtkMethod::structured, 1 << 20);
        REQUIRE(fast.shape() == generic.shape());
        Matrix diff = fast - generic;
        CHECK(linalg::frobenius_norm(diff) <= 1e-10 * linalg::frobenius_norm(generic));
    }
}

TEST_CASE("the empirical NTK is symmetric positive semi-definite on one set") {
    const auto arch = make({param("width", std::int64_t(32)), param("output_dim", std::int64_t(3))}, 5);
    Rng rng(6);
    Vector theta;
    arch.get().initialize(theta, rng);
    const Matrix x = random_matrix(6, 5, rng);
    const Matrix th = empirical_ntk(arch, theta, x, x, NtkMethod::automatic, 1 << 20);
    for (std::size_t i = 0; i < th.shape(0); ++i)
        for (std::size_t j = 0; j < th.shape(1); ++j) CHECK(th(i, j) == doctest::Approx(th(j, i)).epsilon(1e-12));
    // PSD: vᵀ Θ v ≥ 0 for random v (Θ = J Jᵀ); tolerance relative to ‖Θ‖.
    const double scale = linalg::frobenius_norm(th);
    for (int t = 0; t < 50; ++t) {
        Vector v = Vector::from_shape({th.shape(0)});
        rng.fill_normal(v);
        double q = 0, vv = 0;
        for (std::size_t i = 0; i < th.shape(0); ++i) {
            vv += v(i) * v(i);
            for (std::size_t j = 0; j < th.shape(1); ++j) q += v(i) * th(i, j) * v(j);
        }
        CHECK(q >= -1e-10 * scale * vv);
    }
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
    CHECK(message({param("activation", std::string("sigmoid"))}).find("valid values are: tanh, relu, erf, gelu, softplus, identity") !=
          std::string::npos);
}
