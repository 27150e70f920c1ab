// The kernels library: analytic infinite-width kernels and the classic ones.
#include "analytic_kernels.hpp"
#include "classic_kernels.hpp"

NTKSSL_PLUGIN("ntkssl.kernels", NTKSSL_VERSION) {
    using namespace ntkssl::plugins;
    ntkssl::register_plugin<NtkAnalytic>(registrar, "ntk_analytic",
                                         "infinite-width NTK of the pipeline's fully connected network (Θ_∞; the empirical NTK → Θ_∞ ⊗ I_K)");
    ntkssl::register_plugin<NngpAnalytic>(registrar, "nngp_analytic", "infinite-width NNGP kernel of the pipeline's fully connected network");
    ntkssl::register_plugin<LinearKernel>(registrar, "linear", "k(x, x') = ⟨x, x'⟩");
    ntkssl::register_plugin<PolynomialKernel>(registrar, "polynomial", "k(x, x') = (γ⟨x, x'⟩ + c)^p");
    ntkssl::register_plugin<RbfKernel>(registrar, "rbf", "k(x, x') = exp(−‖x − x'‖²/(2ℓ²))");
    ntkssl::register_plugin<LaplaceKernel>(registrar, "laplace", "k(x, x') = exp(−‖x − x'‖/ℓ)");
    ntkssl::register_plugin<CosineKernel>(registrar, "cosine", "k(x, x') = ⟨x, x'⟩/(‖x‖‖x'‖)");
}
