// The measurements a pipeline can ask for ([measure] metrics), with what each one needs. The
// names are a contract shared with DESIGN.md, docs/outputs.md and users' scripts.
#pragma once

#include <string>
#include <vector>

namespace ntkssl::core {

struct MetricInfo {
    const char* name;
    const char* doc;
    bool heldout = false;        // held-out samples ([dataset] holdout > 0)
    bool labels = false;         // integer labels
    bool kernel = false;         // the [kernel] (default ntk_analytic) and its kernel model
    bool linearization = false;  // the empirical NTK over all training inputs
    bool initial_only = false;   // measured once, at step 0
};

const std::vector<MetricInfo>& metric_catalogue();
std::vector<std::string> metric_names();
// nullptr when unknown.
const MetricInfo* find_metric(const std::string& name);

}  // namespace ntkssl::core
