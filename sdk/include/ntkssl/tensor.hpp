// The numeric types at the plugin boundary. This is the only SDK header that includes xtensor.
//
// Every number that crosses the boundary is a double. Matrices are row-major and rows are
// samples: a data set of N points in R^d is an N×d Matrix, the embeddings of N points are N×K.
// The allocator is spelled out (std::allocator) so that the type is the same whether or not a
// translation unit defines XTENSOR_USE_XSIMD: plugins and the core need not agree on -march.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include <xtensor/xtensor.hpp>

namespace ntkssl {

using Matrix = xt::xtensor<double, 2, xt::layout_type::row_major, std::allocator<double>>;
using Vector = xt::xtensor<double, 1, xt::layout_type::row_major, std::allocator<double>>;
using Labels = std::vector<int>;
using Shape = std::vector<std::size_t>;

}  // namespace ntkssl
