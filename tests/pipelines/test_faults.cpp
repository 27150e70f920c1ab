// Fault injection: the error is clear, the process does not abort, and results already written
// stay intact — plugins that throw or lie, an output directory that is read-only or vanishes, a
// full disk, and signals at random moments followed by --resume.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>
#include <ntkssl/random.hpp>

#include "test_support.hpp"

namespace t = ntkssl::test;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

struct Child {
    int code = -1;    // exit status, or 128 + signal
    bool signaled = false;
    std::string log;
};

// Runs ntkssl in a child process. `setup` runs in the child before exec (limits, privileges);
// `during` runs in the parent while the child runs (it may signal it); then the child is reaped.
Child spawn(const std::vector<std::string>& args, const fs::path& log, const std::function<void()>& setup = {},
            const std::function<void(pid_t)>& during = {}) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        if (setup) setup();
        std::vector<char*> argv{const_cast<char*>(NTKSSL_TEST_EXE)};
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(NTKSSL_TEST_EXE, argv.data());
        ::_exit(127);
    }
    if (during) during(pid);
    int status = 0;
    ::waitpid(pid, &status, 0);
    Child c;
    c.signaled = WIFSIGNALED(status);
    c.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    c.log = t::read_text(log);
    return c;
}


// Whatever happened, what is on disk is consistent: manifest.json parses, every point it calls
// done has a complete result file, and metrics.csv holds exactly those points' rows.
void check_consistent(const fs::path& out) {
    if (!fs::exists(out / "manifest.json")) return;
    const json m = json::parse(t::read_text(out / "manifest.json"));
    std::size_t done = 0;
    for (const auto& p : m["points"]) {
        if (p["status"] != "done") continue;
        ++done;
        const std::string text = t::read_text(out / p["file"].get<std::string>());
        CHECK(text.rfind("step,t,metric,value\n", 0) == 0);
        CHECK(std::count(text.begin(), text.end(), '\n') == 16);  // header + 5 measurements × 3 metrics
    }
    if (fs::exists(out / "metrics.csv")) CHECK(t::read_metrics(out / "metrics.csv").size() <= done * 15 + 15);
    for (const auto& e : fs::directory_iterator(out)) CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
}

bool wait_for_done(const fs::path& out, int count) {
    for (int i = 0; i < 1200; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
        try {
            if (json::parse(t::read_text(out / "manifest.json"))["counts"]["done"].get<int>() >= count) return true;
        } catch (...) {
        }
    }
    return false;
}

// In the child: as root, become 'nobody' so that file modes bind. Exit 125 when 'nobody' cannot
// run the executable (a build tree under a private directory such as /root).
void drop_privileges() {
    if (::geteuid() != 0) return;
    const passwd* nobody = ::getpwnam("nobody");
    const uid_t uid = nobody ? nobody->pw_uid : 65534;
    const gid_t gid = nobody ? nobody->pw_gid : 65534;
    if (::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(126);
    if (::access(NTKSSL_TEST_EXE, X_OK) != 0) ::_exit(125);
}

}  // namespace

