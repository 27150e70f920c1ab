// The pieces of training and measurement as plain math: the optimizers against closed-form
// recursions, measurement schedules, and the representation comparisons and linear probe.
#include <doctest/doctest.h>

#include <cmath>

#include <ntkssl/random.hpp>

#include "ntkssl/core/optimizer.hpp"
#include "ntkssl/core/representation.hpp"

using namespace ntkssl;
using namespace ntkssl::core;

namespace {

Matrix random_matrix(std::size_t r, std::size_t c, std::uint64_t seed) {
    Rng rng(seed);
    Matrix m = Matrix::from_shape({r, c});
    rng.fill_normal(m);
    return m;
}

}  // namespace

TEST_CASE("optimizers on L = ½‖x‖² follow their closed-form recursions") {
    // ∇L(x) = x. gd: x_t = (1 − η)^t x_0. Heun: x ← (1 − η + η²/2) x (the second-order Taylor
    // polynomial of e^{−η}). Heavy ball: [x, v] evolves by the 2×2 map
    // v' = μ v + x, x' = x − η v' = (1 − η) x − η μ v.
    const double eta = 0.1, mu = 0.8;
    Vector x0 = {1.0, -2.0, 0.5};
    auto grad = [](const Vector& x) { return x; };
    for (int kind = 0; kind < 3; ++kind) {
        Optimizer o;
        o.kind = kind == 2 ? Optimizer::Kind::flow : Optimizer::Kind::gd;
        o.lr = eta;
        o.momentum = kind == 1 ? mu : 0.0;
        Vector x = x0, v;
        double xs = 1.0, vs = 0.0;  // the recursion for a unit coordinate
        for (int t = 0; t < 25; ++t) {
            const Vector g = grad(x);
            o.step(x, v, g, static_cast<const Vector*>(nullptr), grad);
            if (kind == 0) xs *= 1 - eta;
            if (kind == 2) xs *= 1 - eta + eta * eta / 2;
            if (kind == 1) {
                vs = mu * vs + xs;
                xs -= eta * vs;
            }
        }
        CAPTURE(kind);
        for (std::size_t i = 0; i < 3; ++i) CHECK(x(i) == doctest::Approx(xs * x0(i)).epsilon(1e-13));
    }
    // Per-entry multipliers s: gd with s is gd with step η·s_i on coordinate i.
    Optimizer o;
    o.lr = eta;
    const Vector s = {1.0, 2.0, 0.5};
    Vector x = x0, v;
    o.step(x, v, grad(x), &s, grad);
    for (std::size_t i = 0; i < 3; ++i) CHECK(x(i) == doctest::Approx((1 - eta * s(i)) * x0(i)).epsilon(1e-15));
}

TEST_CASE("measurement steps: every, linear and log spacing, always the first and last step") {
    CHECK(measurement_steps(100, 30, 10, false) == std::vector<std::int64_t>{0, 30, 60, 90, 100});
    CHECK(measurement_steps(100, 0, 4, false) == std::vector<std::int64_t>{0, 25, 50, 75, 100});
    CHECK(measurement_steps(1000, 0, 3, true) == std::vector<std::int64_t>{0, 10, 100, 1000});
    // More measurements than steps: each step once.
    CHECK(measurement_steps(3, 0, 10, true) == std::vector<std::int64_t>{0, 1, 2, 3});
}

TEST_CASE("gram distance and CKA are rotation invariant and tell different representations apart") {
    const Matrix f = random_matrix(30, 3, 1);
    // An orthogonal R (a rotation in the first two coordinates and a reflection of the third).
    const double c = std::cos(0.7), s = std::sin(0.7);
    const Matrix r = {{c, -s, 0}, {s, c, 0}, {0, 0, -1}};
    Matrix fr = xt::zeros<double>({30, 3});
    for (std::size_t i = 0; i < 30; ++i)
        for (std::size_t j = 0; j < 3; ++j)
            for (std::size_t q = 0; q < 3; ++q) fr(i, j) += f(i, q) * r(q, j);
    CHECK(relative_gram_distance(fr, f) < 1e-7);
    CHECK(linear_cka(Matrix(2.5 * fr), f) == doctest::Approx(1.0).epsilon(1e-12));
    // Scaling changes the Gram matrix (not CKA): ‖4FFᵀ − FFᵀ‖/‖FFᵀ‖ = 3.
    CHECK(relative_gram_distance(Matrix(2.0 * f), f) == doctest::Approx(3.0).epsilon(1e-9));
    // An independent representation: CKA well below 1 (its expectation for 30 samples in 3
    // dimensions is about K/N = 0.1).
    const Matrix g = random_matrix(30, 3, 2);
    CHECK(linear_cka(f, g) < 0.5);
    CHECK(relative_gram_distance(f, g) > 0.5);
}

TEST_CASE("the ridge linear probe reads separable classes perfectly and shuffled ones at chance") {
    // Three classes at the corners of a triangle in R^2 plus small noise.
    Rng rng(5);
    const double centres[3][2] = {{0, 3}, {3, -2}, {-3, -2}};
    auto make = [&](std::size_t n, Matrix& f, Labels& y) {
        f = Matrix::from_shape({n, 2});
        y.clear();
        for (std::size_t i = 0; i < n; ++i) {
            const int c = static_cast<int>(i % 3);
            f(i, 0) = centres[c][0] + 0.3 * rng.normal();
            f(i, 1) = centres[c][1] + 0.3 * rng.normal();
            y.push_back(10 + c);  // labels need not be 0..C−1
        }
    };
    Matrix ft, fh;
    Labels yt, yh;
    make(60, ft, yt);
    make(30, fh, yh);
    CHECK(linear_probe_accuracy(ft, yt, fh, yh, 1e-6) == 1.0);
    // Labels unrelated to the features: accuracy near 1/3 (30 test samples: within 0.3 of it).
    Labels shuffled = yh;
    for (std::size_t i = 0; i < shuffled.size(); ++i) shuffled[i] = 10 + static_cast<int>(rng.uniform_index(3));
    Labels train_shuffled = yt;
    for (auto& y : train_shuffled) y = 10 + static_cast<int>(rng.uniform_index(3));
    CHECK(linear_probe_accuracy(ft, train_shuffled, fh, shuffled, 1e-6) < 0.64);
}
