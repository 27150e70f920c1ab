#include "ntkssl/core/sweep.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iomanip>
#include <map>
#include <mutex>
#include <ostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "ntkssl/core/atomic_file.hpp"
#include "ntkssl/core/summary.hpp"
#include "ntkssl/core/training.hpp"

extern "C" {
// OpenBLAS's own controls (declared here: <cblas.h> clashes with xtensor-blas elsewhere).
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
}

namespace ntkssl::core {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::atomic<bool> g_stop{false};
volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_signal(int sig) {
    g_signal = sig;
    g_stop.store(true);
}

std::string now_iso() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string format_double(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string csv_value(const Value& v) {
    if (const auto* s = std::get_if<std::string>(&v)) return csv_field(*s);
    if (const auto* d = std::get_if<double>(&v)) return format_double(*d);
    return csv_field(to_string(v));
}

json value_json(const Value& v) {
    return std::visit([](const auto& x) { return json(x); }, v);
}

std::string point_file_name(std::size_t id) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "p%04zu.csv", id);
    return buf;
}

std::string records_csv(const std::vector<MetricRecord>& records) {
    std::string s = "step,t,metric,value\n";
    for (const auto& r : records)
        s += std::to_string(r.step) + "," + format_double(r.t) + "," + r.metric + "," + format_double(r.value) + "\n";
    return s;
}

// Reads a point file written by records_csv; returns false if it is missing or malformed.
bool parse_records(const fs::path& file, std::vector<MetricRecord>& out) {
    std::string text;
    try {
        text = read_file(file);
    } catch (const std::exception&) {
        return false;
    }
    std::istringstream in(text);
    std::string line;
    if (!std::getline(in, line) || line != "step,t,metric,value") return false;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string step, t, metric, value;
        if (!std::getline(ls, step, ',') || !std::getline(ls, t, ',') || !std::getline(ls, metric, ',') || !std::getline(ls, value))
            return false;
        try {
            out.push_back({std::stoll(step), std::stod(t), metric, std::stod(value)});
        } catch (const std::exception&) {
            return false;
        }
    }
    return true;
}

struct PointState {
    std::size_t id;
    std::vector<Value> values;
    std::string status = "pending";  // pending | running | done | failed
    std::string error;
    std::string started, finished;
    double seconds = 0;
    std::vector<MetricRecord> records;
    PointProgress progress;
};

class SweepRun {
public:
    SweepRun(const Pipeline& p, const Registry& r, const RunOptions& o, std::ostream& out, std::ostream& log)
        : pipeline_(p), registry_(r), opt_(o), out_(out), log_(log), first_(p.resolve(0)) {}

    int run();

private:
    void open_output();
    void worker();
    void run_one(PointState& s);
    void progress_loop();
    void write_results_locked();
    json manifest_locked() const;
    json plugins_json() const;  // computed once, in run()
    std::string label(const PointState& s) const;

    const Pipeline& pipeline_;
    const Registry& registry_;
    const RunOptions& opt_;
    std::ostream& out_;
    std::ostream& log_;
    ResolvedPipeline first_;

    std::vector<std::unique_ptr<PointState>> points_;
    std::vector<PointState*> queue_;
    std::atomic<std::size_t> next_{0};
    std::mutex mutex_;
    std::condition_variable done_cv_;
    bool finished_ = false;
    std::string started_;
    int jobs_ = 1;
    json summary_;
    json plugins_;
};

std::string SweepRun::label(const PointState& s) const {
    std::string l = "point " + std::to_string(s.id);
    const auto& axes = pipeline_.sweep();
    for (std::size_t i = 0; i < axes.size(); ++i) l += (i ? ", " : " (") + axes[i].key + "=" + to_string(s.values[i]);
    return axes.empty() ? l : l + ")";
}

