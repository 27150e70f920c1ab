// Running a whole pipeline: every sweep point, on several threads, into one output directory.
//
// Output directory contract (DESIGN.md): manifest.json, metrics.csv, summary.json, plus
// points/pNNNN.csv (one file per finished point, the source metrics.csv is assembled from).
// Every file is written atomically. A point's result is written the moment it finishes, so
// an interrupt or a crash loses at most the points that were running. --resume re-runs
// exactly the points that are not done, after checking that the pipeline is the same.
#pragma once

#include <filesystem>
#include <iosfwd>

#include "ntkssl/core/pipeline.hpp"
#include "ntkssl/core/registry.hpp"

namespace ntkssl::core {

struct RunOptions {
    std::filesystem::path out;
    bool resume = false;
    int jobs = 0;        // 0: min(hardware threads, pending points)
    bool quiet = false;  // no progress lines
    bool check = false;  // exit 3 when an expectation's verdict is not "pass"
};

// Exit codes of `ntkssl run`.
enum ExitCode : int { exit_ok = 0, exit_failure = 1, exit_usage = 2, exit_expectation = 3, exit_interrupted = 130 };

// Installs SIGINT/SIGTERM handlers that ask running points to stop at their next step.
void install_interrupt_handlers();

int run_sweep(const Pipeline& pipeline, const Registry& registry, const RunOptions& options, std::ostream& out,
              std::ostream& log);

}  // namespace ntkssl::core
