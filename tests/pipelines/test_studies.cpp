// Studies as users run them: every shipped pipeline validates and runs (shrunk to seconds) with
// its verdicts; training modes against independent expectations (first-order linearization,
// second-order flow, the standard/ntk equivalence); sweep variants; validate's full report;
// the generated reference; report.md and plots; saved NTKs; serial = parallel.
#include <doctest/doctest.h>

#include <cmath>
#include <map>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace t = ntkssl::test;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const fs::path kFashion = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";

// The last value of a metric in a run's metrics.csv, per point id.
std::map<int, double> last_values(const fs::path& csv, const std::string& metric) {
    std::map<int, double> out;
    std::map<int, long long> step;
    std::istringstream in(t::read_text(csv));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        std::vector<std::string> f;
        std::stringstream ls(line);
        std::string x;
        while (std::getline(ls, x, ',')) f.push_back(x);
        if (f.size() < 5 || f[f.size() - 2] != metric) continue;
        const int id = std::stoi(f[0]);
        const long long s = std::stoll(f[f.size() - 4]);
        if (!step.count(id) || s >= step[id]) {
            step[id] = s;
            out[id] = std::stod(f.back());
        }
    }
    return out;
}

t::Result run(const fs::path& pipeline, const fs::path& out, const std::string& extra) {
    return t::run_ntkssl("run " + t::quoted(pipeline) + " --out " + t::quoted(out) + " --quiet " + extra);
}

// A small two-layer study on the sphere whose knobs the tests below turn.
const char* kTiny = R"([dataset]
type = "synthetic.sphere"
n = 16
dim = 6
holdout = 0.25

[[augmentation]]
type = "gaussian_noise"
sigma = 0.1

[architecture]
type = "two_layer"
width = 256
output_dim = 2

[loss]
type = "barlow_twins"
preset = "theory"

[train]
steps = 40
learning_rate = 0.1

[measure]
every = 10
probe_size = 6
)";

}  // namespace

TEST_CASE("every pipeline in pipelines/ passes ntkssl validate") {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(t::source_dir() / "pipelines")) {
        if (e.path().extension() != ".toml") continue;
        const std::string text = t::read_text(e.path());
        if (text.find("type = \"idx\"") != std::string::npos && !fs::exists(kFashion)) {
            MESSAGE("skipped " << e.path().filename().string() << ": Debian's dataset-fashion-mnist is not installed");
            continue;
        }
        const auto r = t::run_ntkssl("validate " + t::quoted(e.path()));
        CAPTURE(e.path().string());
        INFO(r.out);
        CHECK(r.code == 0);
        ++n;
    }
    CHECK(n >= 5);
}

namespace {

// Runs a shipped study shrunk to seconds (the overrides keep its question and shrink its widths,
// seeds and steps) and checks that every verdict it states passes.
void check_study(const std::string& file, const std::string& overrides, bool fashion) {
    if (fashion && !fs::exists(kFashion)) {
        MESSAGE("skipped " << file << ": Debian's dataset-fashion-mnist is not installed");
        return;
    }
    const auto out = t::scratch("study_" + file);
    const auto r = run(t::source_dir() / "pipelines" / file, out / "run", overrides + " --check");
    INFO(r.out);
    CHECK(r.code == 0);
    const json summary = t::read_json(out / "run" / "summary.json");
    std::size_t verdicts = 0;
    for (const auto& [metric, groups] : summary["metrics"].items())
        for (const auto& g : groups)
            if (g.contains("verdict")) {
                ++verdicts;
                CAPTURE(metric);
                CAPTURE(g["group"].dump());
                CHECK(g["verdict"]["result"] == "pass");
            }
    CHECK(verdicts >= 1);
    CHECK_FALSE(summary.contains("unmet_expectations"));
    CHECK(fs::exists(out / "run" / "report.md"));
}

}  // namespace

