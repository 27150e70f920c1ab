// The ntkssl executable as a user runs it: exit codes, messages, outputs, interrupt and resume.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace t = ntkssl::test;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const fs::path quickstart = t::source_dir() / "pipelines" / "quickstart.toml";

}  // namespace

TEST_CASE("--version and plugins list") {
    auto r = t::run_ntkssl("--version");
    CHECK(r.code == 0);
    CHECK(r.out.find("ntkssl 0.") == 0);
    r = t::run_ntkssl("plugins list");
    CHECK(r.code == 0);
    for (const char* name : {"synthetic.sphere", "gaussian_noise", "two_layer", "barlow_twins"}) CHECK(r.out.find(name) != std::string::npos);
    r = t::run_ntkssl("plugins list --json");
    CHECK(json::parse(r.out).size() >= 4);
}

TEST_CASE("plugins describe lists parameters with type, default and doc - an unknown name exits 2") {
    auto r = t::run_ntkssl("plugins describe two_layer");
    CHECK(r.code == 0);
    CHECK(r.out.find("width (integer, default 512)") != std::string::npos);
    CHECK(r.out.find("hidden width M") != std::string::npos);
    r = t::run_ntkssl("plugins describe idx");
    CHECK(r.out.find("common dataset options") != std::string::npos);
    CHECK(r.out.find("subset_mode (string, default \"random\")") != std::string::npos);
    r = t::run_ntkssl("plugins describe no_such_plugin");
    CHECK(r.code == 2);
    CHECK(r.out.find("no plugin named 'no_such_plugin'") != std::string::npos);
}

TEST_CASE("validate: the quickstart is valid - a malformed file exits 2 with file:line:col") {
    auto r = t::run_ntkssl("validate " + t::quoted(quickstart));
    CHECK(r.code == 0);
    CHECK(r.out.find("valid (12 sweep points)") != std::string::npos);
    const auto dir = t::scratch("cli_validate");
    t::write_text(dir / "bad.toml", "[dataset]\ntype = \"synthetic.sphere\"\nn = [1, \"a\"\n");
    r = t::run_ntkssl("validate " + t::quoted(dir / "bad.toml"));
    CHECK(r.code == 2);
    CHECK(r.out.find((dir / "bad.toml").string() + ":3:") != std::string::npos);
    t::write_text(dir / "typo.toml", std::string(t::kSmallSweep) + "\n[report]\nscalling_key = \"x\"\n");
    r = t::run_ntkssl("validate " + t::quoted(dir / "typo.toml"));
    CHECK(r.code == 2);
    CHECK(r.out.find("typo.toml:28:1: unknown key 'scalling_key' in [report]") != std::string::npos);
    t::write_text(dir / "ok.toml", t::kSmallSweep);
    r = t::run_ntkssl("validate " + t::quoted(dir / "ok.toml") + " --set loss.type=barlow");
    CHECK(r.code == 2);
    CHECK(r.out.find("unknown loss 'barlow'") != std::string::npos);
}

