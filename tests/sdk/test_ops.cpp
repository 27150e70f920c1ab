// ops: the differentiable building blocks of losses, against finite differences.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>

#include <ntkssl/errors.hpp>
#include <ntkssl/ops.hpp>
#include <ntkssl/random.hpp>

#include "test_support.hpp"

using namespace ntkssl;

namespace {

// Max relative error of `backward(G)` against central differences of s(z) = Σ G ∘ forward(z).
double fd_error(const std::function<Matrix(const Matrix&)>& forward, const std::function<Matrix(const Matrix&, const Matrix&)>& backward,
                Matrix z, const Matrix& g) {
    const Matrix analytic = backward(z, g);
    double err = 0, scale = 0;
    for (std::size_t i = 0; i < z.size(); ++i) {
        const double z0 = z.data()[i], h = 1e-6 * std::max(1.0, std::fabs(z0));
        auto s = [&] {
            const Matrix f = forward(z);
            double acc = 0;
            for (std::size_t j = 0; j < f.size(); ++j) acc += g.data()[j] * f.data()[j];
            return acc;
        };
        z.data()[i] = z0 + h;
        const double fp = s();
        z.data()[i] = z0 - h;
        const double fm = s();
        z.data()[i] = z0;
        const double fd = (fp - fm) / (2 * h);
        err = std::max(err, std::fabs(fd - analytic.data()[i]));
        scale = std::max(scale, std::fabs(fd));
    }
    return err / scale;
}

Matrix random_matrix(std::size_t r, std::size_t c, Rng& rng) {
    Matrix m = Matrix::from_shape({r, c});
    rng.fill_normal(m);
    return m;
}

}  // namespace

TEST_CASE("normalize_rows: unit rows, and its backward matches finite differences") {
    Rng rng(31);
    const Matrix z = random_matrix(5, 4, rng), g = random_matrix(5, 4, rng);
    const auto n = ops::normalize_rows(z);
    for (std::size_t i = 0; i < 5; ++i) {
        double s = 0;
        for (std::size_t j = 0; j < 4; ++j) s += n.u(i, j) * n.u(i, j);
        CHECK(s == doctest::Approx(1.0).epsilon(1e-14));
    }
    const double e = fd_error([](const Matrix& x) { return ops::normalize_rows(x).u; },
                              [](const Matrix& x, const Matrix& gg) { return ops::normalize_rows_backward(ops::normalize_rows(x), gg); }, z, g);
    CHECK(e < 1e-7);
}

TEST_CASE("standardize_columns: zero mean, unit variance, and its backward matches finite differences (biased and unbiased)") {
    Rng rng(32);
    const Matrix z = random_matrix(6, 3, rng), g = random_matrix(6, 3, rng);
    for (bool unbiased : {false, true}) {
        CAPTURE(unbiased);
        const auto s = ops::standardize_columns(z, 0.0, unbiased);
        for (std::size_t j = 0; j < 3; ++j) {
            double mean = 0, ss = 0;
            for (std::size_t i = 0; i < 6; ++i) {
                mean += s.z(i, j);
                ss += s.z(i, j) * s.z(i, j);
            }
            CHECK(std::fabs(mean) < 1e-13);
            CHECK(ss / (unbiased ? 5.0 : 6.0) == doctest::Approx(1.0).epsilon(1e-13));
        }
        const double e = fd_error([&](const Matrix& x) { return ops::standardize_columns(x, 1e-5, unbiased).z; },
                                  [&](const Matrix& x, const Matrix& gg) {
                                      return ops::standardize_columns_backward(ops::standardize_columns(x, 1e-5, unbiased), gg);
                                  },
                                  z, g);
        CHECK(e < 1e-7);
    }
}

TEST_CASE("require_views: count, shape, rows and finiteness, each with a message naming the loss") {
    const Matrix a = xt::zeros<double>({3, 2}), b = xt::zeros<double>({3, 4});
    Matrix nan = a;
    nan(2, 1) = std::nan("");
    using ntkssl::test::error_message;
    CHECK(error_message<ShapeError>([&] { ops::require_views({a}, 2, "my_loss"); }) == "my_loss needs 2 views, got 1");
    CHECK(error_message<ShapeError>([&] { ops::require_views({a, b}, 2, "my_loss"); }).find("view 1 is 3×4, view 0 is 3×2") != std::string::npos);
    CHECK(error_message<ShapeError>([&] { ops::require_views({a, a}, 2, "my_loss", 4); }).find("at least 4 rows") != std::string::npos);
    CHECK(error_message<NumericError>([&] { ops::require_views({a, nan}, 2, "my_loss"); }) ==
          "my_loss: embedding entry (2, 1) of view 1 is nan");
}