TEST_CASE("study bt_ntk_constancy, shrunk: the NTK change falls with width") {
    check_study("bt_ntk_constancy.toml",
                "--set dataset.subset=64 --set train.steps=40 --set 'sweep.architecture.width=[256, 1024, 4096]' "
                "--set 'sweep.pipeline.seed=[0, 1]'",
                true);
}

TEST_CASE("study loss_comparison, shrunk: Barlow Twins and the supervised baseline freeze their NTK") {
    check_study("loss_comparison.toml",
                "--set train.steps=60 --set 'sweep.architecture.width=[128, 512, 2048]' --set 'sweep.pipeline.seed=[0, 1]'", false);
}

TEST_CASE("study parametrization_contrast, shrunk: the NTK freezes under ntk and keeps moving under mean-field") {
    check_study("parametrization_contrast.toml", "--set 'sweep.architecture.width=[128, 512, 2048]' --set 'sweep.pipeline.seed=[0, 1]'",
                false);
}

TEST_CASE("study depth, shrunk: the NTK change falls with width at depth 1, 2 and 3") {
    check_study("depth.toml", "--set train.steps=100 --set 'sweep.architecture.width=[64, 256, 1024]' --set 'sweep.pipeline.seed=[0, 1]'",
                false);
}

TEST_CASE("study bt_kernel_regime, shrunk: NTK at init approaches the analytic limit like M^-1/2, linearization and kernel-model gaps fall") {
    check_study("bt_kernel_regime.toml",
                "--set dataset.subset=32 --set 'sweep.architecture.width=[256, 1024, 4096]' --set 'sweep.pipeline.seed=[0, 1, 2]'", true);
}

TEST_CASE("study bt_generalization, shrunk: the kernel model's held-out loss falls with the number of pairs") {
    check_study("bt_generalization.toml",
                "--set architecture.width=512 --set kernel.quadrature_degree=24 --set measure.probe_size=8 "
                "--set 'sweep.dataset.subset=[32, 64, 128, 256]' --set 'sweep.pipeline.seed=[0, 1]'",
                true);
}

TEST_CASE("serial and parallel runs of a sweep give identical metrics.csv, also where BLAS could use threads") {
    const auto dir = t::scratch("studies_parallel");
    t::write_text(dir / "p.toml", std::string(kTiny) + "\n[sweep]\n\"architecture.width\" = [64, 128, 256, 512]\n\"pipeline.seed\" = [0, 1]\n");
    REQUIRE(run(dir / "p.toml", dir / "serial", "--jobs 1").code == 0);
    REQUIRE(run(dir / "p.toml", dir / "parallel", "--jobs 2").code == 0);
    CHECK(t::read_text(dir / "serial" / "metrics.csv") == t::read_text(dir / "parallel" / "metrics.csv"));
    // Sizes at which OpenBLAS runs a product on several threads, and sums in another order
    // then: a point alone still computes with one BLAS thread, so it computes the same digits.
    std::string wide = std::string(kTiny) + "\n[sweep]\n\"architecture.width\" = [2048, 4096]\n";
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"n = 16\ndim = 6", "n = 256\ndim = 256"},
                                   {"output_dim = 2", "output_dim = 8"}, {"steps = 40", "steps = 3"}, {"probe_size = 6", "probe_size = 64"}})
        wide.replace(wide.find(from), from.size(), to);
    t::write_text(dir / "wide.toml", wide);
    REQUIRE(run(dir / "wide.toml", dir / "wide_serial", "--jobs 1").code == 0);
    REQUIRE(run(dir / "wide.toml", dir / "wide_parallel", "--jobs 2").code == 0);
    CHECK(t::read_text(dir / "wide_serial" / "metrics.csv") == t::read_text(dir / "wide_parallel" / "metrics.csv"));
    CHECK(t::read_json(dir / "wide_serial" / "manifest.json")["machine"]["blas_threads"] == 1);
}