void SweepRun::open_output() {
    std::error_code ec;
    fs::create_directories(opt_.out / "points", ec);
    if (ec) throw std::runtime_error("cannot create the output directory '" + (opt_.out / "points").string() + "': " + ec.message());

    const fs::path manifest = opt_.out / "manifest.json";
    for (std::size_t i = 0; i < pipeline_.num_points(); ++i) {
        auto s = std::make_unique<PointState>();
        s->id = i;
        s->values = pipeline_.point_values(i);
        points_.push_back(std::move(s));
    }
    if (!fs::exists(manifest)) return;
    if (!opt_.resume) {
        throw ConfigError("'" + opt_.out.string() + "' already holds a run (manifest.json); pass --resume to complete it, "
                          "or choose another --out. (ntkssl never overwrites results.)");
    }
    json old;
    try {
        old = json::parse(read_file(manifest));
    } catch (const std::exception& e) {
        throw ConfigError("cannot resume: '" + manifest.string() + "' is not a readable manifest (" + e.what() + ")");
    }
    const std::string fp = old.value("/pipeline/fingerprint"_json_pointer, std::string());
    if (fp != pipeline_.fingerprint()) {
        throw ConfigError("cannot resume into '" + opt_.out.string() + "': it holds results of a different pipeline (fingerprint " + fp +
                          ", this one is " + pipeline_.fingerprint() + "); the effective pipeline, --set overrides included, must be identical");
    }
    for (const auto& p : old.value("points", json::array())) {
        const std::size_t id = p.value("id", std::size_t(-1));
        if (id >= points_.size() || p.value("status", "") != "done") continue;
        PointState& s = *points_[id];
        if (!parse_records(opt_.out / "points" / point_file_name(id), s.records)) {
            s.records.clear();
            continue;  // its result file is missing or damaged: run it again
        }
        s.status = "done";
        s.started = p.value("started", "");
        s.finished = p.value("finished", "");
        s.seconds = p.value("seconds", 0.0);
    }
}

json SweepRun::plugins_json() const {
    json list = json::array();
    auto add = [&](PluginKind kind, const std::string& name) {
        if (const auto* e = registry_.find(kind, name)) {
            json j = {{"kind", to_string(kind)}, {"name", name}, {"library", e->library->name},
                      {"library_version", e->library->version}, {"sdk_version", e->library->sdk_version}, {"path", e->library->path}};
            if (std::find(list.begin(), list.end(), j) == list.end()) list.push_back(j);
        }
    };
    for (std::size_t i = 0; i < pipeline_.num_points(); ++i) {
        const auto r = pipeline_.resolve(i);
        add(PluginKind::dataset, r.dataset.type);
        for (const auto& a : r.augmentations) add(PluginKind::augmentation, a.type);
        add(PluginKind::architecture, r.architecture.type);
        add(PluginKind::loss, r.loss.type);
    }
    return list;
}

json SweepRun::manifest_locked() const {
    std::size_t done = 0, failed = 0;
    json pts = json::array();
    for (const auto& s : points_) {
        json values = json::object();
        for (std::size_t i = 0; i < s->values.size(); ++i) values[pipeline_.sweep()[i].key] = value_json(s->values[i]);
        // A point still running when the manifest is written is not done: on disk it is pending.
        const std::string status = s->status == "running" ? "pending" : s->status;
        json p = {{"id", s->id}, {"values", values}, {"status", status}};
        if (!s->started.empty() && status != "pending") p["started"] = s->started;
        if (!s->finished.empty() && status != "pending") p["finished"] = s->finished;
        if (status == "done") {
            p["seconds"] = s->seconds;
            p["file"] = "points/" + point_file_name(s->id);
        }
        if (status == "failed") p["error"] = s->error;
        done += status == "done";
        failed += status == "failed";
        pts.push_back(p);
    }
    std::string status = "running";
    if (finished_) status = g_stop ? "interrupted" : failed ? "failed" : done == points_.size() ? "done" : "incomplete";
    const char* blas = openblas_get_config();
    json axes = json::array();
    for (const auto& a : pipeline_.sweep()) {
        json vals = json::array();
        for (const auto& v : a.values) vals.push_back(value_json(v));
        axes.push_back({{"key", a.key}, {"values", vals}});
    }
    return {{"format", 1},
            {"ntkssl_version", NTKSSL_VERSION},
            {"pipeline",
             {{"name", first_.name},
              {"file", fs::absolute(pipeline_.file()).string()},
              {"fingerprint", pipeline_.fingerprint()},
              {"resolved", pipeline_.resolved_toml()}}},
            {"seed", first_.seed},
            {"sweep", axes},
            {"plugins", plugins_},
            {"machine",
             {{"hardware_threads", std::thread::hardware_concurrency()},
              {"jobs", jobs_},
              {"blas_threads", openblas_get_num_threads()},
              {"blas", blas ? blas : "unknown"}}},
            {"started", started_},
            {"finished", finished_ ? json(now_iso()) : json(nullptr)},
            {"status", status},
            {"counts", {{"points", points_.size()}, {"done", done}, {"failed", failed}, {"pending", points_.size() - done - failed}}},
            {"points", pts}};
}

