// The architecture contract kit: one call checks everything architecture.hpp requires.
//
// Include it after <doctest/doctest.h> in a plugin's test and call it from one test case:
//
//     TEST_CASE("my_net satisfies the architecture contract") {
//         ntkssl::BuildContext ctx;
//         ctx.input_dim = 5;
//         MyNet net(ntkssl::Config("architecture", {}, {}, MyNet::parameters()), ctx);
//         ntkssl::testing::check_architecture_contract(net);
//     }
//
// What it checks, on random inputs (N×d, several seeds):
//   1. blocks tile θ exactly (no gap, no overlap, sizes = product of shapes); initialize() fills
//      num_parameters() entries, the same for the same seed and different for another;
//   2. shapes of forward (N×K), backward (P) and jacobian ((N·K)×P); forward is deterministic;
//   3. backward and jacobian agree with central finite differences on trainable parameters;
//      frozen blocks have exactly zero gradient and zero Jacobian columns;
//   4. backward(θ, X, G) = Jᵀ vec(G): the two derivatives describe the same map; the optional
//      training paths agree with the plain ones (forward_keep = forward, also reusing a state
//      left by another input; backward_accumulate adds backward, with and without a state);
//      learning_rate_multipliers() has one positive finite factor per block;
//   5. where has_structured_ntk(): for full, trace and diagonal-block outputs, on one set and on
//      two different sets, the structured NTK equals the contraction of jacobian() rows to
//      `ntk_tolerance` (relative, Frobenius), also under a tiny memory budget (forces chunking);
//   6. the NTK on one set is symmetric and positive semi-definite.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include <ntkssl/architecture.hpp>
#include <ntkssl/linalg.hpp>
#include <ntkssl/random.hpp>
#include <ntkssl/testing/gradient_check.hpp>

namespace ntkssl::testing {

struct ArchitectureContract {
    std::size_t samples = 4;   // N of each random input set
    double input_scale = 1.0;  // standard deviation of the random inputs
    double tolerance = 1e-6;   // finite differences
    double ntk_tolerance = 1e-10;
    std::vector<std::uint64_t> seeds = {1, 2};
};

namespace detail {

inline double relative_frobenius(const Matrix& a, const Matrix& b) {
    double d = 0, s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        d += (a.data()[i] - b.data()[i]) * (a.data()[i] - b.data()[i]);
        s += b.data()[i] * b.data()[i];
    }
    return std::sqrt(d / std::max(s, 1e-300));
}

// The reference NTK: J1 J2ᵀ from jacobian(), reduced to the requested output.
inline Matrix jacobian_ntk(const Architecture& arch, const Vector& theta, const Matrix& x1, const Matrix& x2, NtkOutput output) {
    const std::size_t k = arch.output_dim();
    const Matrix full = linalg::matmul(arch.jacobian(theta, x1), arch.jacobian(theta, x2), linalg::Op::none, linalg::Op::transpose);
    const std::size_t n1 = x1.shape(0), n2 = x2.shape(0);
    if (output == NtkOutput::full) return full;
    if (output == NtkOutput::trace) {
        Matrix t = xt::zeros<double>({n1, n2});
        for (std::size_t a = 0; a < n1; ++a)
            for (std::size_t b = 0; b < n2; ++b)
                for (std::size_t o = 0; o < k; ++o) t(a, b) += full(a * k + o, b * k + o);
        return t;
    }
    Matrix d = Matrix::from_shape({n1 * k, k});
    for (std::size_t a = 0; a < n1; ++a)
        for (std::size_t o = 0; o < k; ++o)
            for (std::size_t q = 0; q < k; ++q) d(a * k + o, q) = full(a * k + o, a * k + q);
    return d;
}

}  // namespace detail

