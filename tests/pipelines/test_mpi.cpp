// Sweeps across MPI ranks on one machine (loopback): built and run only with -DNTKSSL_MPI=ON,
// with ntkssl-mpi under mpirun against the plain ntkssl.
// The results must not depend on the number of ranks, and a rank that dies must cost no more
// than its own point.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace t = ntkssl::test;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// mpirun (as root, on loopback) starting `exe` on `ranks` ranks.
std::string mpirun(int ranks, const std::string& extra = "", const fs::path& exe = NTKSSL_TEST_MPI_EXE) {
    return std::string("'") + NTKSSL_TEST_MPIEXEC + "' --allow-run-as-root --oversubscribe " + extra + " -n " + std::to_string(ranks) +
           " " + t::quoted(exe);
}

// The small sweep of test_support.hpp with the NTKs saved, so that artifacts travel too.
std::string sweep(int steps = 200) {
    std::string p = t::kSmallSweep;
    p.replace(p.find("steps = 200"), 11, "steps = " + std::to_string(steps));
    p.replace(p.find("probe_size = 8"), 14, "probe_size = 8\nsave_ntk = true");
    return p + "\"pipeline.seed\" = [0, 1]\n";
}

// The PID of the ntkssl process of MPI rank `rank` running with `marker` on its command line.
pid_t rank_pid(int rank, const std::string& marker) {
    for (const auto& e : fs::directory_iterator("/proc")) {
        const std::string name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        const std::string cmdline = t::read_text(e.path() / "cmdline"), environ = t::read_text(e.path() / "environ");
        if (cmdline.find(marker) == std::string::npos || cmdline.find("ntkssl") == std::string::npos) continue;
        if (environ.find(std::string("OMPI_COMM_WORLD_RANK=") + std::to_string(rank) + '\0') != std::string::npos) return std::stoi(name);
    }
    return -1;
}

bool wait_for_done(const fs::path& out, std::size_t n, double seconds) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < until) {
        try {
            if (t::read_json(out / "manifest.json")["counts"]["done"].get<std::size_t>() >= n) return true;
        } catch (const std::exception&) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

std::map<std::string, std::string> ntk_files(const fs::path& dir) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out[e.path().filename().string()] = t::read_text(e.path());
    return out;
}

}  // namespace

TEST_CASE("mpirun with 2 and 3 ranks gives exactly the single-process metrics.csv and NTK files") {
    const auto dir = t::scratch("mpi_same");
    t::write_text(dir / "p.toml", sweep());
    const auto single = t::run_ntkssl("run " + t::quoted(dir / "p.toml") + " --out " + t::quoted(dir / "single") + " --quiet");
    REQUIRE(single.code == 0);
    for (int ranks : {2, 3}) {
        const fs::path out = dir / ("ranks" + std::to_string(ranks));
        const auto r = t::run_shell(mpirun(ranks) + " run " + t::quoted(dir / "p.toml") + " --out " + t::quoted(out));
        CAPTURE(ranks);
        INFO(r.out);
        REQUIRE(r.code == 0);
        CHECK(t::read_text(out / "metrics.csv") == t::read_text(dir / "single" / "metrics.csv"));
        CHECK(ntk_files(out / "ntk") == ntk_files(dir / "single" / "ntk"));
        const json m = t::read_json(out / "manifest.json");
        CHECK(m["status"] == "done");
        CHECK(m["machine"]["parallel"].get<std::string>().find(std::to_string(ranks) + " MPI ranks") == 0);
        // Work went to the other ranks (dynamic scheduling), and rank 0 owns the files.
        std::size_t remote = 0;
        for (const auto& p : m["points"]) remote += p.contains("worker");
        CHECK(remote >= 1);
        CHECK(fs::exists(out / "report.md"));
    }
}

TEST_CASE("a rank killed mid-run (--enable-recovery): its point fails, the others finish, --resume completes the rest") {
    const auto dir = t::scratch("mpi_killed");
    t::write_text(dir / "p.toml", sweep(4000));
    const fs::path out = dir / "out", reference = dir / "reference";
    const auto ref = t::run_ntkssl("run " + t::quoted(dir / "p.toml") + " --out " + t::quoted(reference) + " --quiet");
    REQUIRE(ref.code == 0);
    const std::string marker = (dir / "p.toml").string();
    std::thread killer([&] {
        // Rank 1 is busy with its first point once the first point is done anywhere.
        if (!wait_for_done(out, 1, 120)) return;
        const pid_t pid = rank_pid(1, marker);
        if (pid > 0) ::kill(pid, SIGKILL);
    });
    const auto r = t::run_shell("NTKSSL_MPI_TIMEOUT=4 " + mpirun(3, "--enable-recovery") + " run " + t::quoted(dir / "p.toml") + " --out " + t::quoted(out));
    killer.join();
    INFO(r.out);
    CHECK(r.out.find("rank 1 stopped responding") != std::string::npos);
    const json m = t::read_json(out / "manifest.json");
    CHECK(m["status"] == "failed");
    std::size_t failed = 0, done = 0;
    for (const auto& p : m["points"]) {
        if (p["status"] == "failed") {
            ++failed;
            CHECK(p["error"].get<std::string>().find("rank 1 stopped responding") != std::string::npos);
            CHECK(p["worker"] == "rank 1");
        }
        done += p["status"] == "done";
    }
    CHECK(failed >= 1);
    CHECK(done + failed == 12);
    // Finished points are intact and exactly the uninterrupted ones.
    const auto partial = t::read_metrics(out / "metrics.csv"), full = t::read_metrics(reference / "metrics.csv");
    for (const auto& [row, value] : partial) CHECK(full.at(row) == value);
    // --resume without MPI runs exactly the missing points.
    const auto resumed = t::run_ntkssl("run " + t::quoted(dir / "p.toml") + " --out " + t::quoted(out) + " --resume --quiet");
    INFO(resumed.out);
    CHECK(resumed.code == 0);
    CHECK(t::read_text(out / "metrics.csv") == t::read_text(reference / "metrics.csv"));
}

