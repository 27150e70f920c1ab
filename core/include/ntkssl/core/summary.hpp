// summary.json: how each metric scales with width.
//
// For every metric, the value at the last measured step of each finished point is taken. Points
// are grouped by every swept key other than the scaling key (default architecture.width) and
// the replicate key (default pipeline.seed). Within a group:
//   - per width: number of replicates, mean, sample standard deviation, min, max;
//   - fit: ordinary least squares of log(value) on log(width) over all points (replicates
//     included), slope ± t_{(1+c)/2, n−2} · stderr for confidence c (default 0.95), and R²;
//   - fit.bootstrap_ci_low/high: a percentile bootstrap over replicates (resampled with
//     replacement, [report] bootstrap times, refitted pooled), when there are ≥ 2 replicates;
//   - replicate_slopes: the same fit per replicate, with mean and standard deviation, so the
//     spread over seeds is visible next to the pooled interval;
//   - verdict, where [measure.expect] states slope_max / slope_min, judged on the union of the
//     t and bootstrap intervals (fit.verdict_ci_low/high): "pass" when it lies wholly inside the
//     bound, "fail" when wholly outside, otherwise "inconclusive".
// Non-positive values cannot enter a log-log fit; they are counted in "excluded".
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ntkssl/core/pipeline.hpp"
#include "ntkssl/core/training.hpp"

namespace ntkssl::core {

struct FinishedPoint {
    std::size_t id;
    std::vector<Value> values;  // one per sweep axis
    std::vector<MetricRecord> records;
};

struct LogLogFit {
    std::size_t n = 0;
    double slope = 0, intercept = 0, stderr_slope = 0, ci_low = 0, ci_high = 0, r2 = 0;
};

// A swept value as JSON, and as a number (NaN for strings and lists).
nlohmann::json value_json(const Value& v);
double numeric_value(const Value& v);

// OLS of log(y) on log(x); needs n ≥ 2 distinct x (interval infinite when n = 2).
LogLogFit fit_log_log(const std::vector<double>& x, const std::vector<double>& y, double confidence);

// Percentile bootstrap interval of the pooled log-log slope, resampling whole replicates
// (replicate → (widths, values)); NaNs when fewer than two resamples give a slope. `stream`
// seeds the resampling, so the interval is reproducible.
std::pair<double, double> bootstrap_interval(const std::map<std::string, std::pair<std::vector<double>, std::vector<double>>>& by_replicate,
                                             double confidence, std::size_t resamples, const std::string& stream);

nlohmann::json summarize(const std::vector<SweepAxis>& axes, const std::vector<FinishedPoint>& points,
                         const ResolvedPipeline& pipeline);

}  // namespace ntkssl::core
