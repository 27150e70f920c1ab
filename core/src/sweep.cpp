#include "ntkssl/core/sweep.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <map>
#include <mutex>
#include <ostream>
#include <sstream>
#include <thread>

#include <xtensor/xnpy.hpp>

#include "ntkssl/core/atomic_file.hpp"
#include "ntkssl/core/metrics.hpp"
#include "ntkssl/core/report.hpp"
#include "ntkssl/core/summary.hpp"

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

std::string point_file_name(std::size_t id) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "p%04zu.csv", id);
    return buf;
}

std::string artifact_file_name(std::size_t id, const std::string& name) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "p%04zu-", id);
    return buf + name + ".npy";
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

// What write_report needs of a run (the pointers must outlive the call).
ReportInput report_input(const fs::path& out, const Pipeline& pipeline, const ResolvedPipeline& first,
                         const std::vector<FinishedPoint>& finished, const json& summary, const json& manifest) {
    ReportInput in;
    in.out = out;
    in.pipeline_name = first.name;
    in.axes = &pipeline.sweep();
    in.points = &finished;
    in.summary = &summary;
    in.manifest = &manifest;
    in.scaling_key = first.report.get_string("scaling_key");
    in.replicate_key = first.report.get_string("replicate_key");
    in.plots = first.report.get_bool("plots");
    return in;
}

std::string seconds_text(double s) {
    std::ostringstream os;
    if (s < 100) os << std::fixed << std::setprecision(s < 10 ? 1 : 0) << s << " s";
    else if (s < 6000) os << std::fixed << std::setprecision(0) << s / 60 << " min";
    else os << std::fixed << std::setprecision(1) << s / 3600 << " h";
    return os.str();
}

// The log: permanent lines, and on a terminal a live block of one line per running point that
// is redrawn in place (ANSI: cursor up, clear to the end of the screen).
class Console {
public:
    Console(std::ostream& os, bool live) : os_(os), live_(live) {}
    void line(const std::string& s) {
        erase();
        os_ << s << "\n";
        draw();
        os_ << std::flush;
    }
    void status(std::vector<std::string> lines) {
        erase();
        block_ = std::move(lines);
        draw();
        os_ << std::flush;
    }
    void clear() {
        erase();
        block_.clear();
        os_ << std::flush;
    }

private:
    void erase() {
        if (live_ && shown_ > 0) os_ << "\x1b[" << shown_ << "F\x1b[J";
        shown_ = 0;
    }
    void draw() {
        if (!live_) return;
        for (const auto& l : block_) os_ << l << "\n";
        shown_ = block_.size();
    }
    std::ostream& os_;
    bool live_;
    std::vector<std::string> block_;
    std::size_t shown_ = 0;
};

struct PointState {
    std::size_t id;
    std::vector<Value> values;
    std::string status = "pending";  // pending | running | done | failed
    std::string where;               // who runs it ("thread", "rank 2")
    std::string error;
    std::string started, finished;
    double seconds = 0;
    std::vector<MetricRecord> records;
    PointProgress progress;
};

class SweepRun final : public Scheduler {
public:
    SweepRun(const Pipeline& p, const Registry& r, const RunOptions& o, std::ostream& out, std::ostream& log)
        : pipeline_(p), registry_(r), opt_(o), out_(out), console_(log, o.live_progress && !o.quiet), first_(p.resolve(0)) {}

    int run();

    std::optional<std::size_t> take(const std::string& where) override;
    void complete(std::size_t id, PointOutcome outcome, const std::string& where) override;
    bool stopping() const override { return g_stop.load(); }
    void stop(const std::string& reason) override;
    void note(const std::string& line) override {
        std::lock_guard<std::mutex> lock(mutex_);
        console_.line(line);
    }

private:
    void open_output();
    void worker();
    void progress_loop();
    void write_results_locked();
    json manifest_locked() const;
    json plugins_json() const;
    std::string label(const PointState& s) const;
    std::vector<std::string> running_lines_locked() const;
    void print_summary(bool& expectation_failed);

    const Pipeline& pipeline_;
    const Registry& registry_;
    const RunOptions& opt_;
    std::ostream& out_;
    Console console_;
    ResolvedPipeline first_;

