#include "ntkssl/core/report.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "ntkssl/core/atomic_file.hpp"
#include "ntkssl/core/metrics.hpp"

namespace ntkssl::core {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Metrics that measure how far something moved or is from a limit: log-scale plots with the
// M^-1/2 and M^-1 guide lines.
const std::set<std::string> kDrift = {"ntk_relative_change", "ntk_init_vs_limit", "linearization_gap", "kernel_model_gap"};
// Metrics plotted against training time, per width.
const std::vector<std::string> kTimeSeries = {"ntk_relative_change", "loss", "param_distance", "linearization_gap", "kernel_model_gap"};

std::string fmt(double v, int digits = 3) {
    if (!std::isfinite(v)) return "—";
    std::ostringstream os;
    os.precision(digits);
    os << v;
    return os.str();
}
std::string fmt(const json& v, int digits = 3) { return v.is_number() ? fmt(v.get<double>(), digits) : "—"; }

// A gnuplot single-quoted string: only ' needs escaping (as '').
std::string gp_string(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}

std::string group_label(const json& group) {
    std::string l;
    for (const auto& [k, v] : group.items()) l += (l.empty() ? "" : ", ") + k + " = " + (v.is_string() ? v.get<std::string>() : v.dump());
    return l;
}

struct Series {
    std::string title;
    std::vector<std::array<double, 3>> rows;  // x, y, spread
    bool errorbars = false;
};

struct Plot {
    std::string name, title, xlabel, ylabel;
    bool logx = false, logy = false;
    bool from_zero = false;  // the x axis starts at 0 (time)
    std::string key = "top right";
    std::vector<Series> series;
    std::vector<std::pair<std::string, std::string>> functions;  // gnuplot expression in x, title
};

// Writes NAME.dat and NAME.gp into dir; returns false when there is nothing to draw.
bool write_plot_files(const fs::path& dir, const Plot& p) {
    std::ostringstream dat, gp;
    std::size_t blocks = 0;
    gp << "# ntkssl plot: " << p.title << "\n# data: " << p.name << ".dat (one block per series); re-render with: gnuplot " << p.name << ".gp\n"
       << "if (!exists(\"outfile\")) outfile = " << gp_string(p.name + ".png") << "\n"
       << "set terminal pngcairo size 960,600 enhanced font ',11'\nset output outfile\n"
       << "set title " << gp_string(p.title) << " noenhanced\nset xlabel " << gp_string(p.xlabel) << " noenhanced\nset ylabel "
       << gp_string(p.ylabel) << " noenhanced\n"
       << "set grid\nset key " << p.key << " opaque box noenhanced\n"
       << (p.from_zero ? "set offsets 0, graph 0.05, graph 0.05, graph 0.05\n" : "set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05\n")
       << (p.logx ? "set logscale x\n" : "") << (p.logy ? "set logscale y\nset format y '%.1e'\n" : "")
       << (p.from_zero ? "set xrange [0:*]\n" : "");
    std::vector<std::string> clauses;
    for (const auto& s : p.series) {
        std::size_t kept = 0;
        dat << "# " << s.title << "\n";
        for (const auto& r : s.rows) {
            if (!std::isfinite(r[0]) || !std::isfinite(r[1]) || (p.logy && r[1] <= 0) || (p.logx && r[0] <= 0)) continue;
            dat << r[0] << " " << r[1] << " " << (std::isfinite(r[2]) ? r[2] : 0.0) << "\n";
            ++kept;
        }
        dat << "\n\n";
        if (kept == 0) {
            ++blocks;
            continue;
        }
        clauses.push_back(gp_string(p.name + ".dat") + " index " + std::to_string(blocks) +
                          (s.errorbars ? " using 1:2:3 with yerrorlines" : " using 1:2 with linespoints") + " title " + gp_string(s.title));
        ++blocks;
    }
    if (clauses.empty()) return false;
    static const char* const kLineStyles[] = {"lc rgb 'black' dashtype 2", "lc rgb 'gray40' dashtype 3", "lc rgb 'gray60' dashtype 4"};
    for (std::size_t i = 0; i < p.functions.size(); ++i) {
        gp << "f" << i << "(x) = " << p.functions[i].first << "\n";
        clauses.push_back("f" + std::to_string(i) + "(x) with lines " + kLineStyles[std::min<std::size_t>(i, 2)] + " title " +
                          gp_string(p.functions[i].second));
    }
    gp << "plot ";
    for (std::size_t i = 0; i < clauses.size(); ++i) gp << (i ? ", \\\n     " : "") << clauses[i];
    gp << "\n";
    write_file_atomically(dir / (p.name + ".dat"), dat.str());
    write_file_atomically(dir / (p.name + ".gp"), gp.str());
    return true;
}

// Runs `gnuplot -e "outfile='NAME.png.tmp'" NAME.gp` in dir and renames the picture into place,
// so that a reader never sees half a PNG. Returns false (and says why) when it fails.
bool render(const fs::path& dir, const std::string& name, std::string& why) {
    const std::string tmp = name + ".png.tmp";
    const std::string assign = "outfile=" + gp_string(tmp);
    const std::string script = name + ".gp";
    const std::string log = name + ".log";
    const pid_t pid = ::fork();
    if (pid < 0) {
        why = "cannot start gnuplot (fork failed)";
        return false;
    }
    if (pid == 0) {
        // Only async-signal-safe calls between fork and exec.
        if (::chdir(dir.c_str()) != 0) ::_exit(126);
        const int devnull = ::open("/dev/null", O_WRONLY), err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (devnull >= 0) ::dup2(devnull, STDOUT_FILENO);
        if (err >= 0) ::dup2(err, STDERR_FILENO);
        ::execlp("gnuplot", "gnuplot", "-e", assign.c_str(), script.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        why = "gnuplot is not installed (Debian: apt-get install gnuplot-nox); the plot data and scripts are in plots/";
        return false;
    }
    std::error_code ec;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !fs::exists(dir / tmp, ec)) {
        why = "gnuplot failed on plots/" + script + " (see plots/" + name + ".log)";
        fs::remove(dir / tmp, ec);
        return false;
    }
    fs::rename(dir / tmp, dir / (name + ".png"), ec);
    fs::remove(dir / (name + ".log"), ec);
    if (ec) {
        why = "cannot rename plots/" + tmp + ": " + ec.message();
        return false;
    }
    return true;
}

}  // namespace

