#include "ntkssl/core/summary.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <ntkssl/random.hpp>

#include <boost/math/distributions/students_t.hpp>

namespace ntkssl::core {

namespace {

nlohmann::json fit_json(const LogLogFit& f) {
    auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
    return {{"points", f.n}, {"slope", num(f.slope)}, {"intercept", num(f.intercept)}, {"stderr", num(f.stderr_slope)},
            {"ci_low", num(f.ci_low)}, {"ci_high", num(f.ci_high)}, {"r2", num(f.r2)}};
}

// Whether an expectation applies to a group (the swept values other than scaling and replicate).
bool matches(const Expectation& e, const nlohmann::json& group) {
    for (const auto& [key, value] : e.only) {
        if (!group.contains(key)) return false;
        const nlohmann::json want = value_json(value), have = group.at(key);
        const bool numbers = want.is_number() && have.is_number();
        if (numbers ? want.get<double>() != have.get<double>() : want != have) return false;
    }
    return true;
}

}  // namespace

nlohmann::json value_json(const Value& v) {
    return std::visit([](const auto& x) { return nlohmann::json(x); }, v);
}

double numeric_value(const Value& v) {
    if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
    if (const auto* d = std::get_if<double>(&v)) return *d;
    return std::numeric_limits<double>::quiet_NaN();
}

std::pair<double, double> bootstrap_interval(const std::map<std::string, std::pair<std::vector<double>, std::vector<double>>>& by_replicate,
                                             double confidence, std::size_t resamples, const std::string& stream) {
    std::vector<const std::pair<std::vector<double>, std::vector<double>>*> reps;
    for (const auto& [key, xy] : by_replicate) reps.push_back(&xy);
    // A fixed stream per metric and group: the same results give the same interval.
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : stream) h = (h ^ c) * 0x100000001b3ULL;
    Rng rng(h);
    std::vector<double> slopes;
    std::vector<double> xs, ys;
    for (std::size_t b = 0; b < resamples; ++b) {
        xs.clear();
        ys.clear();
        for (std::size_t i = 0; i < reps.size(); ++i) {
            const auto* r = reps[rng.uniform_index(reps.size())];
            xs.insert(xs.end(), r->first.begin(), r->first.end());
            ys.insert(ys.end(), r->second.begin(), r->second.end());
        }
        const LogLogFit f = fit_log_log(xs, ys, confidence);
        if (std::isfinite(f.slope)) slopes.push_back(f.slope);
    }
    if (slopes.size() < 2) return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
    std::sort(slopes.begin(), slopes.end());
    auto quantile = [&](double q) {
        const double pos = q * static_cast<double>(slopes.size() - 1);
        const auto i = static_cast<std::size_t>(pos);
        const double frac = pos - static_cast<double>(i);
        return i + 1 < slopes.size() ? slopes[i] * (1 - frac) + slopes[i + 1] * frac : slopes[i];
    };
    return {quantile((1 - confidence) / 2), quantile((1 + confidence) / 2)};
}

LogLogFit fit_log_log(const std::vector<double>& x, const std::vector<double>& y, double confidence) {
    LogLogFit f;
    f.n = x.size();
    if (f.n < 2) {  // nothing to fit (e.g. every value was non-positive)
        f.slope = f.intercept = f.stderr_slope = f.ci_low = f.ci_high = f.r2 = std::numeric_limits<double>::quiet_NaN();
        return f;
    }
    std::vector<double> lx(f.n), ly(f.n);
    for (std::size_t i = 0; i < f.n; ++i) {
        lx[i] = std::log(x[i]);
        ly[i] = std::log(y[i]);
    }
    double mx = 0, my = 0;
    for (std::size_t i = 0; i < f.n; ++i) {
        mx += lx[i];
        my += ly[i];
    }
    mx /= static_cast<double>(f.n);
    my /= static_cast<double>(f.n);
    double sxx = 0, sxy = 0, syy = 0;
    for (std::size_t i = 0; i < f.n; ++i) {
        sxx += (lx[i] - mx) * (lx[i] - mx);
        sxy += (lx[i] - mx) * (ly[i] - my);
        syy += (ly[i] - my) * (ly[i] - my);
    }
    if (sxx <= 0) {  // a single distinct width: no slope
        f.slope = f.intercept = f.stderr_slope = f.ci_low = f.ci_high = f.r2 = std::numeric_limits<double>::quiet_NaN();
        return f;
    }
    f.slope = sxy / sxx;
    f.intercept = my - f.slope * mx;
    const double sse = std::max(0.0, syy - f.slope * sxy);
    f.r2 = syy > 0 ? 1.0 - sse / syy : 1.0;
    if (f.n <= 2) {
        f.stderr_slope = std::numeric_limits<double>::infinity();
        f.ci_low = -std::numeric_limits<double>::infinity();
        f.ci_high = std::numeric_limits<double>::infinity();
        return f;
    }
    const double dof = static_cast<double>(f.n - 2);
    f.stderr_slope = std::sqrt(sse / dof / sxx);
    const boost::math::students_t dist(dof);
    const double q = boost::math::quantile(dist, 0.5 + confidence / 2.0);
    f.ci_low = f.slope - q * f.stderr_slope;
    f.ci_high = f.slope + q * f.stderr_slope;
    return f;
}