void SweepRun::write_results_locked() {
    // metrics.csv: long format, one measurement a row.
    std::string csv = "point";
    for (const auto& a : pipeline_.sweep()) csv += "," + csv_field(a.key);
    csv += ",step,t,metric,value\n";
    std::vector<FinishedPoint> finished;
    for (const auto& s : points_) {
        if (s->status != "done") continue;
        std::string prefix = std::to_string(s->id);
        for (const auto& v : s->values) prefix += "," + csv_value(v);
        for (const auto& r : s->records)
            csv += prefix + "," + std::to_string(r.step) + "," + format_double(r.t) + "," + r.metric + "," + format_double(r.value) + "\n";
        finished.push_back({s->id, s->values, s->records});
    }
    write_file_atomically(opt_.out / "metrics.csv", csv);
    summary_ = summarize(pipeline_.sweep(), finished, first_);
    write_file_atomically(opt_.out / "summary.json", summary_.dump(2) + "\n");
    write_file_atomically(opt_.out / "manifest.json", manifest_locked().dump(2) + "\n");
}

void SweepRun::run_one(PointState& s) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        s.status = "running";
        s.started = now_iso();
    }
    const auto t0 = std::chrono::steady_clock::now();
    std::string error;
    bool interrupted = false;
    std::vector<MetricRecord> records;
    try {
        PreparedPoint prepared = prepare_point(pipeline_.resolve(s.id), registry_);
        records = train_point(prepared, &s.progress, g_stop);
    } catch (const Interrupted&) {
        interrupted = true;
    } catch (const std::exception& e) {
        error = e.what();
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    std::lock_guard<std::mutex> lock(mutex_);
    if (interrupted) {
        s.status = "pending";
        return;
    }
    s.finished = now_iso();
    s.seconds = seconds;
    if (!error.empty()) {
        s.status = "failed";
        s.error = error;
        log_ << "ntkssl: " << label(s) << " failed: " << error << "\n" << std::flush;
    } else {
        // The point's own file first: once the manifest says done, its data is on disk.
        write_file_atomically(opt_.out / "points" / point_file_name(s.id), records_csv(records));
        s.records = std::move(records);
        s.status = "done";
        if (!opt_.quiet) {
            log_ << "ntkssl: " << label(s) << " done in " << std::fixed << std::setprecision(1) << seconds << " s\n" << std::flush;
            log_.unsetf(std::ios::floatfield);
        }
    }
    write_results_locked();
}

void SweepRun::worker() {
    while (!g_stop) {
        const std::size_t i = next_.fetch_add(1);
        if (i >= queue_.size()) return;
        try {
            run_one(*queue_[i]);
        } catch (const std::exception& e) {
            // Writing results failed (disk full, directory gone): stop everything, keep what is on disk.
            std::lock_guard<std::mutex> lock(mutex_);
            log_ << "ntkssl: cannot record " << label(*queue_[i]) << ": " << e.what() << "\n" << std::flush;
            queue_[i]->status = "failed";
            queue_[i]->error = e.what();
            g_stop = true;
        }
    }
}

void SweepRun::progress_loop() {
    using namespace std::chrono_literals;
    std::unique_lock<std::mutex> lock(mutex_);
    while (!done_cv_.wait_for(lock, 3s, [&] { return finished_; })) {
        std::size_t done = 0;
        std::string running;
        for (const auto& s : points_) {
            done += s->status == "done";
            if (s->status == "running") {
                std::ostringstream os;
                os << " [p" << s->id << " step " << s->progress.step.load() << "/" << s->progress.total.load() << " loss "
                   << std::setprecision(4) << s->progress.loss.load() << "]";
                running += os.str();
            }
        }
        log_ << "ntkssl: " << done << "/" << points_.size() << " points done" << running << "\n" << std::flush;
    }
}