TEST_CASE("without recovery a killed rank ends the job, but what finished is intact and --resume with MPI completes it") {
    const auto dir = t::scratch("mpi_killed_plain");
    t::write_text(dir / "p.toml", sweep(4000));
    const fs::path out = dir / "out";
    const std::string marker = (dir / "p.toml").string();
    std::thread killer([&] {
        if (!wait_for_done(out, 1, 120)) return;
        const pid_t pid = rank_pid(2, marker);
        if (pid > 0) ::kill(pid, SIGKILL);
    });
    const auto r = t::run_shell(mpirun(3) + " run " + t::quoted(dir / "p.toml") + " --out " + t::quoted(out));
    killer.join();
    INFO(r.out);
    CHECK(r.code != 0);
    const json m = t::read_json(out / "manifest.json");
    std::size_t done = 0;
    for (const auto& p : m["points"]) {
        if (p["status"] != "done") continue;
        ++done;
        CHECK(fs::exists(out / p["file"].get<std::string>()));
    }
    CHECK(done >= 1);
    const auto resumed = t::run_shell(mpirun(2) + " run " + t::quoted(dir / "p.toml") + " --out " + t::quoted(out) + " --resume");
    INFO(resumed.out);
    CHECK(resumed.code == 0);
    CHECK(t::read_json(out / "manifest.json")["status"] == "done");
    const auto reference = t::run_ntkssl("run " + t::quoted(dir / "p.toml") + " --out " + t::quoted(dir / "reference") + " --quiet");
    REQUIRE(reference.code == 0);
    CHECK(t::read_text(out / "metrics.csv") == t::read_text(dir / "reference" / "metrics.csv"));
}

TEST_CASE("under mpirun a pipeline that cannot load is reported once, by rank 0, with exit 2") {
    const auto dir = t::scratch("mpi_bad");
    t::write_text(dir / "p.toml", std::string(t::kSmallSweep) + "\n[train]\nwidht = 3\n");
    const auto r = t::run_shell(mpirun(3) + " run " + t::quoted(dir / "p.toml") + " --out " + t::quoted(dir / "out"));
    CHECK(r.code == 2);
    std::size_t count = 0;
    for (std::size_t pos = r.out.find("ntkssl: configuration error"); pos != std::string::npos;
         pos = r.out.find("ntkssl: configuration error", pos + 1))
        ++count;
    CHECK(count == 1);
}

TEST_CASE("mpirun with the plain ntkssl hands over to the ntkssl-mpi beside it, and refuses to run without one") {
    const auto dir = t::scratch("mpi_plain");
    t::write_text(dir / "p.toml", sweep(3));
    const auto plain = [](const fs::path& exe) { return mpirun(2, "", exe); };
    // `mpirun -n 2 ntkssl run`: one sweep across the two ranks, the single-process results.
    auto r = t::run_shell(plain(NTKSSL_TEST_EXE) + " run " + t::quoted(dir / "p.toml") + " --out " + t::quoted(dir / "out") + " --quiet");
    REQUIRE(r.code == 0);
    const auto reference = t::run_ntkssl("run " + t::quoted(dir / "p.toml") + " --out " + t::quoted(dir / "reference") + " --quiet");
    REQUIRE(reference.code == 0);
    CHECK(t::read_text(dir / "out" / "metrics.csv") == t::read_text(dir / "reference" / "metrics.csv"));
    const auto manifest = t::read_json(dir / "out" / "manifest.json");
    CHECK(manifest["status"] == "done");
    CHECK(manifest["machine"]["parallel"].get<std::string>().find("2 MPI ranks") == 0);
    // A copy of ntkssl with no ntkssl-mpi beside it: every rank would run the whole sweep into
    // one directory, so it refuses before writing anything.
    fs::create_directories(dir / "bin");
    fs::copy_file(NTKSSL_TEST_EXE, dir / "bin" / "ntkssl", fs::copy_options::overwrite_existing);
    const std::string libs = fs::path(NTKSSL_TEST_EXE).parent_path().parent_path() / "lib";
    r = t::run_shell("LD_LIBRARY_PATH=" + t::quoted(libs) + " " + plain(dir / "bin" / "ntkssl") + " run " + t::quoted(dir / "p.toml") +
                     " --out " + t::quoted(dir / "alone"));
    CHECK(r.code != 0);
    CHECK(r.out.find("started as one of 2 MPI ranks") != std::string::npos);
    CHECK(r.out.find("no ntkssl-mpi next to it") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "alone"));
    // The ntkssl-mpi it would start is code like a plugin: not from a directory others can write.
    fs::copy_file(NTKSSL_TEST_MPI_EXE, dir / "bin" / "ntkssl-mpi", fs::copy_options::overwrite_existing);
    fs::permissions(dir / "bin", fs::perms::all);
    r = t::run_shell("LD_LIBRARY_PATH=" + t::quoted(libs) + " " + plain(dir / "bin" / "ntkssl") + " run " + t::quoted(dir / "p.toml") +
                     " --out " + t::quoted(dir / "unsafe"));
    CHECK(r.code != 0);
    CHECK(r.out.find("not starting " + (dir / "bin" / "ntkssl-mpi").string()) != std::string::npos);
    CHECK(r.out.find("writable") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "unsafe"));
    fs::permissions(dir / "bin", fs::perms::group_write | fs::perms::others_write, fs::perm_options::remove);
}
