#include "ntkssl/core/metrics.hpp"

namespace ntkssl::core {

const std::vector<MetricInfo>& metric_catalogue() {
    // name, doc, heldout, labels, kernel, linearization, initial_only
    static const std::vector<MetricInfo> m = {
        {"loss", "training loss L(f_t) on the training views (all samples)"},
        {"param_distance", "‖θ_t − θ_0‖₂"},
        {"ntk_relative_change", "‖Θ_t − Θ_0‖_F / ‖Θ_0‖_F, empirical NTK on the probe set"},
        {"ntk_init_vs_limit", "‖Θ_0 − Θ_∞ ⊗ I_K‖_F / ‖Θ_∞ ⊗ I_K‖_F on the probe set, Θ_∞ the [kernel] (ntk_analytic)", false, false,
         true, false, true},
        {"linearization_gap", "‖f_t(Z) − f_t^lin(Z)‖_F / ‖f_t(Z)‖_F on the training views Z, f^lin the network's linearization at θ_0",
         false, false, false, true},
        {"kernel_model_gap", "‖F Fᵀ − G Gᵀ‖_F / ‖G Gᵀ‖_F on the training views: network F = f_t(Z) vs kernel model G", false, false,
         true},
        {"kernel_model_cka", "linear CKA between the network's representation f_t(Z) and the kernel model's", false, false, true},
        {"kernel_model_loss", "training loss of the kernel model", false, false, true},
        {"kernel_model_norm", "RKHS norm of the kernel model's solution (‖f − f_0‖_H for the gd model)", false, false, true},
        {"kernel_trace", "mean diagonal of the [kernel]'s Gram matrix over the training views, tr(𝐊)/M", false, false, true, false,
         true},
        {"heldout_loss", "loss of the network on views of the held-out samples", true},
        {"kernel_model_heldout_loss", "loss of the kernel model on views of the held-out samples", true, false, true},
        {"probe_accuracy", "ridge linear probe on the network's representation: fit on the training samples, accuracy on the held-out",
         true, true},
        {"kernel_model_probe_accuracy", "the same linear probe on the kernel model's representation", true, true, true},
    };
    return m;
}

std::vector<std::string> metric_names() {
    std::vector<std::string> out;
    for (const auto& m : metric_catalogue()) out.emplace_back(m.name);
    return out;
}

const MetricInfo* find_metric(const std::string& name) {
    for (const auto& m : metric_catalogue())
        if (name == m.name) return &m;
    return nullptr;
}

}  // namespace ntkssl::core