std::vector<std::string> write_report(const ReportInput& in) {
    std::vector<std::string> notes;
    const auto& axes = *in.axes;
    std::ptrdiff_t scaling = -1, replicate = -1;
    for (std::size_t i = 0; i < axes.size(); ++i) {
        if (axes[i].key == in.scaling_key) scaling = static_cast<std::ptrdiff_t>(i);
        if (axes[i].key == in.replicate_key) replicate = static_cast<std::ptrdiff_t>(i);
    }
    auto group_of = [&](const FinishedPoint& p) {
        json g = json::object();
        for (std::size_t i = 0; i < axes.size(); ++i)
            if (static_cast<std::ptrdiff_t>(i) != scaling && static_cast<std::ptrdiff_t>(i) != replicate) g[axes[i].key] = value_json(p.values[i]);
        return g;
    };
    const std::string width_name = scaling >= 0 ? in.scaling_key : "width";

    // metric → group → width → t → values over replicates
    std::map<std::string, std::map<std::string, std::map<double, std::map<double, std::vector<double>>>>> series;
    std::map<std::string, json> groups;
    for (const auto& p : *in.points) {
        const json g = group_of(p);
        groups[g.dump()] = g;
        const double w = scaling >= 0 ? numeric_value(p.values[static_cast<std::size_t>(scaling)]) : 1.0;
        for (const auto& r : p.records) series[r.metric][g.dump()][w][r.t].push_back(r.value);
    }
    std::vector<std::string> group_keys;
    for (const auto& [k, g] : groups) group_keys.push_back(k);
    auto group_index = [&](const std::string& k) {
        return static_cast<std::size_t>(std::find(group_keys.begin(), group_keys.end(), k) - group_keys.begin());
    };

    const fs::path dir = in.out / "plots";
    std::vector<std::pair<std::string, std::vector<std::string>>> pictures;  // metric → png names
    std::error_code ec;
    fs::create_directory(dir, ec);  // not create_directories: a vanished output directory stays vanished
    bool can_render = in.plots && !ec;
    if (ec) notes.push_back("cannot create " + dir.string() + ": " + ec.message());
    auto emit = [&](const Plot& p, const std::string& metric) {
        if (ec) return;
        try {
            if (!write_plot_files(dir, p)) return;
        } catch (const std::exception& e) {
            notes.push_back(e.what());
            can_render = false;
            return;
        }
        std::string why;
        if (can_render && !render(dir, p.name, why)) {
            notes.push_back(why);
            if (why.find("not installed") != std::string::npos) can_render = false;
            return;
        }
        if (!can_render) return;
        auto it = std::find_if(pictures.begin(), pictures.end(), [&](const auto& e) { return e.first == metric; });
        if (it == pictures.end()) pictures.push_back({metric, {p.name + ".png"}});
        else it->second.push_back(p.name + ".png");
    };

    // Metrics in the catalogue's order (the NTK first), then any others.
    json metrics = json::array();
    {
        const json& all = (*in.summary)["metrics"];
        std::vector<std::string> order = metric_names();
        for (const auto& [name, v] : all.items())
            if (std::find(order.begin(), order.end(), name) == order.end()) order.push_back(name);
        for (const auto& name : order)
            if (all.contains(name)) metrics.push_back({name, all[name]});
    }
    // Against width: every fitted metric, one series per group.
    for (const auto& entry : metrics) {
        const std::string metric = entry[0];
        const json& glist = entry[1];
        if (scaling < 0) break;
        Plot p;
        p.name = metric + "_vs_width";
        p.title = metric + " at the end of training against width";
        p.xlabel = width_name;
        p.ylabel = metric + " (mean ± std over seeds)";
        p.logx = true;
        p.logy = true;
        bool any_fit = false;
        for (const auto& g : glist) {
            Series s;
            s.title = groups.size() > 1 ? group_label(g["group"]) : metric;
            s.errorbars = true;
            for (const auto& row : g["per_width"]) s.rows.push_back({row["width"].get<double>(), row["mean"].get<double>(), row["std"].get<double>()});
            p.series.push_back(s);
            if (g.contains("fit") && g["fit"]["slope"].is_number() && g["fit"]["intercept"].is_number()) {
                any_fit = true;
                std::ostringstream f;
                f.precision(17);
                f << "exp(" << g["fit"]["intercept"].get<double>() << ") * x**(" << g["fit"]["slope"].get<double>() << ")";
                p.functions.push_back({f.str(), "fit" + (groups.size() > 1 ? " (" + group_label(g["group"]) + ")" : std::string()) +
                                                    ": slope " + fmt(g["fit"]["slope"])});
            }
        }
        if (!any_fit) continue;
        if (kDrift.count(metric) && !glist.empty() && !glist[0]["per_width"].empty()) {
            const auto& first = glist[0]["per_width"][0];
            const double x0 = first["width"].get<double>(), y0 = first["mean"].get<double>();
            if (x0 > 0 && y0 > 0) {
                std::ostringstream a, b;
                a.precision(17);
                b.precision(17);
                a << y0 << " * (x / " << x0 << ")**(-0.5)";
                b << y0 << " * (x / " << x0 << ")**(-1)";
                p.functions.push_back({a.str(), "M^-1/2"});
                p.functions.push_back({b.str(), "M^-1"});
            }
        }
        emit(p, metric);
    }
    // Against time: one plot per (metric, group), one line per width.
    for (const auto& metric : kTimeSeries) {
        if (!series.count(metric)) continue;
        for (const auto& [gkey, by_width] : series[metric]) {
            Plot p;
            p.name = metric + "_vs_time" + (groups.size() > 1 ? "_g" + std::to_string(group_index(gkey)) : "");
            p.title = metric + " during training" + (groups.size() > 1 ? " (" + group_label(groups[gkey]) + ")" : "");
            p.xlabel = "t = learning rate × step";
            p.ylabel = metric + " (mean over seeds)";
            p.logy = kDrift.count(metric) > 0;
            p.from_zero = true;
            p.key = p.logy || metric == "param_distance" ? "bottom right" : "top right";
            const std::string short_width = width_name.substr(width_name.rfind('.') + 1);
            for (const auto& [w, by_t] : by_width) {
                Series s;
                s.title = scaling >= 0 ? short_width + " " + fmt(w, 6) : metric;
                for (const auto& [t, vals] : by_t) {
                    double mean = 0;
                    for (double v : vals) mean += v;
                    s.rows.push_back({t, mean / static_cast<double>(vals.size()), 0.0});
                }
                p.series.push_back(s);
            }
            emit(p, metric);
        }
    }
    if (!in.plots) notes.push_back("[report] plots = false: the plot data and scripts are in plots/, no pictures were rendered");

    // report.md
    const json& manifest = *in.manifest;
    std::ostringstream md;
    md << "# " << in.pipeline_name << "\n\n";
    const json counts = manifest.value("counts", json::object());
    md << "Status **" << manifest.value("status", std::string("?")) << "**: " << counts.value("done", 0) << " of " << counts.value("points", 0)
       << " points done, " << counts.value("failed", 0) << " failed, " << counts.value("pending", 0) << " pending. ntkssl "
       << manifest.value("ntkssl_version", std::string("?")) << ", started " << manifest.value("started", std::string("?")) << ".\n\n";
    md << "## Scaling in " << width_name << "\n\n"
       << "Log-log least-squares fit of each metric's value at the last measured step against " << width_name
       << ", all seeds pooled. The verdict of a stated expectation is judged on the union of the t-interval and the bootstrap "
          "interval over seeds (summary.json has every number).\n\n";
    const double conf = (*in.summary).value("confidence", 0.95);
    md << "| metric | group | slope | " << fmt(100 * conf, 3) << "% t-interval | bootstrap interval | R² | per-seed slopes | expectation | verdict |\n"
       << "| --- | --- | ---: | --- | --- | ---: | --- | --- | --- |\n";
    for (const auto& entry : metrics)
        for (const auto& g : entry[1]) {
            const std::string metric = entry[0];
            if (!g.contains("fit")) continue;
            const auto& f = g["fit"];
            md << "| " << metric << " | " << (g["group"].empty() ? "" : group_label(g["group"])) << " | " << fmt(f["slope"]) << " | ["
               << fmt(f["ci_low"]) << ", " << fmt(f["ci_high"]) << "] | ";
            if (f.contains("bootstrap_ci_low")) md << "[" << fmt(f["bootstrap_ci_low"]) << ", " << fmt(f["bootstrap_ci_high"]) << "]";
            else md << "—";
            md << " | " << fmt(f["r2"]) << " | ";
            if (g.contains("replicate_slopes") && g["replicate_slopes"]["mean"].is_number())
                md << fmt(g["replicate_slopes"]["mean"]) << " ± " << fmt(g["replicate_slopes"]["std"]) << " (n = " << g["replicate_slopes"]["n"].get<int>()
                   << ")";
            else md << "—";
            md << " | ";
            if (g.contains("verdict")) {
                std::string e;
                for (const auto& [k, v] : g["verdict"]["expect"].items()) e += (e.empty() ? "" : ", ") + k + " " + fmt(v);
                const std::string r = g["verdict"]["result"];
                md << e << " | **" << r << "**";
            } else {
                md << " | ";
            }
            md << " |\n";
        }
    if ((*in.summary).contains("unmet_expectations"))
        for (const auto& u : (*in.summary)["unmet_expectations"])
            md << "\nExpectation on `" << u["metric"].get<std::string>() << "`: " << u["reason"].get<std::string>() << ".\n";

    if (!pictures.empty()) {
        md << "\n## Plots\n\nData and gnuplot scripts are next to each picture in plots/ (re-render with `gnuplot NAME.gp`).\n";
        for (const auto& [metric, files] : pictures) {
            md << "\n### " << metric << "\n\n";
            for (const auto& f : files) md << "![" << metric << "](plots/" << f << ")\n";
        }
    }
    if (!notes.empty()) {
        md << "\n## Notes\n\n";
        for (const auto& n : notes) md << "- " << n << "\n";
    }

    md << "\n## Per " << width_name << "\n\nMean ± standard deviation over seeds at the last measured step (n seeds).\n";
    for (const auto& entry : metrics) {
        const std::string metric = entry[0];
        const json& glist = entry[1];
        md << "\n### " << metric << "\n\n| group | " << width_name << " | mean | std | n |\n| --- | ---: | ---: | ---: | ---: |\n";
        for (const auto& g : glist)
            for (const auto& row : g["per_width"])
                md << "| " << (g["group"].empty() ? "" : group_label(g["group"])) << " | " << fmt(row["width"], 6) << " | " << fmt(row["mean"], 4)
                   << " | " << fmt(row["std"], 3) << " | " << row["n"].get<int>() << " |\n";
    }

    const json all_points = manifest.value("points", json::array());  // kept: `failed` points into it
    std::vector<const json*> failed;
    for (const auto& p : all_points)
        if (p.value("status", "") == "failed") failed.push_back(&p);
    if (!failed.empty()) {
        md << "\n## Failed points\n\n";
        for (const json* p : failed) {
            md << "- point " << (*p)["id"].get<std::size_t>();
            const json vals = p->value("values", json::object());
            if (!vals.empty()) md << " (" << group_label(vals) << ")";
            md << ": " << p->value("error", std::string("?")) << "\n";
        }
    }
    write_file_atomically(in.out / "report.md", md.str());
    return notes;
}

}  // namespace ntkssl::core