    std::vector<std::unique_ptr<PointState>> points_;
    std::vector<PointState*> queue_;
    std::size_t next_ = 0;  // guarded by mutex_
    mutable std::mutex mutex_;
    std::condition_variable done_cv_;
    bool finished_ = false;
    std::string started_;
    int jobs_ = 1;
    json summary_;
    json plugins_;
    std::string stop_reason_;
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
        const auto metrics = r.measure.get_string_list("metrics");
        const bool kernel_metric = std::any_of(metrics.begin(), metrics.end(), [](const std::string& m) {
            const MetricInfo* i = find_metric(m);
            return i && i->kernel;
        });
        if (r.kernel) add(PluginKind::kernel, r.kernel->type);
        else if (kernel_metric) add(PluginKind::kernel, "ntk_analytic");
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
        if (status != "pending" && !s->where.empty()) p["worker"] = s->where;
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
        axes.push_back({{"key", a.key}, {"values", vals}, {"variants", a.variants}});
    }
    json machine = {{"hardware_threads", std::thread::hardware_concurrency()},
                    {"jobs", jobs_},
                    {"blas_threads", blas_threads_per_point()},
                    {"blas", blas ? blas : "unknown"}};
    if (!opt_.machine_note.empty()) machine["parallel"] = opt_.machine_note;
    json m = {{"format", 1},
              {"ntkssl_version", NTKSSL_VERSION},
              {"pipeline",
               {{"name", first_.name},
                {"file", fs::absolute(pipeline_.file()).string()},
                {"fingerprint", pipeline_.fingerprint()},
                {"resolved", pipeline_.resolved_toml()}}},
              {"seed", first_.seed},
              {"sweep", axes},
              {"plugins", plugins_},
              {"machine", machine},
              {"started", started_},
              {"finished", finished_ ? json(now_iso()) : json(nullptr)},
              {"status", status},
              {"counts", {{"points", points_.size()}, {"done", done}, {"failed", failed}, {"pending", points_.size() - done - failed}}},
              {"points", pts}};
    if (!stop_reason_.empty()) m["stop_reason"] = stop_reason_;
    return m;
}

std::string metrics_csv(const std::vector<SweepAxis>& axes, const std::vector<FinishedPoint>& finished) {
    std::string csv = "point";
    for (const auto& a : axes) csv += "," + csv_field(a.key);
    csv += ",step,t,metric,value\n";
    for (const auto& p : finished) {
        std::string prefix = std::to_string(p.id);
        for (const auto& v : p.values) prefix += "," + csv_value(v);
        for (const auto& r : p.records)
            csv += prefix + "," + std::to_string(r.step) + "," + format_double(r.t) + "," + r.metric + "," + format_double(r.value) + "\n";
    }
    return csv;
}

void SweepRun::write_results_locked() {
    std::vector<FinishedPoint> finished;
    for (const auto& s : points_)
        if (s->status == "done") finished.push_back({s->id, s->values, s->records});
    write_file_atomically(opt_.out / "metrics.csv", metrics_csv(pipeline_.sweep(), finished));
    summary_ = summarize(pipeline_.sweep(), finished, first_);
    write_file_atomically(opt_.out / "summary.json", summary_.dump(2) + "\n");
    write_file_atomically(opt_.out / "manifest.json", manifest_locked().dump(2) + "\n");
}

std::optional<std::size_t> SweepRun::take(const std::string& where) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (g_stop || next_ >= queue_.size()) return std::nullopt;
    PointState& s = *queue_[next_++];
    s.status = "running";
    s.where = where;
    s.started = now_iso();
    s.progress.step = 0;
    s.progress.total = 0;
    return s.id;
}

void SweepRun::stop(const std::string& reason) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop_reason_.empty()) {
        stop_reason_ = reason;
        console_.line("ntkssl: " + reason);
    }
    g_stop = true;
}

