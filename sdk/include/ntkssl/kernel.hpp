// Kernel: a positive semi-definite similarity between samples.
//
// WHAT IT REPRESENTS: a scalar kernel k : R^d × R^d → R, evaluated on two sets of samples as
// the Gram matrix G_ij = k(x1_i, x2_j), N1×N2. Analytic infinite-width kernels (NTK, NNGP)
// read the pipeline's architecture from BuildContext::architecture.
//
// REQUIRES of an implementation:
//   - construct from (const Config&, const BuildContext&);
//   - gram(X1, X2) is N1×N2 with finite entries; gram(X, X) is symmetric PSD up to rounding.
#pragma once

#include "ntkssl/export.hpp"
#include "ntkssl/tensor.hpp"

namespace ntkssl {

class NTKSSL_SDK_API Kernel {
public:
    virtual ~Kernel();
    virtual Matrix gram(const Matrix& x1, const Matrix& x2) const = 0;
};

}  // namespace ntkssl
