#include "ntkssl/core/representation.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <ntkssl/errors.hpp>
#include <ntkssl/linalg.hpp>

namespace ntkssl::core {

using linalg::Op;

namespace {

double squared_norm(const Matrix& a) {
    double s = 0;
    for (double v : a) s += v * v;
    return s;
}

Matrix centered(const Matrix& f) {
    Matrix c = f;
    for (std::size_t j = 0; j < f.shape(1); ++j) {
        double mean = 0;
        for (std::size_t i = 0; i < f.shape(0); ++i) mean += f(i, j);
        mean /= static_cast<double>(f.shape(0));
        for (std::size_t i = 0; i < f.shape(0); ++i) c(i, j) -= mean;
    }
    return c;
}

void same_rows(const Matrix& f, const Matrix& g, const char* what) {
    NTKSSL_CHECK(f.shape(0) == g.shape(0), ShapeError, what << ": the representations have " << f.shape(0) << " and " << g.shape(0) << " rows");
}

}  // namespace

double relative_gram_distance(const Matrix& f, const Matrix& g) {
    same_rows(f, g, "relative_gram_distance");
    const double ff = squared_norm(linalg::matmul(f, f, Op::transpose)), gg = squared_norm(linalg::matmul(g, g, Op::transpose)),
                 fg = squared_norm(linalg::matmul(f, g, Op::transpose));
    return gg > 0 ? std::sqrt(std::max(0.0, ff + gg - 2 * fg) / gg) : std::sqrt(ff);
}

double linear_cka(const Matrix& f, const Matrix& g) {
    same_rows(f, g, "linear_cka");
    const Matrix fc = centered(f), gc = centered(g);
    const double fg = squared_norm(linalg::matmul(fc, gc, Op::transpose));
    const double ff = std::sqrt(squared_norm(linalg::matmul(fc, fc, Op::transpose)));
    const double gg = std::sqrt(squared_norm(linalg::matmul(gc, gc, Op::transpose)));
    return ff > 0 && gg > 0 ? fg / (ff * gg) : 0.0;
}

double linear_probe_accuracy(const Matrix& f_train, const Labels& y_train, const Matrix& f_test, const Labels& y_test,
                             double ridge) {
    NTKSSL_CHECK(f_train.shape(0) == y_train.size() && f_test.shape(0) == y_test.size() && f_train.shape(1) == f_test.shape(1),
                 ShapeError, "linear probe: features and labels do not match");
    NTKSSL_CHECK(!y_test.empty() && !y_train.empty(), ShapeError, "linear probe: it needs training and test samples");
    std::map<int, std::size_t> classes;
    for (int y : y_train) classes.emplace(y, classes.size());
    const std::size_t n = f_train.shape(0), k = f_train.shape(1) + 1, c = classes.size();
    auto with_bias = [&](const Matrix& f) {
        Matrix a = Matrix::from_shape({f.shape(0), k});
        for (std::size_t i = 0; i < f.shape(0); ++i) {
            for (std::size_t j = 0; j + 1 < k; ++j) a(i, j) = f(i, j);
            a(i, k - 1) = 1.0;
        }
        return a;
    };
    const Matrix a = with_bias(f_train);
    Matrix y = xt::zeros<double>({n, c});
    for (std::size_t i = 0; i < n; ++i) y(i, classes.at(y_train[i])) = 1.0;
    Matrix ata = linalg::matmul(a, a, Op::transpose);
    double trace = 0;
    for (std::size_t i = 0; i < k; ++i) trace += ata(i, i);
    const double lambda = std::max(ridge * trace / static_cast<double>(k), 1e-300);
    // (AᵀA + λI)⁻¹ AᵀY through the eigendecomposition of the small symmetric AᵀA.
    const linalg::Eigen e = linalg::eigh(ata);
    Matrix q = linalg::matmul(e.vectors, linalg::matmul(a, y, Op::transpose), Op::transpose);  // Qᵀ AᵀY
    for (std::size_t i = 0; i < k; ++i)
        for (std::size_t j = 0; j < c; ++j) q(i, j) /= std::max(e.values(i), 0.0) + lambda;
    const Matrix w = linalg::matmul(e.vectors, q);
    const Matrix scores = linalg::matmul(with_bias(f_test), w);
    std::vector<int> label_of(c);
    for (const auto& [label, index] : classes) label_of[index] = label;
    std::size_t correct = 0;
    for (std::size_t i = 0; i < scores.shape(0); ++i) {
        std::size_t best = 0;
        for (std::size_t j = 1; j < c; ++j)
            if (scores(i, j) > scores(i, best)) best = j;
        correct += label_of[best] == y_test[i];
    }
    return static_cast<double>(correct) / static_cast<double>(y_test.size());
}

std::vector<std::int64_t> measurement_steps(std::int64_t steps, std::int64_t every, std::int64_t count, bool log_spacing) {
    std::vector<std::int64_t> out{0};
    if (every > 0) {
        for (std::int64_t s = every; s < steps; s += every) out.push_back(s);
    } else {
        for (std::int64_t i = 1; i <= count; ++i) {
            const double f = static_cast<double>(i) / static_cast<double>(count);
            const double s = log_spacing ? std::pow(static_cast<double>(steps), f) : f * static_cast<double>(steps);
            out.push_back(std::clamp<std::int64_t>(std::llround(s), 1, steps));
        }
    }
    out.push_back(steps);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace ntkssl::core
