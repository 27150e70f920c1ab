// The width-scaling statistics of summary.json.
#include <doctest/doctest.h>

#include <cmath>

#include <ntkssl/random.hpp>

#include "ntkssl/core/summary.hpp"

using namespace ntkssl;
using namespace ntkssl::core;

TEST_CASE("an exact power law is fitted exactly") {
    const std::vector<double> x = {64, 256, 1024, 4096};
    std::vector<double> y;
    for (double w : x) y.push_back(3.0 * std::pow(w, -0.5));
    const auto f = fit_log_log(x, y, 0.95);
    CHECK(f.slope == doctest::Approx(-0.5).epsilon(1e-12));
    CHECK(std::exp(f.intercept) == doctest::Approx(3.0).epsilon(1e-12));
    CHECK(f.r2 == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(f.stderr_slope < 1e-10);
}

TEST_CASE("the slope interval covers the true slope at its nominal rate (Monte Carlo)") {
    // y = w^-1 · exp(0.2 ε), 4 widths × 3 replicates. Over 4000 trials a correct 95% interval
    // covers −1 with frequency 0.95 ± 0.0034 (one standard error); we allow 4 standard errors.
    // A normal quantile instead of Student's t (10 dof) would give ≈ 0.92 and fail.
    Rng rng(2024);
    const std::vector<double> widths = {64, 256, 1024, 4096};
    const int trials = 4000;
    int covered = 0;
    for (int t = 0; t < trials; ++t) {
        std::vector<double> x, y;
        for (double w : widths)
            for (int r = 0; r < 3; ++r) {
                x.push_back(w);
                y.push_back(std::exp(-std::log(w) + 0.2 * rng.normal()));
            }
        const auto f = fit_log_log(x, y, 0.95);
        covered += (f.ci_low <= -1.0 && -1.0 <= f.ci_high);
    }
    const double rate = static_cast<double>(covered) / trials;
    CHECK(std::fabs(rate - 0.95) < 4 * std::sqrt(0.95 * 0.05 / trials));
}

TEST_CASE("summarize groups by width, reports spread over seeds, and gives verdicts") {
    std::vector<SweepAxis> axes(2);
    axes[0].key = "architecture.width";
    axes[1].key = "pipeline.seed";
    std::vector<FinishedPoint> points;
    std::size_t id = 0;
    for (std::int64_t w : {100, 400, 1600})
        for (std::int64_t s : {0, 1}) {
            // value = w^-1 · (1 + 0.1·s): per-seed slopes are exactly −1; seeds differ by 10 %.
            const double v = (1.0 + 0.1 * static_cast<double>(s)) / static_cast<double>(w);
            points.push_back({id++, {Value{w}, Value{s}}, {{0, 0.0, "m", 0.0}, {10, 1.0, "m", v}}});
        }
    ResolvedPipeline p;
    p.report = Config("report", {"p.toml", 1, 1}, {}, Pipeline::report_parameters());
    p.expectations.push_back({"m", -0.5, std::nullopt, {"p.toml", 2, 1}, {}});
    p.expectations.push_back({"absent", -0.5, std::nullopt, {"p.toml", 3, 1}, {}});
    const auto s = summarize(axes, points, p);
    const auto& g = s["metrics"]["m"][0];
    CHECK(g["at_step"] == 10);
    REQUIRE(g["per_width"].size() == 3);
    CHECK(g["per_width"][0]["width"] == 100.0);
    CHECK(g["per_width"][0]["n"] == 2);
    CHECK(g["per_width"][0]["mean"].get<double>() == doctest::Approx(1.05 / 100).epsilon(1e-12));
    // sample std of {1, 1.1}/100 = 0.1/√2/100
    CHECK(g["per_width"][0]["std"].get<double>() == doctest::Approx(0.1 / std::sqrt(2.0) / 100).epsilon(1e-12));
    CHECK(g["fit"]["slope"].get<double>() == doctest::Approx(-1.0).epsilon(1e-12));
    CHECK(g["replicate_slopes"]["n"] == 2);
    CHECK(g["replicate_slopes"]["mean"].get<double>() == doctest::Approx(-1.0).epsilon(1e-12));
    CHECK(g["verdict"]["result"] == "pass");
    CHECK(s["unmet_expectations"][0]["metric"] == "absent");
}

TEST_CASE("the bootstrap over seeds spans the per-seed slopes and widens the verdict's interval") {
    // Three seeds whose values follow exact power laws with slopes −0.8, −1.0, −1.2 at the same
    // widths: the pooled slope of any resample is the mean of its seeds' slopes, so the
    // percentile interval lies in [−1.2, −0.8]; all three draws equal has probability 1/27 > 2.5%,
    // so at 95% both ends are reached.
    std::vector<SweepAxis> axes(2);
    axes[0].key = "architecture.width";
    axes[1].key = "pipeline.seed";
    std::vector<FinishedPoint> points;
    std::size_t id = 0;
    const double slopes[] = {-0.8, -1.0, -1.2};
    for (std::int64_t w : {100, 400, 1600})
        for (std::int64_t s : {0, 1, 2})
            points.push_back({id++, {Value{w}, Value{s}}, {{5, 1.0, "m", std::pow(static_cast<double>(w), slopes[s])}}});
    ResolvedPipeline p;
    p.report = Config("report", {"p.toml", 1, 1}, {}, Pipeline::report_parameters());
    p.expectations.push_back({"m", -0.9, std::nullopt, {"p.toml", 2, 1}, {}});
    const auto s = summarize(axes, points, p);
    const auto& f = s["metrics"]["m"][0]["fit"];
    CHECK(f["slope"].get<double>() == doctest::Approx(-1.0).epsilon(1e-12));
    CHECK(f["bootstrap_ci_low"].get<double>() == doctest::Approx(-1.2).epsilon(1e-9));
    CHECK(f["bootstrap_ci_high"].get<double>() == doctest::Approx(-0.8).epsilon(1e-9));
    // The verdict's interval is the union of the t and bootstrap intervals; it straddles −0.9.
    CHECK(f["verdict_ci_low"].get<double>() == std::min(f["ci_low"].get<double>(), f["bootstrap_ci_low"].get<double>()));
    CHECK(f["verdict_ci_high"].get<double>() == std::max(f["ci_high"].get<double>(), f["bootstrap_ci_high"].get<double>()));
    CHECK(s["metrics"]["m"][0]["verdict"]["result"] == "inconclusive");
    // Reproducible: the same results give the same interval.
    CHECK(summarize(axes, points, p)["metrics"]["m"][0]["fit"]["bootstrap_ci_low"] == f["bootstrap_ci_low"]);
}