TEST_CASE("the standard parametrization with lr_scaling = parametrization trains exactly like the ntk one") {
    // w = a·θ: gradient descent on w with step η·a² per layer is gradient descent on θ with step
    // η, and the same seed draws the same network. The losses agree to rounding at every step;
    // without the scaling they do not.
    const auto dir = t::scratch("studies_standard");
    t::write_text(dir / "p.toml", std::string(kTiny) + "\n[sweep]\n\"architecture.parametrization\" = [\"ntk\", \"standard\"]\n");
    REQUIRE(run(dir / "p.toml", dir / "scaled", "--set train.lr_scaling=parametrization").code == 0);
    const auto loss = t::read_metrics(dir / "scaled" / "metrics.csv");
    std::size_t compared = 0;
    for (const auto& [row, value] : loss) {
        if (row.rfind("0,", 0) != 0 || row.find(",loss") == std::string::npos) continue;
        std::string other = row;
        other.replace(0, 5, "1,standard");
        REQUIRE(loss.count(other));
        CHECK(loss.at(other) == doctest::Approx(value).epsilon(1e-10));
        ++compared;
    }
    CHECK(compared == 5);
    // Without it the standard network's NTK grows like the width, and the same step diverges.
    const auto unscaled = run(dir / "p.toml", dir / "unscaled", "");
    CHECK(unscaled.code == 1);
    const json m = t::read_json(dir / "unscaled" / "manifest.json");
    CHECK(m["points"][0]["status"] == "done");
    CHECK(m["points"][1]["status"] == "failed");
    CHECK(m["points"][1]["error"].get<std::string>().find("diverged at step") != std::string::npos);
}

TEST_CASE("the linearized model agrees with the network to first order in the step") {
    // After one step of size η, f_net − f_lin = O(η²): halving η divides the gap by 4. The
    // linearization_gap relative to ‖f‖ is measured after one step at η and η/2.
    const auto dir = t::scratch("studies_linearization");
    t::write_text(dir / "p.toml", std::string(kTiny) + "\n[sweep]\n\"train.learning_rate\" = [0.02, 0.01]\n");
    REQUIRE(run(dir / "p.toml", dir / "out", "--set train.steps=1 --set 'measure.metrics=[\"linearization_gap\"]'").code == 0);
    const auto gap = last_values(dir / "out" / "metrics.csv", "linearization_gap");
    REQUIRE(gap.size() == 2);
    CHECK(gap.at(0) > 0);
    CHECK(gap.at(0) / gap.at(1) == doctest::Approx(4.0).epsilon(0.1));
}

TEST_CASE("flow mode converges to the gradient flow at second order, gd at first order") {
    // The loss at time T = 2 with steps η, η/2, η/4: successive differences shrink by 4 for
    // Heun's method and by 2 for Euler's (plain gradient descent).
    const auto dir = t::scratch("studies_flow");
    std::string p = kTiny;
    p.erase(p.find("steps = 40\n"), 11);
    t::write_text(dir / "p.toml", p + "\n[sweep]\n\"train.optimizer\" = [\"gd\", \"flow\"]\n\"train.learning_rate\" = [0.2, 0.1, 0.05]\n");
    REQUIRE(run(dir / "p.toml", dir / "out", "--set train.time=2 --set 'measure.metrics=[\"loss\"]' --set measure.count=1").code == 0);
    const auto loss = last_values(dir / "out" / "metrics.csv", "loss");
    REQUIRE(loss.size() == 6);
    const double gd_ratio = (loss.at(0) - loss.at(1)) / (loss.at(1) - loss.at(2));
    const double flow_ratio = (loss.at(3) - loss.at(4)) / (loss.at(4) - loss.at(5));
    CHECK(gd_ratio == doctest::Approx(2.0).epsilon(0.15));
    CHECK(flow_ratio == doctest::Approx(4.0).epsilon(0.15));
}