nlohmann::json summarize(const std::vector<SweepAxis>& axes, const std::vector<FinishedPoint>& points,
                         const ResolvedPipeline& pipeline) {
    const std::string scaling_key = pipeline.report.get_string("scaling_key");
    const std::string replicate_key = pipeline.report.get_string("replicate_key");
    const double confidence = pipeline.report.get_real("confidence");
    const auto resamples = static_cast<std::size_t>(pipeline.report.get_integer("bootstrap"));
    std::ptrdiff_t scaling = -1, replicate = -1;
    for (std::size_t i = 0; i < axes.size(); ++i) {
        if (axes[i].key == scaling_key) scaling = static_cast<std::ptrdiff_t>(i);
        if (axes[i].key == replicate_key) replicate = static_cast<std::ptrdiff_t>(i);
    }

    nlohmann::json out = {{"scaling_key", scaling >= 0 ? nlohmann::json(scaling_key) : nlohmann::json(nullptr)},
                          {"replicate_key", replicate >= 0 ? nlohmann::json(replicate_key) : nlohmann::json(nullptr)},
                          {"confidence", confidence},
                          {"points_finished", points.size()},
                          {"metrics", nlohmann::json::object()}};

    // metric → group (other swept values, rendered) → rows of (scale, replicate, value, step, t)
    struct Row {
        double scale;
        std::string replicate;
        double value;
        std::int64_t step;
        double t;
    };
    std::map<std::string, std::map<std::string, std::pair<nlohmann::json, std::vector<Row>>>> table;
    for (const auto& p : points) {
        nlohmann::json group = nlohmann::json::object();
        for (std::size_t i = 0; i < axes.size(); ++i)
            if (static_cast<std::ptrdiff_t>(i) != scaling && static_cast<std::ptrdiff_t>(i) != replicate)
                group[axes[i].key] = value_json(p.values[i]);
        const double scale = scaling >= 0 ? numeric_value(p.values[static_cast<std::size_t>(scaling)]) : 1.0;
        const std::string rep = replicate >= 0 ? to_string(p.values[static_cast<std::size_t>(replicate)]) : "";
        std::map<std::string, const MetricRecord*> last;
        for (const auto& r : p.records)
            if (!last.count(r.metric) || last[r.metric]->step <= r.step) last[r.metric] = &r;
        for (const auto& [metric, r] : last) {
            auto& slot = table[metric][group.dump()];
            slot.first = group;
            slot.second.push_back({scale, rep, r->value, r->step, r->t});
        }
    }

    for (const auto& [metric, groups] : table) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& [key, entry] : groups) {
            const auto& rows = entry.second;
            nlohmann::json g = {{"group", entry.first}, {"at_step", rows.front().step}, {"t", rows.front().t}};
            std::map<double, std::vector<double>> by_scale;
            for (const auto& r : rows) by_scale[r.scale].push_back(r.value);
            nlohmann::json per = nlohmann::json::array();
            for (const auto& [scale, vals] : by_scale) {
                const double n = static_cast<double>(vals.size());
                double mean = 0;
                for (double v : vals) mean += v;
                mean /= n;
                double var = 0;
                for (double v : vals) var += (v - mean) * (v - mean);
                const double sd = vals.size() > 1 ? std::sqrt(var / (n - 1)) : 0.0;
                per.push_back({{"width", scale}, {"n", vals.size()}, {"mean", mean}, {"std", sd},
                               {"min", *std::min_element(vals.begin(), vals.end())},
                               {"max", *std::max_element(vals.begin(), vals.end())}});
            }
            g["per_width"] = per;
            if (scaling >= 0 && by_scale.size() >= 2) {
                std::vector<double> xs, ys;
                std::size_t excluded = 0;
                std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> by_rep;
                for (const auto& r : rows) {
                    if (!(r.value > 0) || !(r.scale > 0)) {
                        ++excluded;
                        continue;
                    }
                    xs.push_back(r.scale);
                    ys.push_back(r.value);
                    by_rep[r.replicate].first.push_back(r.scale);
                    by_rep[r.replicate].second.push_back(r.value);
                }
                const LogLogFit fit = fit_log_log(xs, ys, confidence);
                g["fit"] = fit_json(fit);
                g["fit"]["excluded"] = excluded;
                // The verdict's interval: the t-interval, widened to the bootstrap's where that
                // exists (points of one seed share data and views, so the pooled residuals
                // understate the spread between seeds; with few seeds the bootstrap alone is coarse).
                double lo = fit.ci_low, hi = fit.ci_high;
                if (replicate >= 0 && resamples > 0 && by_rep.size() >= 2) {
                    const auto [blo, bhi] = bootstrap_interval(by_rep, confidence, resamples, metric + key);
                    if (std::isfinite(blo) && std::isfinite(bhi)) {
                        g["fit"]["bootstrap_ci_low"] = blo;
                        g["fit"]["bootstrap_ci_high"] = bhi;
                        g["fit"]["bootstrap_resamples"] = resamples;
                        lo = std::min(lo, blo);
                        hi = std::max(hi, bhi);
                    }
                }
                g["fit"]["verdict_ci_low"] = std::isfinite(lo) ? nlohmann::json(lo) : nlohmann::json(nullptr);
                g["fit"]["verdict_ci_high"] = std::isfinite(hi) ? nlohmann::json(hi) : nlohmann::json(nullptr);
                if (replicate >= 0) {
                    std::vector<double> slopes;
                    for (const auto& [rep, xy] : by_rep) {
                        const LogLogFit f = fit_log_log(xy.first, xy.second, confidence);
                        if (std::isfinite(f.slope)) slopes.push_back(f.slope);
                    }
                    double mean = 0, var = 0;
                    for (double s : slopes) mean += s;
                    if (!slopes.empty()) mean /= static_cast<double>(slopes.size());
                    for (double s : slopes) var += (s - mean) * (s - mean);
                    g["replicate_slopes"] = {{"n", slopes.size()},
                                             {"values", slopes},
                                             {"mean", slopes.empty() ? nlohmann::json(nullptr) : nlohmann::json(mean)},
                                             {"std", slopes.size() > 1 ? nlohmann::json(std::sqrt(var / static_cast<double>(slopes.size() - 1)))
                                                                       : nlohmann::json(nullptr)}};
                }
                for (const auto& e : pipeline.expectations) {
                    if (e.metric != metric || !matches(e, entry.first) || g.contains("verdict")) continue;
                    std::string result = "inconclusive";
                    const bool finite = std::isfinite(lo) && std::isfinite(hi);
                    if (std::isfinite(fit.slope)) {
                        const bool all_ok = finite && (!e.slope_max || hi < *e.slope_max) && (!e.slope_min || lo > *e.slope_min);
                        const bool all_bad = (e.slope_max && lo > *e.slope_max) || (e.slope_min && hi < *e.slope_min);
                        result = all_ok ? "pass" : all_bad ? "fail" : "inconclusive";
                    }
                    nlohmann::json expect = nlohmann::json::object();
                    if (e.slope_max) expect["slope_max"] = *e.slope_max;
                    if (e.slope_min) expect["slope_min"] = *e.slope_min;
                    for (const auto& [k, v] : e.only) expect["where"][k] = value_json(v);
                    g["verdict"] = {{"expect", expect}, {"result", result}};
                }
            }
            list.push_back(g);
        }
        out["metrics"][metric] = list;
    }
    // An expectation about a metric that was never measured, or whose `where` matches no group,
    // is reported, not ignored.
    for (const auto& e : pipeline.expectations) {
        if (!table.count(e.metric)) {
            out["unmet_expectations"].push_back({{"metric", e.metric}, {"reason", "not measured"}});
            continue;
        }
        bool any = false;
        for (const auto& [key, entry] : table.at(e.metric)) any = any || matches(e, entry.first);
        if (!any) out["unmet_expectations"].push_back({{"metric", e.metric}, {"reason", "its `where` matches no group of the sweep"}});
    }
    return out;
}

}  // namespace ntkssl::core
