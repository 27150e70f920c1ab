// Rng: reproducible, derivable streams with the right distributions.
#include <doctest/doctest.h>

#include <cmath>

#include <ntkssl/random.hpp>

using namespace ntkssl;

TEST_CASE("the same seed gives the same stream - derived streams depend only on seed and label") {
    Rng a(42), b(42);
    for (int i = 0; i < 100; ++i) CHECK(a.next_u64() == b.next_u64());
    Rng c(42);
    for (int i = 0; i < 1000; ++i) c.next_u64();  // consuming numbers does not change derivations
    Rng d1 = Rng(42).derive("views").derive(1), d2 = c.derive("views").derive(1);
    for (int i = 0; i < 10; ++i) CHECK(d1.next_u64() == d2.next_u64());
}

TEST_CASE("different seeds, labels and indices give different streams") {
    CHECK(Rng(1).next_u64() != Rng(2).next_u64());
    CHECK(Rng(1).derive("a").next_u64() != Rng(1).derive("b").next_u64());
    CHECK(Rng(1).derive(0).next_u64() != Rng(1).derive(1).next_u64());
    CHECK(Rng(1).derive(0).key() != Rng(1).key());
}

TEST_CASE("normal(): mean 0 and variance 1 within Monte Carlo tolerance") {
    // n = 200000: the standard error of the mean is 1/sqrt(n) = 0.0022 and of the variance
    // sqrt(2/n) = 0.0032; the tolerances are 5 standard errors.
    Rng r(7);
    const int n = 200000;
    double s = 0, s2 = 0, s4 = 0;
    for (int i = 0; i < n; ++i) {
        const double x = r.normal();
        s += x;
        s2 += x * x;
        s4 += x * x * x * x;
    }
    const double mean = s / n, var = s2 / n - mean * mean;
    CHECK(std::fabs(mean) < 5 * 0.0022);
    CHECK(std::fabs(var - 1.0) < 5 * 0.0032);
    CHECK(std::fabs(s4 / n - 3.0) < 5 * std::sqrt(96.0 / n));  // E x^4 = 3, Var x^4 = 96
}

TEST_CASE("uniform() lies in the unit interval with mean 1/2 - uniform_index covers its range evenly") {
    Rng r(3);
    double s = 0;
    for (int i = 0; i < 100000; ++i) {
        const double u = r.uniform();
        REQUIRE(u >= 0.0);
        REQUIRE(u < 1.0);
        s += u;
    }
    CHECK(std::fabs(s / 100000 - 0.5) < 5 * std::sqrt(1.0 / 12 / 100000));
    int counts[7] = {};
    for (int i = 0; i < 70000; ++i) counts[r.uniform_index(7)]++;
    for (int c : counts) CHECK(std::abs(c - 10000) < 5 * 93);  // sd = sqrt(70000·(1/7)(6/7)) ≈ 93
}