TEST_CASE("sgd with momentum: batches are reproducible from the seed and the loss falls") {
    const auto dir = t::scratch("studies_sgd");
    t::write_text(dir / "p.toml", kTiny);
    const std::string sgd = "--set train.optimizer=sgd --set train.batch_size=6 --set train.momentum=0.9 --set train.steps=60";
    REQUIRE(run(dir / "p.toml", dir / "a", sgd).code == 0);
    REQUIRE(run(dir / "p.toml", dir / "b", sgd).code == 0);
    CHECK(t::read_text(dir / "a" / "metrics.csv") == t::read_text(dir / "b" / "metrics.csv"));
    const auto m = t::read_metrics(dir / "a" / "metrics.csv");
    CHECK(m.at("0,60,6,loss") < 0.5 * m.at("0,0,0,loss"));
    // A batch larger than the data is refused at validation, naming the limit.
    const auto r = t::run_ntkssl("validate " + t::quoted(dir / "p.toml") + " --set train.optimizer=sgd --set train.batch_size=100");
    CHECK(r.code == 2);
    CHECK(r.out.find("batch_size = 100: must be between 2 and the number of training samples (12)") != std::string::npos);
}

TEST_CASE("one file compares losses side by side: variants, their labels, and the keys they set elsewhere") {
    const auto dir = t::scratch("studies_variants");
    t::write_text(dir / "p.toml", std::string(kTiny) + R"(
[sweep]
"architecture.width" = [128, 512]
loss = [{ type = "barlow_twins", preset = "theory" },
        { label = "vicreg_slow", type = "vicreg", "train.learning_rate" = 0.001 }]
)");
    REQUIRE(run(dir / "p.toml", dir / "out", "").code == 0);
    const std::string csv = t::read_text(dir / "out" / "metrics.csv");
    CHECK(csv.rfind("point,architecture.width,loss,step,t,metric,value\n", 0) == 0);
    CHECK(csv.find("\n1,128,vicreg_slow,40,0.04") != std::string::npos);  // t = 0.001·40
    CHECK(csv.find("\n0,128,barlow_twins,40,4,loss,") != std::string::npos);
    const json s = t::read_json(dir / "out" / "summary.json");
    REQUIRE(s["metrics"]["ntk_relative_change"].size() == 2);
    CHECK(s["metrics"]["ntk_relative_change"][1]["group"]["loss"] == "vicreg_slow");
    // Two variants with one label are refused.
    t::write_text(dir / "dup.toml", std::string(kTiny) + "\n[sweep]\nloss = [{ type = \"vicreg\" }, { type = \"vicreg\", sim_coeff = 1 }]\n");
    const auto r = t::run_ntkssl("validate " + t::quoted(dir / "dup.toml"));
    CHECK(r.code == 2);
    CHECK(r.out.find("two variants of 'loss' are labelled 'vicreg'") != std::string::npos);
}

TEST_CASE("validate reports every problem at once, each at its file:line:col") {
    const auto dir = t::scratch("studies_problems");
    std::string p = kTiny;
    p.replace(p.find("steps = 40"), 10, "steps = 0");
    p.replace(p.find("probe_size = 6"), 14, "probe_size = 6\nmetrics = [\"probe_accuracy\"]");
    p.replace(p.find("width = 256"), 11, "width = 256\nwidht = 3");
    t::write_text(dir / "p.toml", p);
    const auto r = t::run_ntkssl("validate " + t::quoted(dir / "p.toml"));
    INFO(r.out);
    CHECK(r.code == 2);
    CHECK(r.out.find("p.toml:22:1: train.steps = 0: must be at least 1") != std::string::npos);
    // Fix that one; the plugin key and the metric's need for labels are both reported.
    p.replace(p.find("steps = 0"), 9, "steps = 40");
    t::write_text(dir / "p.toml", p);
    const auto r2 = t::run_ntkssl("validate " + t::quoted(dir / "p.toml"));
    INFO(r2.out);
    CHECK(r2.code == 2);
    CHECK(r2.out.find("unknown key 'widht' in [architecture]") != std::string::npos);
    CHECK(r2.out.find("'probe_accuracy' needs labels") != std::string::npos);
    CHECK(r2.out.find("ntkssl: 2 problems") != std::string::npos);
}