void SweepRun::complete(std::size_t id, PointOutcome outcome, const std::string& where) {
    std::lock_guard<std::mutex> lock(mutex_);
    PointState& s = *points_.at(id);
    if (outcome.interrupted) {
        s.status = "pending";
        return;
    }
    s.finished = outcome.finished.empty() ? now_iso() : outcome.finished;
    if (!outcome.started.empty()) s.started = outcome.started;
    s.seconds = outcome.seconds;
    s.where = where;
    try {
        if (!outcome.error.empty()) {
            s.status = "failed";
            s.error = outcome.error;
            console_.line("ntkssl: " + label(s) + " failed" + (where.empty() ? "" : " on " + where) + ": " + outcome.error);
        } else {
            // Artifacts and the point's own file first: once the manifest says done, its data is on disk.
            for (const auto& [name, bytes] : outcome.artifacts) {
                fs::create_directory(opt_.out / "ntk");  // never re-creates a vanished --out
                write_file_atomically(opt_.out / "ntk" / artifact_file_name(id, name), bytes);
            }
            write_file_atomically(opt_.out / "points" / point_file_name(s.id), records_csv(outcome.records));
            s.records = std::move(outcome.records);
            s.status = "done";
            if (!opt_.quiet) console_.line("ntkssl: " + label(s) + " done in " + seconds_text(s.seconds) + (where.empty() ? "" : " on " + where));
        }
        write_results_locked();
    } catch (const std::exception& e) {
        // Writing results failed (disk full, directory gone): stop everything, keep what is on disk.
        console_.line("ntkssl: cannot record " + label(s) + ": " + e.what());
        s.status = "failed";
        s.error = e.what();
        if (stop_reason_.empty()) stop_reason_ = std::string("cannot write the results: ") + e.what();
        g_stop = true;
    }
}

void SweepRun::worker() {
    while (const auto id = take("")) {
        PointState& s = *points_[*id];
        const fs::path ntk_dir = opt_.out / "ntk";
        const ArtifactSink sink = [&](const std::string& name, const Matrix& m) {
            fs::create_directory(ntk_dir);
            write_file_atomically(ntk_dir / artifact_file_name(*id, name), xt::dump_npy(m));
        };
        complete(*id, execute_point(pipeline_, registry_, *id, &s.progress, g_stop, sink), "");
    }
}

std::vector<std::string> SweepRun::running_lines_locked() const {
    std::vector<std::string> lines;
    for (const auto& s : points_) {
        if (s->status != "running") continue;
        std::ostringstream os;
        os << "  " << label(*s) << ":";
        if (!s->where.empty()) {
            os << " on " << s->where;
        } else {
            const auto step = s->progress.step.load(), total = s->progress.total.load();
            const double secs = s->progress.seconds.load();
            if (total == 0) {
                os << " preparing";
            } else {
                os << " step " << step << "/" << total << ", loss " << std::setprecision(4) << s->progress.loss.load();
                if (step > 0 && total > step)
                    os << ", ETA " << seconds_text(secs / static_cast<double>(step) * static_cast<double>(total - step));
            }
        }
        lines.push_back(os.str());
    }
    return lines;
}

void SweepRun::progress_loop() {
    using namespace std::chrono_literals;
    const bool live = opt_.live_progress;
    // On a terminal the live block is redrawn twice a second; in a log, a line every 10 s.
    const auto period = live ? std::chrono::milliseconds(500) : std::chrono::milliseconds(10000);
    std::unique_lock<std::mutex> lock(mutex_);
    while (!done_cv_.wait_for(lock, period, [&] { return finished_; })) {
        std::size_t done = 0;
        for (const auto& s : points_) done += s->status == "done";
        std::vector<std::string> lines = running_lines_locked();
        const std::string head = "ntkssl: " + std::to_string(done) + "/" + std::to_string(points_.size()) + " points done";
        if (live) {
            lines.insert(lines.begin(), head);
            console_.status(lines);
        } else {
            std::string l = head;
            for (const auto& r : lines) l += ";" + r;
            console_.line(l);
        }
    }
    console_.clear();
}