TEST_CASE("plugins that throw, return the wrong shape or NaN fail their point with the plugin named, the others finish") {
    const auto dir = t::scratch("faults_plugins");
    std::string p = t::kSmallSweep;
    p.replace(p.find("type = \"two_layer\""), 18, "type = \"faulty_linear\"\nafter = 5");
    p.replace(p.find("\"architecture.width\" = [64, 128, 256, 512, 1024, 2048]"), std::string::npos,
              "\"architecture.fault\" = [\"none\", \"throw_forward\", \"wrong_shape\", \"nan_forward\", \"throw_backward\"]\n");
    t::write_text(dir / "p.toml", p);
    const auto c = spawn({"run", (dir / "p.toml").string(), "--out", (dir / "out").string(), "--quiet", "--jobs", "1", "--plugin-path",
                          t::fixtures("throwing").string()},
                         dir / "log");
    INFO(c.log);
    CHECK_FALSE(c.signaled);
    CHECK(c.code == 1);
    const json m = json::parse(t::read_text(dir / "out" / "manifest.json"));
    CHECK(m["points"][0]["status"] == "done");
    const std::vector<std::string> expected = {"", "architecture 'faulty_linear'", "forward() returned 25×2 for 24 samples",
                                               "embedding entry (0, 0) of view", "backward: boom in backward"};
    for (std::size_t i = 1; i < 5; ++i) {
        CAPTURE(i);
        CHECK(m["points"][i]["status"] == "failed");
        CHECK(m["points"][i]["error"].get<std::string>().find(expected[i]) != std::string::npos);
    }
    CHECK(m["points"][1]["error"].get<std::string>().find("boom in forward") != std::string::npos);
    check_consistent(dir / "out");

    // A loss that throws when constructed, and one whose gradient has the wrong shape.
    for (const auto& [loss, message] : std::vector<std::pair<std::string, std::string>>{
             {"throwing_constructor", "construction failed: boom in the constructor"},
             {"wrong_shape_loss", "the gradient of view 0 has shape 25×3, the view's embedding 24×3"}}) {
        CAPTURE(loss);
        const auto r = t::run_ntkssl("run " + t::quoted(dir / "p.toml") + " --out " + t::quoted(dir / loss) + " --quiet --plugin-path " +
                                     t::quoted(t::fixtures("throwing")) + " --set architecture.output_dim=3" +
                                     " --set 'sweep.architecture.fault=[\"none\"]' --set loss.type=" + loss);
        CHECK(r.code == 1);
        CHECK(r.out.find(message) != std::string::npos);
    }
}

TEST_CASE("a read-only output directory is a clear error, not a crash") {
    const auto dir = t::scratch("faults_readonly");
    t::write_text(dir / "p.toml", t::kSmallSweep);
    // A read-only file system: a mounted sysfs refuses new directories even to root. (In a chroot
    // without /sys mounted it is an ordinary directory: probe first.)
    Child c;
    if (::mkdir("/sys/ntkssl-test-probe", 0755) == 0) {
        ::rmdir("/sys/ntkssl-test-probe");
        MESSAGE("part skipped: /sys is writable here (not a mounted sysfs), so it is no read-only file system");
    } else {
        c = spawn({"run", (dir / "p.toml").string(), "--out", "/sys/ntkssl-test-output", "--quiet"}, dir / "log");
        INFO(c.log);
        CHECK_FALSE(c.signaled);
        CHECK(c.code == 1);
        CHECK(c.log.find("cannot create the output directory '/sys/ntkssl-test-output/points'") != std::string::npos);
    }
    // A directory without write permission (as root, the child runs as 'nobody' so that modes bind).
    fs::create_directories(dir / "ro");
    ::chmod(dir.c_str(), 0755);
    ::chmod((dir / "ro").c_str(), 0555);
    c = spawn({"run", (dir / "p.toml").string(), "--out", (dir / "ro" / "out").string(), "--quiet"}, dir / "log", drop_privileges);
    if (c.code == 125) {
        MESSAGE("part skipped: user 'nobody' cannot reach " << NTKSSL_TEST_EXE << " (a build tree under a private directory)");
        return;
    }
    CHECK_FALSE(c.signaled);
    CHECK(c.code == 1);
    CHECK(c.log.find("cannot create the output directory '" + (dir / "ro" / "out" / "points").string() + "'") != std::string::npos);
    CHECK(c.log.find("Permission denied") != std::string::npos);
}

TEST_CASE("an output directory that disappears mid-run stops the run with a clear error, no abort") {
    const auto dir = t::scratch("faults_vanish");
    t::write_text(dir / "p.toml", t::kSmallSweep);
    const auto out = dir / "out";
    const auto gone = dir / "gone";
    // Narrow but long points (1000 steps each), so that the first finishes soon and the directory
    // goes while points are still to come. It goes in one step, by a rename: removing it file by
    // file races the run, which may add a file between the listing and the rmdir.
    const auto c = spawn({"run", (dir / "p.toml").string(), "--out", out.string(), "--quiet", "--jobs", "1", "--set", "train.steps=1000",
                          "--set", "sweep.architecture.width=[32, 48, 64, 96, 128, 192]"},
                         dir / "log", {}, [&](pid_t) {
                             REQUIRE(wait_for_done(out, 1));
                             fs::rename(out, gone);
                         });
    fs::remove_all(gone);
    INFO(c.log);
    CHECK_FALSE(c.signaled);
    CHECK(c.code == 1);
    CHECK(c.log.find("cannot write '" + out.string()) != std::string::npos);
    CHECK(c.log.find("No such file or directory") != std::string::npos);
}

