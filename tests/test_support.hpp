// Shared helpers of the test suite: paths into the build tree, scratch directories, and
// running the ntkssl executable as a user would.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace ntkssl::test {

namespace fs = std::filesystem;

inline fs::path fixtures(const std::string& name) { return fs::path(NTKSSL_TEST_FIXTURES_DIR) / name; }
inline fs::path plugin_dir() { return NTKSSL_TEST_PLUGIN_DIR; }
inline fs::path source_dir() { return NTKSSL_TEST_SOURCE_DIR; }

// A fresh, empty directory under the build tree's test work area.
inline fs::path scratch(const std::string& name) {
    const fs::path p = fs::path(NTKSSL_TEST_WORK_DIR) / name;
    fs::remove_all(p);
    fs::create_directories(p);
    return p;
}

inline void write_text(const fs::path& p, const std::string& text) {
    std::ofstream out(p);
    out << text;
}

inline std::string read_text(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream os;
    os << in.rdbuf();
    return os.str();
}

// The message of the E that f throws; a marker string when f throws nothing or something else,
// so that a CHECK on the message fails and shows what happened.
template <class E>
std::string error_message(const std::function<void()>& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    } catch (const std::exception& e) {
        return std::string("(another exception) ") + e.what();
    }
    return "(no exception)";
}

// A small sweep (6 widths × 1 seed, a few seconds on one thread) that CLI and fault tests share.
inline const char* kSmallSweep = R"([dataset]
type = "synthetic.sphere"
n = 24
dim = 10

[[augmentation]]
type = "gaussian_noise"
sigma = 0.1

[architecture]
type = "two_layer"

[loss]
type = "barlow_twins"

[train]
steps = 200
learning_rate = 0.2

[measure]
every = 50
probe_size = 8

[sweep]
"architecture.width" = [64, 128, 256, 512, 1024, 2048]
)";

// metrics.csv as (row without its value → value), for comparing runs numerically.
inline std::map<std::string, double> read_metrics(const fs::path& csv) {
    std::map<std::string, double> out;
    std::istringstream in(read_text(csv));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        const auto cut = line.rfind(',');
        out[line.substr(0, cut)] = std::stod(line.substr(cut + 1));
    }
    return out;
}

struct Result {
    int code;
    std::string out;  // stdout and stderr together
};

// Runs a shell command, capturing both streams.
inline Result run_shell(const std::string& command) {
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    Result r{-1, ""};
    if (!pipe) return r;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
    const int status = ::pclose(pipe);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

// Runs `ntkssl ARGS` through the shell, capturing both streams.
inline Result run_ntkssl(const std::string& args) { return run_shell(std::string("'") + NTKSSL_TEST_EXE + "' " + args); }

// A path quoted for the shell.
inline std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

inline nlohmann::json read_json(const fs::path& p) { return nlohmann::json::parse(read_text(p)); }

}  // namespace ntkssl::test