TEST_CASE("quickstart (3 widths × 3 seeds): NTK change falls with width, slope < -0.5 with its interval below -0.3") {
    const auto out = t::scratch("cli_quickstart") / "run";
    const auto r = t::run_ntkssl("run " + t::quoted(quickstart) + " --out " + t::quoted(out) +
                                 " --set 'sweep.architecture.width=[64, 256, 1024]' --quiet --check");
    INFO(r.out);
    REQUIRE(r.code == 0);
    for (const char* f : {"manifest.json", "metrics.csv", "summary.json"}) CHECK(fs::exists(out / f));
    const auto s = t::read_json(out / "summary.json");
    const auto& g = s["metrics"]["ntk_relative_change"][0];
    CHECK(g["fit"]["points"] == 9);
    CHECK(g["fit"]["slope"].get<double>() < -0.5);
    CHECK(g["fit"]["ci_high"].get<double>() < -0.3);
    CHECK(g["replicate_slopes"]["n"] == 3);
    CHECK(g["verdict"]["result"] == "pass");
    // Parameters move O(1) at every width (lazy training): the slope of ‖θ_T − θ_0‖ is near 0.
    CHECK(std::fabs(s["metrics"]["param_distance"][0]["fit"]["slope"].get<double>()) < 0.2);
    const auto m = t::read_json(out / "manifest.json");
    CHECK(m["status"] == "done");
    CHECK(m["counts"]["done"] == 9);
    CHECK(m["plugins"].size() == 4);
    // metrics.csv: the header of DESIGN.md's long format, t = η·step.
    const std::string csv = t::read_text(out / "metrics.csv");
    CHECK(csv.rfind("point,architecture.width,pipeline.seed,step,t,metric,value\n", 0) == 0);
    CHECK(csv.find("\n0,64,0,300,60,loss,") != std::string::npos);

    // Running into the same directory again must not overwrite it.
    const auto again = t::run_ntkssl("run " + t::quoted(quickstart) + " --out " + t::quoted(out) + " --quiet");
    CHECK(again.code == 2);
    CHECK(again.out.find("already holds a run") != std::string::npos);
    // --resume with another pipeline is refused too.
    const auto other = t::run_ntkssl("run " + t::quoted(quickstart) + " --out " + t::quoted(out) + " --resume --quiet --set train.steps=10");
    CHECK(other.code == 2);
    CHECK(other.out.find("different pipeline") != std::string::npos);
}

TEST_CASE("Ctrl-C mid-sweep leaves a consistent manifest - --resume completes it with the uninterrupted results") {
    const auto dir = t::scratch("cli_interrupt");
    t::write_text(dir / "sweep.toml", t::kSmallSweep);
    const auto reference = dir / "reference", interrupted = dir / "interrupted";
    const auto ref = t::run_ntkssl("run " + t::quoted(dir / "sweep.toml") + " --out " + t::quoted(reference) + " --quiet --jobs 1");
    REQUIRE(ref.code == 0);

    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        const int fd = ::open((dir / "log.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::execl(NTKSSL_TEST_EXE, NTKSSL_TEST_EXE, "run", (dir / "sweep.toml").c_str(), "--out", interrupted.c_str(), "--jobs", "1",
                static_cast<char*>(nullptr));
        ::_exit(127);
    }
    // Wait until at least two points are done, then interrupt like a user at the terminal.
    bool ready = false;
    for (int i = 0; i < 600 && !ready; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        try {
            ready = t::read_json(interrupted / "manifest.json")["counts"]["done"].get<int>() >= 2;
        } catch (...) {
        }
    }
    REQUIRE(ready);
    ::kill(pid, SIGINT);
    int status = 0;
    ::waitpid(pid, &status, 0);
    INFO(t::read_text(dir / "log.txt"));
    REQUIRE(WIFEXITED(status));
    const int code = WEXITSTATUS(status);
    const auto m = t::read_json(interrupted / "manifest.json");
    const int done = m["counts"]["done"];
    if (done < 6) {  // the signal arrived while work was left: an interrupted run
        CHECK(code == 130);
        CHECK(m["status"] == "interrupted");
        CHECK(m["counts"]["failed"] == 0);
        CHECK(t::read_text(dir / "log.txt").find("--resume") != std::string::npos);
    }
    // Every point the manifest calls done has its data; nothing else is in metrics.csv.
    for (const auto& p : m["points"]) {
        if (p["status"] == "done") CHECK(fs::exists(interrupted / p["file"].get<std::string>()));
        else CHECK(p["status"] == "pending");
    }
    const auto partial = t::read_metrics(interrupted / "metrics.csv");
    CHECK(partial.size() == static_cast<std::size_t>(done) * 15);  // 5 measurements × 3 metrics per point

    const auto resumed = t::run_ntkssl("run " + t::quoted(dir / "sweep.toml") + " --out " + t::quoted(interrupted) + " --resume --quiet --jobs 1");
    REQUIRE(resumed.code == 0);
    CHECK(t::read_json(interrupted / "manifest.json")["status"] == "done");
    const auto a = t::read_metrics(reference / "metrics.csv"), b = t::read_metrics(interrupted / "metrics.csv");
    REQUIRE(a.size() == b.size());
    for (const auto& [key, value] : a) {
        REQUIRE(b.count(key));
        CHECK(b.at(key) == doctest::Approx(value).epsilon(1e-9));
    }
}

