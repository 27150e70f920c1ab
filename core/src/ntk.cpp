#include "ntkssl/core/ntk.hpp"

#include <algorithm>
#include <cmath>

#include <ntkssl/linalg.hpp>

namespace ntkssl::core {

NtkMethod parse_ntk_method(const std::string& name) {
    if (name == "generic") return NtkMethod::generic;
    if (name == "structured") return NtkMethod::structured;
    return NtkMethod::automatic;
}

Matrix take_rows(const Matrix& x, std::size_t begin, std::size_t end) {
    Matrix out = Matrix::from_shape({end - begin, x.shape(1)});
    std::copy(x.data() + begin * x.shape(1), x.data() + end * x.shape(1), out.data());
    return out;
}

Matrix reduce_ntk(const Matrix& full, std::size_t k, NtkOutput output) {
    const std::size_t n1 = full.shape(0) / k, n2 = full.shape(1) / k;
    switch (output) {
        case NtkOutput::full: return full;
        case NtkOutput::trace: {
            Matrix t = xt::zeros<double>({n1, n2});
            for (std::size_t a = 0; a < n1; ++a)
                for (std::size_t b = 0; b < n2; ++b)
                    for (std::size_t o = 0; o < k; ++o) t(a, b) += full(a * k + o, b * k + o);
            return t;
        }
        case NtkOutput::diagonal_blocks: {
            NTKSSL_CHECK(n1 == n2, ShapeError, "diagonal NTK blocks pair the samples of X1 and X2, which need the same count");
            Matrix d = Matrix::from_shape({n1 * k, k});
            for (std::size_t a = 0; a < n1; ++a)
                for (std::size_t o = 0; o < k; ++o)
                    for (std::size_t q = 0; q < k; ++q) d(a * k + o, q) = full(a * k + o, a * k + q);
            return d;
        }
    }
    return full;
}

namespace {

// Σ_p J1[:, p] w_p J2[:, p], Jacobian rows of chunks of samples, at most two chunks alive.
Matrix generic_ntk(const Component<Architecture>& arch, const Vector& theta, const Matrix& x1, const Matrix& x2, const Vector* weights,
                   std::size_t memory_budget_bytes) {
    const std::size_t k = arch.call("output_dim", [](const Architecture& a) { return a.output_dim(); });
    const std::size_t p = theta.size();
    const std::size_t n1 = x1.shape(0), n2 = x2.shape(0);
    // Two chunks of Jacobian rows alive at once, each c·K rows of P doubles.
    const std::size_t per_sample = std::max<std::size_t>(1, k * p * sizeof(double));
    const std::size_t chunk = std::max<std::size_t>(1, memory_budget_bytes / (2 * per_sample));

    Vector root;
    if (weights) {
        root = Vector::from_shape({p});
        for (std::size_t i = 0; i < p; ++i) {
            NTKSSL_CHECK((*weights)(i) >= 0, NumericError, "weighted NTK: weight " << i << " is negative");
            root(i) = std::sqrt((*weights)(i));
        }
    }
    Matrix out = Matrix::from_shape({n1 * k, n2 * k});
    auto jac = [&](const Matrix& x, std::size_t b, std::size_t e) {
        const Matrix rows = take_rows(x, b, e);
        Matrix j = arch.call("jacobian", [&](const Architecture& a) { return a.jacobian(theta, rows); });
        NTKSSL_CHECK(j.shape(0) == (e - b) * k && j.shape(1) == p, ShapeError,
                     arch.context() << ": jacobian() returned " << j.shape(0) << "×" << j.shape(1) << ", expected " << (e - b) * k << "×" << p);
        if (weights)
            for (std::size_t r = 0; r < j.shape(0); ++r)
                for (std::size_t c = 0; c < p; ++c) j(r, c) *= root(c);
        return j;
    };
    // When X2 fits in one chunk its Jacobian is computed once.
    const bool x2_whole = n2 <= chunk;
    Matrix j2_whole;
    if (x2_whole) j2_whole = jac(x2, 0, n2);
    for (std::size_t a = 0; a < n1; a += chunk) {
        const std::size_t a_end = std::min(n1, a + chunk);
        const Matrix j1 = jac(x1, a, a_end);
        for (std::size_t b = 0; b < n2; b += chunk) {
            const std::size_t b_end = std::min(n2, b + chunk);
            const Matrix j2 = x2_whole ? Matrix() : jac(x2, b, b_end);
            const Matrix block = linalg::matmul(j1, x2_whole ? j2_whole : j2, linalg::Op::none, linalg::Op::transpose);
            for (std::size_t r = 0; r < block.shape(0); ++r)
                std::copy(&block(r, 0), &block(r, 0) + block.shape(1), &out(a * k + r, b * k));
        }
    }
    return out;
}

}  // namespace

Matrix empirical_ntk(const Component<Architecture>& arch, const Vector& theta, const Matrix& x1, const Matrix& x2,
                     NtkMethod method, std::size_t memory_budget_bytes, NtkOutput output) {
    const bool structured = arch.call("has_structured_ntk", [](const Architecture& a) { return a.has_structured_ntk(); });
    if (method == NtkMethod::structured && !structured) {
        throw ConfigError(arch.context() + ": measure.ntk = \"structured\" but this architecture has no structured NTK; "
                          "use \"auto\" or \"generic\"");
    }
    if (structured && method != NtkMethod::generic) {
        return arch.call("structured_ntk",
                         [&](const Architecture& a) { return a.structured_ntk(theta, x1, x2, output, memory_budget_bytes); });
    }

    const std::size_t k = arch.call("output_dim", [](const Architecture& a) { return a.output_dim(); });
    return reduce_ntk(generic_ntk(arch, theta, x1, x2, nullptr, memory_budget_bytes), k, output);
}

Matrix weighted_empirical_ntk(const Component<Architecture>& arch, const Vector& theta, const Matrix& x1, const Matrix& x2,
                              const Vector& weights, std::size_t memory_budget_bytes) {
    NTKSSL_CHECK(weights.size() == theta.size(), ShapeError,
                 "weighted NTK: " << weights.size() << " weights for " << theta.size() << " parameters");
    return generic_ntk(arch, theta, x1, x2, &weights, memory_budget_bytes);
}

}  // namespace ntkssl::core