int SweepRun::run() {
    started_ = now_iso();
    plugins_ = plugins_json();
    open_output();
    for (auto& s : points_)
        if (s->status != "done") queue_.push_back(s.get());
    const std::size_t already = points_.size() - queue_.size();
    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    jobs_ = opt_.jobs > 0 ? opt_.jobs : static_cast<int>(std::min<std::size_t>(hw, std::max<std::size_t>(1, queue_.size())));
    // Points in parallel, each on one BLAS thread; a single point gets all of BLAS's threads.
    const int blas_before = openblas_get_num_threads();
    if (jobs_ > 1) openblas_set_num_threads(1);

    if (!opt_.quiet) {
        log_ << "ntkssl: running '" << first_.name << "': " << points_.size() << " points";
        if (already) log_ << " (" << already << " already done, resuming)";
        log_ << " on " << jobs_ << " thread" << (jobs_ > 1 ? "s" : "") << ", results in " << opt_.out.string() << "\n" << std::flush;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        write_results_locked();
    }
    std::thread progress;
    if (!opt_.quiet) progress = std::thread([this] { progress_loop(); });
    {
        std::vector<std::thread> workers;
        for (int j = 0; j < jobs_; ++j) workers.emplace_back([this] { worker(); });
        for (auto& w : workers) w.join();
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        finished_ = true;
    }
    done_cv_.notify_all();
    if (progress.joinable()) progress.join();
    openblas_set_num_threads(blas_before);

    std::size_t done = 0, failed = 0;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        write_results_locked();
        for (const auto& s : points_) {
            done += s->status == "done";
            failed += s->status == "failed";
        }
    }

    // The scaling table, in words, on stdout.
    bool expectation_failed = false;
    out_ << "ntkssl: " << done << "/" << points_.size() << " points done";
    if (failed) out_ << ", " << failed << " failed";
    out_ << "\n";
    for (const auto& [metric, groups] : summary_["metrics"].items()) {
        for (const auto& g : groups) {
            if (!g.contains("fit")) continue;
            const auto& f = g["fit"];
            out_ << "  " << metric;
            if (!g["group"].empty()) out_ << " " << g["group"].dump();
            out_ << ": log-log slope in width " << std::setprecision(3);
            if (f["slope"].is_number()) out_ << f["slope"].get<double>(); else out_ << "n/a";
            if (f["ci_low"].is_number() && f["ci_high"].is_number())
                out_ << " [" << f["ci_low"].get<double>() << ", " << f["ci_high"].get<double>() << "]";
            if (g.contains("replicate_slopes") && g["replicate_slopes"]["std"].is_number())
                out_ << ", per-seed " << g["replicate_slopes"]["mean"].get<double>() << " ± " << g["replicate_slopes"]["std"].get<double>();
            if (g.contains("verdict")) {
                const std::string r = g["verdict"]["result"];
                out_ << ", expectation " << g["verdict"]["expect"].dump() << ": " << r;
                expectation_failed = expectation_failed || r != "pass";
            }
            out_ << "\n";
        }
    }
    if (summary_.contains("unmet_expectations")) expectation_failed = true;
    out_ << "ntkssl: results in " << opt_.out.string() << " (manifest.json, metrics.csv, summary.json)\n" << std::flush;

    if (g_stop && g_signal) {
        log_ << "ntkssl: interrupted by signal " << static_cast<int>(g_signal) << "; " << done << " of " << points_.size()
             << " points are done and saved. Complete the run with: ntkssl run " << pipeline_.file().string() << " --out "
             << opt_.out.string() << " --resume\n";
        return exit_interrupted;
    }
    if (g_stop || failed) {
        if (failed) log_ << "ntkssl: " << failed << " point(s) failed; see 'error' in manifest.json. --resume re-runs only points that are not done.\n";
        return exit_failure;
    }
    if (opt_.check && expectation_failed) {
        log_ << "ntkssl: --check: an expectation of [measure.expect] did not pass (see summary.json)\n";
        return exit_expectation;
    }
    return exit_ok;
}

}  // namespace

void install_interrupt_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C ends the process the default way
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

int run_sweep(const Pipeline& pipeline, const Registry& registry, const RunOptions& options, std::ostream& out, std::ostream& log) {
    g_stop = false;
    g_signal = 0;
    SweepRun run(pipeline, registry, options, out, log);
    return run.run();
}

}  // namespace ntkssl::core