inline void check_architecture_contract(const Architecture& arch, const ArchitectureContract& c = {}) {
    const std::size_t d = arch.input_dim(), k = arch.output_dim(), p = arch.num_parameters();
    REQUIRE(d >= 1);
    REQUIRE(k >= 1);

    // 1. blocks tile θ
    auto blocks = arch.blocks();
    std::sort(blocks.begin(), blocks.end(), [](const auto& a, const auto& b) { return a.offset < b.offset; });
    std::size_t next = 0;
    for (const auto& b : blocks) {
        std::size_t size = 1;
        for (auto s : b.shape) size *= s;
        CHECK_MESSAGE(b.offset == next, "block '" << b.name << "' starts at " << b.offset << ", expected " << next);
        next = b.offset + size;
    }
    CHECK_MESSAGE(next == p, "the blocks cover " << next << " parameters, num_parameters() is " << p);

    for (std::uint64_t seed : c.seeds) {
        CAPTURE(seed);
        Rng r1(seed), r2(seed), r3(seed + 1000);
        Vector theta, again, other;
        arch.initialize(theta, r1);
        arch.initialize(again, r2);
        arch.initialize(other, r3);
        REQUIRE(theta.size() == p);
        CHECK_MESSAGE(std::equal(theta.begin(), theta.end(), again.begin()), "initialize() differs for the same seed");
        CHECK_MESSAGE(!std::equal(theta.begin(), theta.end(), other.begin()), "initialize() is the same for different seeds");

        Rng data(seed + 7);
        Matrix x = Matrix::from_shape({c.samples, d}), x2 = Matrix::from_shape({c.samples + 1, d});
        data.fill_normal(x, 0.0, c.input_scale);
        data.fill_normal(x2, 0.0, c.input_scale);
        Matrix g = Matrix::from_shape({c.samples, k});
        data.fill_normal(g);

        // 2. shapes, determinism
        const Matrix z = arch.forward(theta, x);
        REQUIRE(z.shape(0) == c.samples);
        REQUIRE(z.shape(1) == k);
        const Matrix z_again = arch.forward(theta, x);
        CHECK_MESSAGE(std::equal(z.begin(), z.end(), z_again.begin()), "forward() is not deterministic");
        const Vector grad = arch.backward(theta, x, g);
        REQUIRE(grad.size() == p);
        const Matrix j = arch.jacobian(theta, x);
        REQUIRE(j.shape(0) == c.samples * k);
        REQUIRE(j.shape(1) == p);

        // 3. finite differences; frozen blocks are zero
        const auto back = check_architecture_backward(arch, theta, x, g, data);
        CHECK_MESSAGE(back.max_relative_error < c.tolerance, back.describe());
        const auto jac = check_architecture_jacobian(arch, theta, x);
        CHECK_MESSAGE(jac.max_relative_error < c.tolerance, jac.describe());
        for (const auto& b : blocks) {
            if (b.trainable) continue;
            std::size_t size = 1;
            for (auto s : b.shape) size *= s;
            bool zero = true;
            for (std::size_t i = b.offset; i < b.offset + size; ++i) {
                zero = zero && grad(i) == 0.0;
                for (std::size_t r = 0; r < j.shape(0); ++r) zero = zero && j(r, i) == 0.0;
            }
            CHECK_MESSAGE(zero, "frozen block '" << b.name << "' has a non-zero gradient or Jacobian column");
        }

        // 4. backward = Jᵀ vec(G)
        double dev = 0, scale = 0;
        for (std::size_t i = 0; i < p; ++i) {
            double s = 0;
            for (std::size_t r = 0; r < j.shape(0); ++r) s += j(r, i) * g.data()[r];
            dev = std::max(dev, std::fabs(s - grad(i)));
            scale = std::max(scale, std::fabs(s));
        }
        CHECK_MESSAGE(dev <= 1e-12 * std::max(scale, 1e-300) * static_cast<double>(j.shape(0)),
                      "backward() is not the transposed Jacobian applied to G (max deviation " << dev << ")");

        // 4b. the training paths: forward_keep / backward_accumulate / learning_rate_multipliers
        std::unique_ptr<ForwardState> state;
        arch.forward_keep(theta, x2, state);  // a state of another input, which must not leak into the next call
        const Matrix z_keep = arch.forward_keep(theta, x, state);
        CHECK_MESSAGE(detail::relative_frobenius(z_keep, z) <= 1e-14, "forward_keep() differs from forward()");
        Vector acc = xt::ones<double>({p});
        arch.backward_accumulate(theta, x, g, state.get(), acc);
        Vector fresh = xt::zeros<double>({p});
        arch.backward_accumulate(theta, x, g, nullptr, fresh);
        double acc_dev = 0, grad_scale = 0;
        for (std::size_t i = 0; i < p; ++i) {
            acc_dev = std::max({acc_dev, std::fabs(acc(i) - 1.0 - grad(i)), std::fabs(fresh(i) - grad(i))});
            grad_scale = std::max(grad_scale, std::fabs(grad(i)));
        }
        CHECK_MESSAGE(acc_dev <= 1e-12 * std::max(grad_scale, 1.0),
                      "backward_accumulate() does not add backward() to the gradient (max deviation " << acc_dev << ")");
        const auto mult = arch.learning_rate_multipliers();
        CHECK_MESSAGE(mult.size() == blocks.size(), "learning_rate_multipliers() has " << mult.size() << " factors for " << blocks.size() << " blocks");
        for (double m : mult) CHECK_MESSAGE((m > 0 && std::isfinite(m)), "a learning-rate multiplier is " << m);

        // 5. structured NTK = Jacobian contraction, every output, one and two sets, any budget
        if (arch.has_structured_ntk()) {
            for (NtkOutput out : {NtkOutput::full, NtkOutput::trace, NtkOutput::diagonal_blocks}) {
                CAPTURE(static_cast<int>(out));
                const Matrix& second = out == NtkOutput::diagonal_blocks ? x : x2;
                for (std::size_t budget : {std::size_t{1} << 30, std::size_t{1}}) {
                    CAPTURE(budget);
                    CHECK(detail::relative_frobenius(arch.structured_ntk(theta, x, x, out, budget),
                                                     detail::jacobian_ntk(arch, theta, x, x, out)) < c.ntk_tolerance);
                    CHECK(detail::relative_frobenius(arch.structured_ntk(theta, x, second, out, budget),
                                                     detail::jacobian_ntk(arch, theta, x, second, out)) < c.ntk_tolerance);
                }
            }
        }

        // 6. symmetric PSD on one set (Θ = J Jᵀ up to rounding)
        const Matrix ntk = arch.has_structured_ntk() ? arch.structured_ntk(theta, x, x, NtkOutput::full, std::size_t{1} << 30)
                                                     : detail::jacobian_ntk(arch, theta, x, x, NtkOutput::full);
        const double norm = linalg::frobenius_norm(ntk);
        double asym = 0;
        for (std::size_t a = 0; a < ntk.shape(0); ++a)
            for (std::size_t b = 0; b < ntk.shape(1); ++b) asym = std::max(asym, std::fabs(ntk(a, b) - ntk(b, a)));
        CHECK_MESSAGE(asym <= 1e-12 * norm, "the NTK is not symmetric (max asymmetry " << asym << ")");
        for (int t = 0; t < 20; ++t) {
            Vector v = Vector::from_shape({ntk.shape(0)});
            data.fill_normal(v);
            double q = 0, vv = 0;
            for (std::size_t a = 0; a < ntk.shape(0); ++a) {
                vv += v(a) * v(a);
                for (std::size_t b = 0; b < ntk.shape(1); ++b) q += v(a) * ntk(a, b) * v(b);
            }
            CHECK_MESSAGE(q >= -1e-10 * norm * vv, "the NTK is not positive semi-definite (vᵀΘv = " << q << ")");
        }
    }
}

}  // namespace ntkssl::testing
