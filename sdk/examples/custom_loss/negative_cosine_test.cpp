// The custom loss checked with the SDK's contract kit, as a plugin author would.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <ntkssl/testing/gradient_check.hpp>
#include <ntkssl/testing/loss_contract.hpp>

#include "negative_cosine.hpp"

namespace {
ntkssl::Config config() { return ntkssl::Config("loss", {"test", 0, 0}, {}, example::NegativeCosine::parameters()); }
}  // namespace

TEST_CASE("negative_cosine: gradient matches central finite differences") {
    const example::NegativeCosine loss(config());
    ntkssl::Rng rng(1);
    ntkssl::Matrix a = ntkssl::Matrix::from_shape({5, 3}), b = ntkssl::Matrix::from_shape({5, 3});
    rng.fill_normal(a);
    rng.fill_normal(b);
    const auto r = ntkssl::testing::check_loss_gradient(loss, {a, b}, {});
    CHECK_MESSAGE(r.max_relative_error < 1e-6, r.describe());
}

TEST_CASE("negative_cosine: satisfies the SDK's loss contract") {
    const example::NegativeCosine loss(config());
    ntkssl::testing::check_loss_contract(loss);
}

TEST_CASE("negative_cosine: identical views give −1, opposite views +1") {
    const example::NegativeCosine loss(config());
    const ntkssl::Matrix a = {{1.0, 2.0}, {-3.0, 0.5}};
    const ntkssl::Matrix minus_a = -a;
    CHECK(loss.evaluate({a, a}, {}).value == doctest::Approx(-1.0).epsilon(1e-12));
    CHECK(loss.evaluate({a, minus_a}, {}).value == doctest::Approx(1.0).epsilon(1e-12));
}
