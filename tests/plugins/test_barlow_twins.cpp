// barlow_twins: value against an independent loop computation, exact cases, exact gradients.
#include <doctest/doctest.h>

#include <cmath>

#include <ntkssl/testing/gradient_check.hpp>

#include "plugin_fixture.hpp"

using namespace ntkssl;
using namespace ntkssl::core;
using ntkssl::test::param;

namespace {

Component<Loss> make(std::vector<Config::Entry> params) {
    return ntkssl::test::registry().create<Loss>(PluginKind::loss, "barlow_twins", "loss", {"test", 0, 0}, std::move(params), {});
}

Matrix random_matrix(std::size_t r, std::size_t c, Rng& rng) {
    Matrix m = Matrix::from_shape({r, c});
    rng.fill_normal(m);
    return m;
}

// The definition, written out with loops: standardize (biased variance + eps) if asked,
// C_ij = Σ_n a_ni b_nj / N, symmetrize if asked, L = Σ(1 − C_ii)² + λ Σ_{i≠j} C_ij².
double reference(Matrix a, Matrix b, double lambda, bool symmetric, bool standardize, double eps) {
    const std::size_t n = a.shape(0), k = a.shape(1);
    if (standardize) {
        for (Matrix* z : {&a, &b})
            for (std::size_t j = 0; j < k; ++j) {
                double mean = 0, var = 0;
                for (std::size_t i = 0; i < n; ++i) mean += (*z)(i, j) / double(n);
                for (std::size_t i = 0; i < n; ++i) var += ((*z)(i, j) - mean) * ((*z)(i, j) - mean) / double(n);
                for (std::size_t i = 0; i < n; ++i) (*z)(i, j) = ((*z)(i, j) - mean) / std::sqrt(var + eps);
            }
    }
    double loss = 0;
    for (std::size_t i = 0; i < k; ++i)
        for (std::size_t j = 0; j < k; ++j) {
            double cij = 0, cji = 0;
            for (std::size_t s = 0; s < n; ++s) {
                cij += a(s, i) * b(s, j) / double(n);
                cji += a(s, j) * b(s, i) / double(n);
            }
            const double c = symmetric ? 0.5 * (cij + cji) : cij;
            loss += i == j ? (1 - c) * (1 - c) : lambda * c * c;
        }
    return loss;
}

}  // namespace

TEST_CASE("value equals the loop definition for each variant and preset") {
    Rng rng(21);
    const Matrix z1 = random_matrix(7, 4, rng), z2 = random_matrix(7, 4, rng);
    struct Case {
        std::vector<Config::Entry> params;
        double lambda;
        bool symmetric, standardize;
    };
    const std::vector<Case> cases = {
        {{}, 1.0, true, false},                                                  // default preset: theory
        {{param("preset", std::string("original"))}, 0.0051, false, true},       // original
        {{param("preset", std::string("inverse_dim"))}, 0.25, true, false},      // λ = 1/K, K = 4
        {{param("preset", std::string("original")), param("lambda", 0.3)}, 0.3, false, true},  // override one key
        {{param("symmetric", false), param("lambda", 2.0)}, 2.0, false, false},
        {{param("standardize", true)}, 1.0, true, true},
    };
    for (const auto& c : cases) {
        const double got = make(c.params).get().evaluate({z1, z2}, {}).value;
        CHECK(got == doctest::Approx(reference(z1, z2, c.lambda, c.symmetric, c.standardize, 1e-5)).epsilon(1e-12));
    }
}

TEST_CASE("exact cases: 0 when C = I, K when the embeddings are zero (raw variant)") {
    // Columns of a 4×4 Hadamard matrix are orthogonal with norm 2, so Z = H[:, :2] gives
    // C = ZᵀZ / 4 = I.
    const Matrix h = {{1, 1}, {1, -1}, {-1, 1}, {-1, -1}};
    const auto bt = make({});
    CHECK(bt.get().evaluate({h, h}, {}).value == doctest::Approx(0.0).epsilon(1e-15));
    const Matrix zero = xt::zeros<double>({5, 3});
    CHECK(bt.get().evaluate({zero, zero}, {}).value == doctest::Approx(3.0).epsilon(1e-15));
}

TEST_CASE("gradients match central finite differences for every variant") {
    Rng rng(22);
    for (bool symmetric : {false, true})
        for (bool standardize : {false, true})
            for (double lambda : {1.0, 0.0051}) {
                CAPTURE(symmetric);
                CAPTURE(standardize);
                CAPTURE(lambda);
                const auto bt = make({param("symmetric", symmetric), param("standardize", standardize), param("lambda", lambda)});
                const auto r = testing::check_loss_gradient(bt.get(), {random_matrix(6, 4, rng), random_matrix(6, 4, rng)}, {});
                CHECK_MESSAGE(r.max_relative_error < 1e-6, r.describe());
            }
}

TEST_CASE("non-finite embeddings and impossible standardization are NumericErrors, not NaN results") {
    const auto bt = make({});
    Matrix z = xt::ones<double>({4, 2});
    Matrix bad = z;
    bad(1, 1) = std::nan("");
    CHECK_THROWS_AS(bt.get().evaluate({z, bad}, {}), NumericError);
    const auto std0 = make({param("standardize", true), param("epsilon", 0.0)});
    CHECK_THROWS_AS(std0.get().evaluate({z, z}, {}), NumericError);  // constant columns, ε = 0
    // With ε > 0 a constant column is standardized to 0: finite, documented.
    const auto std1 = make({param("standardize", true)});
    CHECK(std::isfinite(std1.get().evaluate({z, z}, {}).value));
}
