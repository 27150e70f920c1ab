// linalg: BLAS wrappers against plain loops.
#include <doctest/doctest.h>

#include <cmath>

#include <ntkssl/errors.hpp>
#include <ntkssl/linalg.hpp>
#include <ntkssl/random.hpp>

using namespace ntkssl;

namespace {
Matrix random_matrix(std::size_t r, std::size_t c, Rng& rng) {
    Matrix m = Matrix::from_shape({r, c});
    rng.fill_normal(m);
    return m;
}
double naive(const Matrix& a, bool ta, const Matrix& b, bool tb, std::size_t i, std::size_t j) {
    const std::size_t k = ta ? a.shape(0) : a.shape(1);
    double s = 0;
    for (std::size_t p = 0; p < k; ++p) s += (ta ? a(p, i) : a(i, p)) * (tb ? b(j, p) : b(p, j));
    return s;
}
}  // namespace

TEST_CASE("gemm agrees with a triple loop for every transpose combination") {
    Rng rng(11);
    for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb) {
            const Matrix a = ta ? random_matrix(5, 4, rng) : random_matrix(4, 5, rng);
            const Matrix b = tb ? random_matrix(3, 5, rng) : random_matrix(5, 3, rng);
            const Matrix c = linalg::matmul(a, b, ta ? linalg::Op::transpose : linalg::Op::none, tb ? linalg::Op::transpose : linalg::Op::none);
            REQUIRE(c.shape(0) == 4);
            REQUIRE(c.shape(1) == 3);
            for (std::size_t i = 0; i < 4; ++i)
                for (std::size_t j = 0; j < 3; ++j) CHECK(c(i, j) == doctest::Approx(naive(a, ta, b, tb, i, j)).epsilon(1e-13));
        }
}

TEST_CASE("gram is A·Aᵀ (or Aᵀ·A) with both triangles filled") {
    Rng rng(12);
    const Matrix a = random_matrix(6, 9, rng);
    const Matrix g = linalg::gram(a), gt = linalg::gram(a, linalg::Op::transpose, 2.0);
    for (std::size_t i = 0; i < 6; ++i)
        for (std::size_t j = 0; j < 6; ++j) CHECK(g(i, j) == doctest::Approx(naive(a, false, a, true, i, j)).epsilon(1e-13));
    for (std::size_t i = 0; i < 9; ++i)
        for (std::size_t j = 0; j < 9; ++j) CHECK(gt(i, j) == doctest::Approx(2.0 * naive(a, true, a, false, i, j)).epsilon(1e-13));
}

TEST_CASE("gemm refuses mismatched inner dimensions with a ShapeError") {
    Rng rng(13);
    const Matrix a = random_matrix(3, 4, rng), b = random_matrix(5, 2, rng);
    CHECK_THROWS_AS(linalg::matmul(a, b), ShapeError);
}

TEST_CASE("frobenius_norm of a known matrix") {
    Matrix m = {{3.0, 0.0}, {0.0, 4.0}};
    CHECK(linalg::frobenius_norm(m) == doctest::Approx(5.0).epsilon(1e-15));
}