TEST_CASE("a point whose loss turns NaN fails with the step - the other points finish - exit 1") {
    const auto dir = t::scratch("cli_nan");
    std::string pipeline = t::kSmallSweep;
    pipeline.replace(pipeline.find("type = \"barlow_twins\""), 21, "type = \"nan_loss\"");
    pipeline.replace(pipeline.find("\"architecture.width\""), std::string::npos, "\"loss.after\" = [7, 1000]\n");
    t::write_text(dir / "nan.toml", pipeline);
    const auto r = t::run_ntkssl("run " + t::quoted(dir / "nan.toml") + " --out " + t::quoted(dir / "out") + " --quiet --plugin-path " +
                                 t::quoted(t::fixtures("throwing")));
    CHECK(r.code == 1);
    CHECK(r.out.find("diverged at step 7 (t = 1.4)") != std::string::npos);
    const auto m = t::read_json(dir / "out" / "manifest.json");
    CHECK(m["status"] == "failed");
    CHECK(m["counts"]["failed"] == 1);
    CHECK(m["counts"]["done"] == 1);
    CHECK(m["points"][0]["status"] == "failed");
    CHECK(m["points"][0]["error"].get<std::string>().find("the loss is nan") != std::string::npos);
    CHECK(m["points"][1]["status"] == "done");
}

TEST_CASE("every loss runs in the same pipeline by changing only loss.type, and describes its parameters") {
    const auto dir = t::scratch("cli_losses");
    std::string pipeline = t::kSmallSweep;
    // Labelled clusters so that the supervised baseline has labels; K = 3 = number of classes.
    pipeline.replace(pipeline.find("dim = 10"), 8, "dim = 10\nclusters = 3");
    pipeline.replace(pipeline.find("steps = 200"), 11, "steps = 40");
    pipeline.replace(pipeline.find("[64, 128, 256, 512, 1024, 2048]"), 32, "[64, 256]");
    t::write_text(dir / "losses.toml", pipeline);
    for (const char* loss : {"barlow_twins", "vicreg", "simclr", "infonce_dot", "spectral_contrastive", "negative_cosine", "supervised_mse"}) {
        CAPTURE(loss);
        const auto out = dir / loss;
        const auto r = t::run_ntkssl("run " + t::quoted(dir / "losses.toml") + " --out " + t::quoted(out) + " --quiet --set loss.type=" + loss);
        INFO(r.out);
        CHECK(r.code == 0);
        const auto m = t::read_json(out / "manifest.json");
        CHECK(m["counts"]["done"] == 2);
        // The loss decreased from its initial value at both widths.
        const auto rows = t::read_metrics(out / "metrics.csv");
        CHECK(rows.at("0,64,40,8,loss") < rows.at("0,64,0,0,loss"));
        const auto d = t::run_ntkssl(std::string("plugins describe ") + loss);
        CHECK(d.code == 0);
        CHECK(d.out.find("loss '" + std::string(loss) + "'") == 0);
    }
}

TEST_CASE("validate refuses a loss that needs labels on a dataset without them, naming both") {
    const auto dir = t::scratch("cli_labels");
    t::write_text(dir / "p.toml", t::kSmallSweep);
    const auto r = t::run_ntkssl("validate " + t::quoted(dir / "p.toml") + " --set loss.type=supervised_mse");
    CHECK(r.code == 2);
    CHECK(r.out.find("loss 'supervised_mse' needs labels, but dataset 'synthetic.sphere'") != std::string::npos);
}

