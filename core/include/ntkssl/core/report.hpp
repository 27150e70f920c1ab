// report.md and plots/: what a researcher reads after a run.
//
// The plots are made by gnuplot (Debian's gnuplot-nox), from data and scripts written next to
// them so that users can restyle and re-render (`cd plots && gnuplot ntk_relative_change_vs_width.gp`):
//   <metric>_vs_time[_gN].png   mean over replicates against t = η·step, one line per width
//                               (ntk_relative_change, loss, and the other drift metrics)
//   <metric>_vs_width.png       the value at the last step against width, log-log: mean ± std
//                               over replicates per group, the fitted power law, and for the drift
//                               metrics the guide lines M^−1/2 and M^−1 through the narrowest point
// report.md shows them with the summary table (slopes, both intervals, spread over seeds,
// verdicts), the per-width means, and the failed points. When gnuplot is missing (or
// [report] plots = false) the data and scripts are still written and report.md says so.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ntkssl/core/summary.hpp"

namespace ntkssl::core {

struct ReportInput {
    std::filesystem::path out;
    std::string pipeline_name;
    const std::vector<SweepAxis>* axes = nullptr;
    const std::vector<FinishedPoint>* points = nullptr;  // the done points
    const nlohmann::json* summary = nullptr;
    const nlohmann::json* manifest = nullptr;  // for the status and the failed points
    std::string scaling_key, replicate_key;
    bool plots = true;
};

// Writes report.md (atomically) and plots/; returns notes for the log (e.g. gnuplot is
// missing). Throws std::runtime_error only when report.md itself cannot be written.
std::vector<std::string> write_report(const ReportInput& in);

}  // namespace ntkssl::core
