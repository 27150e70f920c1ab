#include "ntkssl/ops.hpp"

#include <algorithm>
#include <cmath>

#include "ntkssl/errors.hpp"

namespace ntkssl::ops {

void require_views(const std::vector<Matrix>& views, std::size_t count, const char* loss, std::size_t min_rows) {
    NTKSSL_CHECK(count == 0 ? !views.empty() : views.size() == count, ShapeError,
                 loss << " needs " << (count ? std::to_string(count) : std::string("at least 1")) << " views, got " << views.size());
    const auto shape = views.front().shape();
    NTKSSL_CHECK(shape[0] >= min_rows && shape[1] >= 1, ShapeError,
                 loss << " needs embeddings of at least " << min_rows << " rows and 1 column, got " << shape[0] << "×" << shape[1]);
    for (std::size_t v = 0; v < views.size(); ++v) {
        NTKSSL_CHECK(views[v].shape() == shape, ShapeError,
                     loss << ": view " << v << " is " << views[v].shape(0) << "×" << views[v].shape(1) << ", view 0 is "
                          << shape[0] << "×" << shape[1]);
        for (std::size_t i = 0; i < views[v].size(); ++i) {
            NTKSSL_CHECK(std::isfinite(views[v].data()[i]), NumericError,
                         loss << ": embedding entry (" << i / shape[1] << ", " << i % shape[1] << ") of view " << v << " is "
                              << views[v].data()[i]);
        }
    }
}

RowNormalized normalize_rows(const Matrix& z, double eps) {
    const std::size_t n = z.shape(0), k = z.shape(1);
    RowNormalized r{Matrix::from_shape({n, k}), Vector::from_shape({n}), eps};
    for (std::size_t i = 0; i < n; ++i) {
        double s = 0;
        for (std::size_t j = 0; j < k; ++j) s += z(i, j) * z(i, j);
        r.norm(i) = std::sqrt(s);
        const double d = std::max(r.norm(i), eps);
        for (std::size_t j = 0; j < k; ++j) r.u(i, j) = z(i, j) / d;
    }
    return r;
}

Matrix normalize_rows_backward(const RowNormalized& n, const Matrix& g) {
    const std::size_t rows = g.shape(0), k = g.shape(1);
    Matrix out = Matrix::from_shape({rows, k});
    for (std::size_t i = 0; i < rows; ++i) {
        if (n.norm(i) <= n.eps) {  // u = z/eps: a plain scaling
            for (std::size_t j = 0; j < k; ++j) out(i, j) = g(i, j) / n.eps;
            continue;
        }
        double ug = 0;
        for (std::size_t j = 0; j < k; ++j) ug += n.u(i, j) * g(i, j);
        for (std::size_t j = 0; j < k; ++j) out(i, j) = (g(i, j) - n.u(i, j) * ug) / n.norm(i);
    }
    return out;
}

Standardized standardize_columns(const Matrix& z, double eps, bool unbiased) {
    const std::size_t n = z.shape(0), k = z.shape(1);
    NTKSSL_CHECK(n >= (unbiased ? 2u : 1u), ShapeError,
                 "standardizing columns needs at least " << (unbiased ? 2 : 1) << " rows, got " << n);
    const double denom = static_cast<double>(unbiased ? n - 1 : n);
    Standardized s{Matrix::from_shape({n, k}), Vector::from_shape({k}), unbiased};
    for (std::size_t j = 0; j < k; ++j) {
        double mean = 0;
        for (std::size_t i = 0; i < n; ++i) mean += z(i, j);
        mean /= static_cast<double>(n);
        double var = 0;
        for (std::size_t i = 0; i < n; ++i) var += (z(i, j) - mean) * (z(i, j) - mean);
        var /= denom;
        NTKSSL_CHECK(var + eps > 0.0, NumericError,
                     "embedding dimension " << j << " is constant over the batch and epsilon = " << eps
                                            << ", so it cannot be standardized; use epsilon > 0");
        s.inv_std(j) = 1.0 / std::sqrt(var + eps);
        for (std::size_t i = 0; i < n; ++i) s.z(i, j) = (z(i, j) - mean) * s.inv_std(j);
    }
    return s;
}

Matrix standardize_columns_backward(const Standardized& s, const Matrix& g) {
    const std::size_t n = g.shape(0), k = g.shape(1);
    const double denom = static_cast<double>(s.unbiased ? n - 1 : n);
    Matrix out = Matrix::from_shape({n, k});
    for (std::size_t j = 0; j < k; ++j) {
        double mean_g = 0, gz = 0;
        for (std::size_t i = 0; i < n; ++i) {
            mean_g += g(i, j);
            gz += g(i, j) * s.z(i, j);
        }
        mean_g /= static_cast<double>(n);
        for (std::size_t i = 0; i < n; ++i) out(i, j) = (g(i, j) - mean_g - s.z(i, j) * gz / denom) * s.inv_std(j);
    }
    return out;
}

Matrix center_columns(const Matrix& z) {
    const std::size_t n = z.shape(0), k = z.shape(1);
    Matrix out = z;
    for (std::size_t j = 0; j < k; ++j) {
        double mean = 0;
        for (std::size_t i = 0; i < n; ++i) mean += z(i, j);
        mean /= static_cast<double>(n);
        for (std::size_t i = 0; i < n; ++i) out(i, j) -= mean;
    }
    return out;
}

}  // namespace ntkssl::ops
