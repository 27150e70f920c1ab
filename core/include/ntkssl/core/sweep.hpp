// Running a whole pipeline: every sweep point, on several threads (and, with MPI, on several
// processes), into one output directory.
//
// Output directory contract (DESIGN.md, docs/outputs.md): manifest.json, metrics.csv,
// summary.json, report.md and plots/, plus points/pNNNN.csv (one file per finished point, the
// source metrics.csv is assembled from) and ntk/ (measure.save_ntk). Every file is written
// atomically. A point's result is written the moment it finishes, so an interrupt or a crash
// loses at most the points that were running. --resume re-runs exactly the points that are not
// done, after checking that the pipeline is the same.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ntkssl/core/pipeline.hpp"
#include "ntkssl/core/registry.hpp"
#include "ntkssl/core/training.hpp"

namespace ntkssl::core {

// What running one point gave: its measurements, or why it failed, or that it was interrupted.
struct PointOutcome {
    bool interrupted = false;
    std::string error;  // empty: done
    std::vector<MetricRecord> records;
    std::vector<std::pair<std::string, std::string>> artifacts;  // name → .npy bytes, when not written directly
    double seconds = 0;
    std::string started, finished;  // ISO 8601, UTC
};

// Prepares and trains point `id`; never throws (failures are in the outcome). Artifacts go to
// `artifacts` when given, else into outcome.artifacts.
PointOutcome execute_point(const Pipeline& pipeline, const Registry& registry, std::size_t id, PointProgress* progress,
                           const std::atomic<bool>& stop, const ArtifactSink& artifacts = {});

// Exact, self-contained encodings of an outcome (CBOR) for sending it between processes.
std::vector<std::uint8_t> encode_outcome(const PointOutcome& outcome);
PointOutcome decode_outcome(const std::vector<std::uint8_t>& bytes);

// The run's queue of points, shared by the local worker threads and remote workers (MPI ranks).
class Scheduler {
public:
    virtual ~Scheduler() = default;
    // The next point to run, or nothing when all are handed out or the run is stopping.
    virtual std::optional<std::size_t> take(const std::string& where) = 0;
    // Records a finished point (writes its files); `where` names the worker in messages.
    virtual void complete(std::size_t id, PointOutcome outcome, const std::string& where) = 0;
    // True once the run is stopping (a signal, or a write that failed).
    virtual bool stopping() const = 0;
    // Stops handing out points; `reason` is logged once.
    virtual void stop(const std::string& reason) = 0;
    // Writes an informational line to the run's log (clears and redraws the live progress).
    virtual void note(const std::string& line) = 0;
};

struct RunOptions {
    std::filesystem::path out;
    bool resume = false;
    int jobs = 0;        // 0: min(hardware threads, pending points)
    bool quiet = false;  // no progress lines
    bool live_progress = false;  // the log is a terminal: redraw one line per running point in place
    bool check = false;  // exit 3 when an expectation's verdict is not "pass"
    // Called on the main thread while the local workers run (MPI rank 0 serves the other
    // ranks here); returns when every remote worker has finished.
    std::function<void(Scheduler&)> remote;
    std::string machine_note;  // extra machine description for the manifest (e.g. MPI ranks)
};

// Exit codes of `ntkssl run`.
enum ExitCode : int { exit_ok = 0, exit_failure = 1, exit_usage = 2, exit_expectation = 3, exit_interrupted = 130 };

// Installs SIGINT/SIGTERM handlers that ask running points to stop at their next step.
void install_interrupt_handlers();
// The flag those handlers set (remote workers poll it too).
const std::atomic<bool>& interrupt_flag();

int run_sweep(const Pipeline& pipeline, const Registry& registry, const RunOptions& options, std::ostream& out,
              std::ostream& log);

// The BLAS threads every point computes with: OPENBLAS_NUM_THREADS when it is set to a positive
// number, else 1 — whatever --jobs and the number of MPI ranks, because OpenBLAS with another
// thread count sums in another order, and results are to be bit-identical across those.
int blas_threads_per_point();

// `ntkssl report DIR`: rebuilds summary.json, report.md and plots/ from the manifest and the
// point files of an existing run (e.g. after editing the plot scripts or a partial run).
int report_directory(const std::filesystem::path& out, std::ostream& log);

}  // namespace ntkssl::core