TEST_CASE("mlp runs in a pipeline, and forcing the generic NTK path gives the structured path's measurements") {
    const auto dir = t::scratch("cli_mlp");
    t::write_text(dir / "p.toml", t::kSmallSweep);
    const std::string common = "run " + t::quoted(dir / "p.toml") + " --quiet --set architecture.type=mlp --set architecture.depth=2" +
                               " --set train.steps=30 --set measure.every=10 --set 'sweep.architecture.width=[16, 32]'";
    const auto fast = t::run_ntkssl(common + " --out " + t::quoted(dir / "structured"));
    const auto slow = t::run_ntkssl(common + " --out " + t::quoted(dir / "generic") + " --set measure.ntk=generic");
    INFO(fast.out << slow.out);
    REQUIRE(fast.code == 0);
    REQUIRE(slow.code == 0);
    const auto a = t::read_metrics(dir / "structured" / "metrics.csv"), b = t::read_metrics(dir / "generic" / "metrics.csv");
    REQUIRE(a.size() == b.size());
    std::size_t compared = 0;
    for (const auto& [key, value] : a) {
        if (key.find("ntk_relative_change") == std::string::npos || value == 0.0) continue;
        CHECK(b.at(key) == doctest::Approx(value).epsilon(1e-8));
        ++compared;
    }
    CHECK(compared == 6);  // 2 widths × 3 measured steps after step 0
}

TEST_CASE("the Fashion-MNIST pipeline validates and runs (reduced), when Debian's dataset is installed") {
    if (!fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) {
        MESSAGE("skipped: dataset-fashion-mnist is not installed (the README's set-up installs it)");
        return;
    }
    const auto pipeline = t::source_dir() / "pipelines" / "fashion_mnist.toml";
    auto r = t::run_ntkssl("validate " + t::quoted(pipeline));
    CHECK(r.code == 0);
    const auto out = t::scratch("cli_fashion") / "run";
    r = t::run_ntkssl("run " + t::quoted(pipeline) + " --out " + t::quoted(out) + " --quiet --set train.steps=40 --set measure.every=20" +
                      " --set 'sweep.architecture.width=[64, 256]' --set 'sweep.pipeline.seed=[0]'");
    INFO(r.out);
    CHECK(r.code == 0);
    const auto rows = t::read_metrics(out / "metrics.csv");
    CHECK(rows.at("0,64,0,40,20,loss") < rows.at("0,64,0,0,0,loss"));  // it trains
}

TEST_CASE("resampled views: a new draw every step, reproducible from the seed") {
    const auto dir = t::scratch("cli_resample");
    t::write_text(dir / "p.toml", t::kSmallSweep);
    const std::string args = " --quiet --set train.views=resample --set train.steps=20 --set measure.every=10 --set 'sweep.architecture.width=[32]'";
    const auto a = t::run_ntkssl("run " + t::quoted(dir / "p.toml") + " --out " + t::quoted(dir / "a") + args);
    const auto b = t::run_ntkssl("run " + t::quoted(dir / "p.toml") + " --out " + t::quoted(dir / "b") + args);
    const auto fixed = t::run_ntkssl("run " + t::quoted(dir / "p.toml") + " --out " + t::quoted(dir / "fixed") + " --quiet --set train.steps=20 --set measure.every=10" +
                                     " --set 'sweep.architecture.width=[32]'");
    REQUIRE(a.code == 0);
    REQUIRE(b.code == 0);
    REQUIRE(fixed.code == 0);
    const auto ra = t::read_metrics(dir / "a" / "metrics.csv"), rb = t::read_metrics(dir / "b" / "metrics.csv"), rf = t::read_metrics(dir / "fixed" / "metrics.csv");
    CHECK(ra == rb);
    // Step 0 uses round 0 in both modes; later steps differ once the views are redrawn.
    CHECK(ra.at("0,32,0,0,loss") == rf.at("0,32,0,0,loss"));
    CHECK(ra.at("0,32,20,4,loss") != rf.at("0,32,20,4,loss"));
}