TEST_CASE("docs/reference.md is exactly what ntkssl reference prints") {
    const auto r = t::run_ntkssl("reference");
    REQUIRE(r.code == 0);
    const std::string doc = t::read_text(t::source_dir() / "docs" / "reference.md");
    CHECK(doc == r.out);
    if (doc != r.out) MESSAGE("docs/reference.md is out of date: regenerate it with `ntkssl reference > docs/reference.md`");
    for (const char* key : {"`learning_rate`", "`ntk_init_vs_limit`", "`barlow_twins`", "`ntk_analytic`", "`quadrature_degree`"})
        CHECK(doc.find(key) != std::string::npos);
}

TEST_CASE("report.md shows the slopes and plots - ntkssl report rebuilds the same summary") {
    const auto dir = t::scratch("studies_report");
    t::write_text(dir / "p.toml", std::string(kTiny) +
                                      "\n[sweep]\n\"architecture.width\" = [64, 256, 1024]\n\"pipeline.seed\" = [0, 1]\n\n"
                                      "[measure.expect]\nntk_relative_change = { slope_max = -0.3 }\n");
    REQUIRE(run(dir / "p.toml", dir / "out", "").code == 0);
    const std::string md = t::read_text(dir / "out" / "report.md");
    CHECK(md.find("| ntk_relative_change |  | -") != std::string::npos);
    CHECK(md.find("slope_max -0.3 | **pass**") != std::string::npos);
    for (const char* f : {"ntk_relative_change_vs_width", "ntk_relative_change_vs_time", "loss_vs_time", "param_distance_vs_width"}) {
        CAPTURE(f);
        CHECK(fs::exists(dir / "out" / "plots" / (std::string(f) + ".gp")));
        CHECK(fs::exists(dir / "out" / "plots" / (std::string(f) + ".dat")));
        if (std::system("command -v gnuplot >/dev/null 2>&1") == 0) {
            CHECK(fs::file_size(dir / "out" / "plots" / (std::string(f) + ".png")) > 1000);
            CHECK(md.find(std::string("(plots/") + f + ".png)") != std::string::npos);
        }
    }
    const std::string before = t::read_text(dir / "out" / "summary.json");
    fs::remove(dir / "out" / "report.md");
    const auto r = t::run_ntkssl("report " + t::quoted(dir / "out"));
    INFO(r.out);
    CHECK(r.code == 0);
    CHECK(t::read_text(dir / "out" / "summary.json") == before);
    CHECK(fs::exists(dir / "out" / "report.md"));
}

TEST_CASE("measure.save_ntk writes the probe NTK of every measurement as .npy") {
    const auto dir = t::scratch("studies_save_ntk");
    t::write_text(dir / "p.toml", kTiny);
    REQUIRE(run(dir / "p.toml", dir / "out", "--set measure.save_ntk=true").code == 0);
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir / "out" / "ntk")) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    REQUIRE(names.size() == 5);  // steps 0, 10, 20, 30, 40
    CHECK(names.front() == "p0000-s00000000.npy");
    CHECK(names.back() == "p0000-s00000040.npy");
    // NumPy's format: the magic, then a header that gives the (N·K)×(N·K) shape (6 probe points, K = 2).
    const std::string npy = t::read_text(dir / "out" / "ntk" / names.front());
    CHECK(npy.rfind("\x93NUMPY", 0) == 0);
    CHECK(npy.find("'shape': (12, 12)") != std::string::npos);
    CHECK(npy.find("'descr': '<f8'") != std::string::npos);
}