void SweepRun::print_summary(bool& expectation_failed) {
    for (const auto& [metric, groups] : summary_["metrics"].items()) {
        for (const auto& g : groups) {
            if (!g.contains("fit")) continue;
            const auto& f = g["fit"];
            out_ << "  " << metric;
            if (!g["group"].empty()) out_ << " " << g["group"].dump();
            out_ << ": log-log slope in width " << std::setprecision(3);
            if (f["slope"].is_number()) out_ << f["slope"].get<double>(); else out_ << "n/a";
            if (f["verdict_ci_low"].is_number() && f["verdict_ci_high"].is_number())
                out_ << " [" << f["verdict_ci_low"].get<double>() << ", " << f["verdict_ci_high"].get<double>() << "]";
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
}

int SweepRun::run() {
    started_ = now_iso();
    plugins_ = plugins_json();
    open_output();
    for (auto& s : points_)
        if (s->status != "done") queue_.push_back(s.get());
    // Widest first: wide points cost far more, and starting them early keeps every worker busy
    // to the end instead of leaving one wide point running alone (results do not depend on the
    // order: every point is self-contained).
    std::ptrdiff_t scaling = -1;
    for (std::size_t i = 0; i < pipeline_.sweep().size(); ++i)
        if (pipeline_.sweep()[i].key == first_.report.get_string("scaling_key")) scaling = static_cast<std::ptrdiff_t>(i);
    if (scaling >= 0) {
        auto size_of = [&](const PointState* s) {
            const double v = numeric_value(s->values[static_cast<std::size_t>(scaling)]);
            return std::isnan(v) ? 0.0 : v;
        };
        std::stable_sort(queue_.begin(), queue_.end(), [&](const PointState* a, const PointState* b) { return size_of(a) > size_of(b); });
    }
    const std::size_t already = points_.size() - queue_.size();
    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    jobs_ = opt_.jobs > 0 ? opt_.jobs : static_cast<int>(std::min<std::size_t>(hw, std::max<std::size_t>(1, queue_.size())));
    // Points in parallel, each with the same BLAS threads (one unless the user says otherwise),
    // so that a serial run computes exactly what a parallel one does.
    const int blas_before = openblas_get_num_threads();
    openblas_set_num_threads(blas_threads_per_point());

    if (!opt_.quiet) {
        std::ostringstream os;
        os << "ntkssl: running '" << first_.name << "': " << points_.size() << " points";
        if (already) os << " (" << already << " already done, resuming)";
        os << " on " << jobs_ << " thread" << (jobs_ > 1 ? "s" : "");
        if (!opt_.machine_note.empty()) os << " and " << opt_.machine_note;
        os << ", results in " << opt_.out.string();
        console_.line(os.str());
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
        if (opt_.remote) opt_.remote(*this);
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
    std::vector<std::string> notes;
    bool final_write_failed = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        try {
            write_results_locked();
        } catch (const std::exception& e) {
            // The results on disk are those of the last successful write; say so and fail.
            console_.line(std::string("ntkssl: cannot write the final results: ") + e.what());
            final_write_failed = true;
        }
        if (!final_write_failed) {
            try {
                std::vector<FinishedPoint> finished;
                for (const auto& s : points_)
                    if (s->status == "done") finished.push_back({s->id, s->values, s->records});
                const json manifest = manifest_locked();
                notes = write_report(report_input(opt_.out, pipeline_, first_, finished, summary_, manifest));
            } catch (const std::exception& e) {
                notes.push_back(std::string("cannot write report.md: ") + e.what());
            }
        }
        for (const auto& s : points_) {
            done += s->status == "done";
            failed += s->status == "failed";
        }
    }
    for (const auto& n : notes) console_.line("ntkssl: report: " + n);

    // The scaling table, in words, on stdout.
    bool expectation_failed = false;
    out_ << "ntkssl: " << done << "/" << points_.size() << " points done";
    if (failed) out_ << ", " << failed << " failed";
    out_ << "\n";
    print_summary(expectation_failed);
    out_ << "ntkssl: results in " << opt_.out.string() << " (report.md, summary.json, metrics.csv, manifest.json, plots/)\n" << std::flush;

    if (g_stop && g_signal) {
        std::ostringstream os;
        os << "ntkssl: interrupted by signal " << static_cast<int>(g_signal) << "; " << done << " of " << points_.size()
           << " points are done and saved. Complete the run with: ntkssl run " << pipeline_.file().string() << " --out "
           << opt_.out.string() << " --resume";
        console_.line(os.str());
        return exit_interrupted;
    }
    if (g_stop || failed || final_write_failed) {
        if (failed)
            console_.line("ntkssl: " + std::to_string(failed) +
                          " point(s) failed; see 'error' in manifest.json. --resume re-runs only points that are not done.");
        return exit_failure;
    }
    if (opt_.check && expectation_failed) {
        console_.line("ntkssl: --check: an expectation of [measure.expect] did not pass (see summary.json)");
        return exit_expectation;
    }
    return exit_ok;
}

}  // namespace

PointOutcome execute_point(const Pipeline& pipeline, const Registry& registry, std::size_t id, PointProgress* progress,
                           const std::atomic<bool>& stop, const ArtifactSink& artifacts) {
    PointOutcome o;
    o.started = now_iso();
    const auto t0 = std::chrono::steady_clock::now();
    const ArtifactSink keep = [&](const std::string& name, const Matrix& m) { o.artifacts.push_back({name, xt::dump_npy(m)}); };
    try {
        PreparedPoint prepared = prepare_point(pipeline.resolve(id), registry);
        o.records = train_point(prepared, progress, stop, artifacts ? artifacts : keep);
    } catch (const Interrupted&) {
        o.interrupted = true;
    } catch (const std::exception& e) {
        o.error = e.what();
    }
    o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    o.finished = now_iso();
    return o;
}

std::vector<std::uint8_t> encode_outcome(const PointOutcome& o) {
    json records = json::array();
    for (const auto& r : o.records) records.push_back({r.step, r.t, r.metric, r.value});
    json artifacts = json::array();
    for (const auto& [name, bytes] : o.artifacts)
        artifacts.push_back({{"name", name}, {"npy", json::binary(std::vector<std::uint8_t>(bytes.begin(), bytes.end()))}});
    const json j = {{"interrupted", o.interrupted}, {"error", o.error},   {"records", records}, {"artifacts", artifacts},
                    {"seconds", o.seconds},         {"started", o.started}, {"finished", o.finished}};
    return json::to_cbor(j);
}

PointOutcome decode_outcome(const std::vector<std::uint8_t>& bytes) {
    const json j = json::from_cbor(bytes);
    PointOutcome o;
    o.interrupted = j.at("interrupted").get<bool>();
    o.error = j.at("error").get<std::string>();
    for (const auto& r : j.at("records")) o.records.push_back({r[0].get<std::int64_t>(), r[1].get<double>(), r[2].get<std::string>(), r[3].get<double>()});
    for (const auto& a : j.at("artifacts")) {
        const auto& bin = a.at("npy").get_binary();
        o.artifacts.push_back({a.at("name").get<std::string>(), std::string(bin.begin(), bin.end())});
    }
    o.seconds = j.at("seconds").get<double>();
    o.started = j.at("started").get<std::string>();
    o.finished = j.at("finished").get<std::string>();
    return o;
}

void install_interrupt_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C ends the process the default way
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

const std::atomic<bool>& interrupt_flag() { return g_stop; }

int blas_threads_per_point() {
    const char* env = std::getenv("OPENBLAS_NUM_THREADS");
    const int n = env ? std::atoi(env) : 0;
    return n > 0 ? n : 1;
}

int run_sweep(const Pipeline& pipeline, const Registry& registry, const RunOptions& options, std::ostream& out, std::ostream& log) {
    g_stop = false;
    g_signal = 0;
    SweepRun run(pipeline, registry, options, out, log);
    return run.run();
}

int report_directory(const fs::path& out, std::ostream& log) {
    const fs::path manifest_file = out / "manifest.json";
    json manifest;
    try {
        manifest = json::parse(read_file(manifest_file));
    } catch (const std::exception& e) {
        throw ConfigError("'" + out.string() + "' holds no readable manifest.json of an ntkssl run (" + e.what() + ")");
    }
    const std::string resolved = manifest.value("/pipeline/resolved"_json_pointer, std::string());
    const std::string file = manifest.value("/pipeline/file"_json_pointer, std::string("pipeline.toml"));
    const Pipeline pipeline = Pipeline::parse(resolved, file);
    const ResolvedPipeline first = pipeline.resolve(0);
    std::vector<FinishedPoint> finished;
    for (const auto& p : manifest.value("points", json::array())) {
        if (p.value("status", "") != "done") continue;
        const std::size_t id = p.value("id", std::size_t(-1));
        if (id >= pipeline.num_points()) continue;
        FinishedPoint fp{id, pipeline.point_values(id), {}};
        if (!parse_records(out / "points" / point_file_name(id), fp.records)) {
            log << "ntkssl: report: points/" << point_file_name(id) << " is missing or damaged; point " << id << " is left out\n";
            continue;
        }
        finished.push_back(std::move(fp));
    }
    const json summary = summarize(pipeline.sweep(), finished, first);
    write_file_atomically(out / "summary.json", summary.dump(2) + "\n");
    write_file_atomically(out / "metrics.csv", metrics_csv(pipeline.sweep(), finished));
    for (const auto& n : write_report(report_input(out, pipeline, first, finished, summary, manifest))) log << "ntkssl: report: " << n << "\n";
    log << "ntkssl: " << (out / "report.md").string() << " written from " << finished.size() << " done point(s)\n";
    return exit_ok;
}

}  // namespace ntkssl::core