TEST_CASE("a full disk (a file size limit) fails the writes cleanly and leaves the results already written intact") {
    const auto dir = t::scratch("faults_full");
    t::write_text(dir / "p.toml", t::kSmallSweep);
    const auto out = dir / "out";
    // RLIMIT_FSIZE makes any write past 3 KiB fail with EFBIG, as a full disk fails with ENOSPC:
    // the manifest and the first small files fit, metrics.csv soon does not.
    const auto c = spawn({"run", (dir / "p.toml").string(), "--out", out.string(), "--quiet", "--jobs", "1"}, dir / "log", [] {
        ::signal(SIGXFSZ, SIG_IGN);
        rlimit lim{3072, 3072};
        ::setrlimit(RLIMIT_FSIZE, &lim);
    });
    INFO(c.log);
    CHECK_FALSE(c.signaled);
    CHECK(c.code == 1);
    CHECK(c.log.find("cannot write '" + out.string()) != std::string::npos);
    CHECK(c.log.find("File too large") != std::string::npos);
    check_consistent(out);
}

TEST_CASE("SIGINT, SIGTERM and SIGKILL at random moments, then --resume: the results equal an uninterrupted run") {
    const auto dir = t::scratch("faults_signals");
    t::write_text(dir / "p.toml", t::kSmallSweep);
    const auto ref = t::run_ntkssl("run " + t::quoted(dir / "p.toml") + " --out " + t::quoted(dir / "reference") + " --quiet --jobs 1");
    REQUIRE(ref.code == 0);
    const auto reference = t::read_metrics(dir / "reference" / "metrics.csv");
    ntkssl::Rng rng(20261203);  // the moments are random, and reproducible
    int run = 0;
    for (int sig : {SIGINT, SIGTERM, SIGKILL})
        for (int repeat = 0; repeat < 2; ++repeat) {
            const auto out = dir / ("run" + std::to_string(run++));
            const int delay_ms = 200 + static_cast<int>(rng.uniform_index(2500));
            CAPTURE(sig);
            CAPTURE(delay_ms);
            const auto c = spawn({"run", (dir / "p.toml").string(), "--out", out.string(), "--quiet", "--jobs", "1"}, dir / "log", {},
                                 [&](pid_t pid) {
                                     std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
                                     ::kill(pid, sig);
                                 });
            if (sig == SIGKILL) CHECK((c.signaled || c.code == 0));
            else CHECK((c.code == 130 || c.code == 0));  // 0: the run had finished before the signal
            check_consistent(out);
            const auto resumed = t::run_ntkssl("run " + t::quoted(dir / "p.toml") + " --out " + t::quoted(out) + " --resume --quiet --jobs 1");
            INFO(resumed.out);
            REQUIRE(resumed.code == 0);
            const auto got = t::read_metrics(out / "metrics.csv");
            REQUIRE(got.size() == reference.size());
            for (const auto& [key, value] : reference) CHECK(got.at(key) == doctest::Approx(value).epsilon(1e-9));
        }
}

TEST_CASE("validate refuses a point that cannot fit in memory, with the estimate") {
    const auto dir = t::scratch("faults_memory");
    t::write_text(dir / "p.toml", t::kSmallSweep);
    const auto c = spawn({"validate", (dir / "p.toml").string(), "--set", "architecture.width=65536"}, dir / "log",
                         [] { ::setenv("NTKSSL_MEMORY_LIMIT_MB", "64", 1); });
    INFO(c.log);
    CHECK(c.code == 2);
    CHECK(c.log.find("this point needs about") != std::string::npos);
    CHECK(c.log.find("but 64 MiB are available") != std::string::npos);
    const auto ok = spawn({"validate", (dir / "p.toml").string()}, dir / "log2", [] { ::setenv("NTKSSL_MEMORY_LIMIT_MB", "4096", 1); });
    CHECK(ok.code == 0);
}
