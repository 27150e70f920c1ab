// The ntkssl command line. Only main turns an error into an exit code:
//   0 success, 1 runtime failure, 2 usage or configuration error, 3 an expectation did not
//   pass (run --check), 130 interrupted.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <ntkssl/errors.hpp>
#include <ntkssl/version.hpp>

#include "ntkssl/core/launcher.hpp"
#include "ntkssl/core/loader.hpp"
#include "ntkssl/core/metrics.hpp"
#ifdef NTKSSL_WITH_MPI
#include "ntkssl/core/mpi_sweep.hpp"
#endif
#include "ntkssl/core/pipeline.hpp"
#include "ntkssl/core/problems.hpp"
#include "ntkssl/core/sweep.hpp"
#include "ntkssl/core/training.hpp"

namespace fs = std::filesystem;
using namespace ntkssl;
using namespace ntkssl::core;

namespace {

std::vector<fs::path> as_paths(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

bool g_allow_unsafe = false;  // --allow-unsafe-plugins

PluginSearch search_for(const std::vector<fs::path>& paths) {
    PluginSearch s;
    s.explicit_paths = paths;
    s.allow_unsafe = g_allow_unsafe;
    return s;
}

void load_for_pipeline(Registry& registry, const Pipeline& pipeline, const std::vector<std::string>& extra) {
    std::vector<fs::path> paths = pipeline.plugin_paths();
    for (const auto& p : as_paths(extra)) paths.push_back(p);
    load_plugins(registry, search_for(paths));
}

int cmd_list(const std::vector<std::string>& paths, bool as_json) {
    Registry registry;
    load_plugins(registry, search_for(as_paths(paths)));
    if (as_json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto* e : registry.entries())
            out.push_back({{"kind", to_string(e->info.kind)}, {"name", e->info.name}, {"summary", e->info.summary},
                           {"library", e->library->name}, {"library_version", e->library->version}, {"path", e->library->path}});
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    if (registry.entries().empty()) {
        std::cout << "no plugins found (searched --plugin-path, NTKSSL_PLUGIN_PATH and " << default_plugin_directory().string() << ")\n";
        return 0;
    }
    // Aligned columns: kind, name, library and version, path.
    std::size_t name_width = 0, library_width = 0;
    for (const auto* e : registry.entries()) {
        name_width = std::max(name_width, e->info.name.size());
        library_width = std::max(library_width, e->library->name.size() + 1 + e->library->version.size());
    }
    for (const auto* e : registry.entries())
        std::cout << std::left << std::setw(13) << to_string(e->info.kind) << " " << std::setw(static_cast<int>(name_width)) << e->info.name
                  << "  " << std::setw(static_cast<int>(library_width)) << (e->library->name + " " + e->library->version) << "  "
                  << e->library->path << "\n";
    return 0;
}

int cmd_describe(const std::vector<std::string>& paths, const std::string& name) {
    Registry registry;
    load_plugins(registry, search_for(as_paths(paths)));
    bool found = false;
    for (const auto* e : registry.entries()) {
        if (e->info.name != name) continue;
        found = true;
        std::cout << to_string(e->info.kind) << " '" << e->info.name << "': " << e->info.summary << "\n"
                  << "  library: " << e->library->name << " " << e->library->version << " (" << e->library->path << ")\n";
        if (e->info.parameters.empty()) std::cout << "  parameters: none\n";
        else std::cout << "  parameters:\n";
        auto print = [](const std::vector<ParamSpec>& params) {
            for (const auto& p : params) {
                std::cout << "    " << p.name << " (" << to_string(p.type) << ", "
                          << (p.default_value ? "default " + to_string(*p.default_value) : std::string("required")) << ")\n"
                          << "        " << p.doc << "\n";
                if (!p.choices.empty()) {
                    std::cout << "        one of:";
                    for (const auto& c : p.choices) std::cout << " " << c;
                    std::cout << "\n";
                }
            }
        };
        print(e->info.parameters);
        if (e->info.kind == PluginKind::dataset) {
            std::cout << "  common dataset options (every [dataset] table, applied by ntkssl after loading):\n";
            print(Pipeline::dataset_common_parameters());
        }
    }
    if (!found) {
        std::string known;
        for (const auto* e : registry.entries()) known += (known.empty() ? "" : ", ") + e->info.name;
        throw ConfigError("no plugin named '" + name + "'; registered plugins: " + (known.empty() ? "(none)" : known));
    }
    return 0;
}

int cmd_validate(const std::string& file, const std::vector<std::string>& sets, const std::vector<std::string>& paths) {
    const Pipeline pipeline = Pipeline::load(file, sets);
    Registry registry;
    load_for_pipeline(registry, pipeline, paths);
    // Every point is built and checked; each distinct problem is reported once.
    Problems problems;
    for (std::size_t i = 0; i < pipeline.num_points(); ++i) problems.check([&] { prepare_point(pipeline.resolve(i), registry); });
    problems.throw_if_any();
    std::cout << file << ": valid (" << pipeline.num_points() << " sweep point" << (pipeline.num_points() == 1 ? "" : "s") << ")\n";
    return 0;
}

std::string markdown_cell(std::string s) {
    std::string out;
    for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
    return out;
}

void markdown_parameters(std::ostream& os, const std::vector<ParamSpec>& params) {
    if (params.empty()) {
        os << "No parameters.\n";
        return;
    }
    os << "| key | type | default | meaning |\n| --- | --- | --- | --- |\n";
    for (const auto& p : params) {
        std::string doc = p.doc;
        if (!p.choices.empty()) {
            doc += " (one of:";
            for (const auto& c : p.choices) doc += " `" + c + "`";
            doc += ")";
        }
        os << "| `" << p.name << "` | " << to_string(p.type) << " | "
           << (p.default_value ? "`" + markdown_cell(to_string(*p.default_value)) + "`" : std::string("required")) << " | "
           << markdown_cell(doc) << " |\n";
    }
}

// docs/reference.md: every key of every section and plugin, from the declared parameters, so
// that the documentation cannot drift from the code (a test compares the two).
int cmd_reference(const std::vector<std::string>& paths) {
    Registry registry;
    load_plugins(registry, search_for(as_paths(paths)));
    std::ostream& os = std::cout;
    os << "# Pipeline and plugin reference\n\n"
       << "Generated by `ntkssl reference` from the parameters that the core and every installed plugin declare; "
       << "do not edit by hand (a test regenerates it and compares). The guide is [pipelines.md](pipelines.md).\n";
    const std::vector<std::pair<std::string, std::vector<ParamSpec>>> sections = {
        {"[pipeline]", Pipeline::pipeline_parameters()},
        {"[dataset] options common to every dataset", Pipeline::dataset_common_parameters()},
        {"[train]", Pipeline::train_parameters()},
        {"[measure]", Pipeline::measure_parameters()},
        {"[report]", Pipeline::report_parameters()}};
    os << "\n## Core sections\n";
    for (const auto& [title, params] : sections) {
        os << "\n### " << title << "\n\n";
        markdown_parameters(os, params);
    }
    os << "\n### [measure.expect]\n\nOne entry per metric, `metric = { slope_max = …, slope_min = … }`: bounds on the fitted "
          "log-log slope in the scaling key; see outputs.md for how a verdict is reached.\n";
    os << "\n## Metrics\n\n| metric | meaning | needs |\n| --- | --- | --- |\n";
    for (const auto& m : metric_catalogue()) {
        std::string needs;
        auto add = [&](bool b, const char* what) {
            if (b) needs += (needs.empty() ? "" : ", ") + std::string(what);
        };
        add(m.heldout, "held-out samples");
        add(m.labels, "labels");
        add(m.kernel, "[kernel] (default ntk_analytic), fixed views");
        add(m.linearization, "fixed views");
        add(m.initial_only, "measured at step 0 only");
        os << "| `" << m.name << "` | " << markdown_cell(m.doc) << " | " << needs << " |\n";
    }
    for (PluginKind kind : {PluginKind::dataset, PluginKind::augmentation, PluginKind::architecture, PluginKind::loss, PluginKind::kernel}) {
        os << "\n## " << to_string(kind) << " plugins\n";
        for (const auto& name : registry.names(kind)) {
            const auto* e = registry.find(kind, name);
            os << "\n### `" << name << "`\n\n" << e->info.summary << " (library " << e->library->name << ")\n\n";
            markdown_parameters(os, e->info.parameters);
        }
    }
    return 0;
}

// A message to stderr in one write: under mpirun the ranks' stderr is merged, and a message
// written in pieces interleaves with the others.
void write_error(const std::string& text) { std::cerr.write(text.data(), static_cast<std::streamsize>(text.size())).flush(); }

#ifndef NTKSSL_WITH_MPI
// Under an MPI launcher with several ranks, the plain ntkssl hands over to the ntkssl-mpi
// installed beside it (the build option NTKSSL_MPI), with the same arguments: `mpirun -n 4
// ntkssl run p.toml` then runs one sweep across the ranks. Returns only if there is none.
void hand_over_to_mpi_build(char** argv) {
    if (mpi_launcher_ranks() <= 1) return;
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (ec) return;
    const fs::path sibling = self.parent_path() / "ntkssl-mpi";
    if (::access(sibling.c_str(), X_OK) != 0) return;
    try {
        check_trusted_library(sibling, false);  // code that runs with the user's rights, like a plugin
    } catch (const Error& e) {
        write_error("ntkssl: not starting " + sibling.string() + ": " + e.what() + "\n");
        std::exit(exit_usage);
    }
    ::execv(sibling.c_str(), argv);  // returns only on failure: then this process refuses in cmd_run
}
#endif

int cmd_run(const std::string& file, const std::vector<std::string>& sets, const std::vector<std::string>& paths,
            RunOptions options) {
#ifdef NTKSSL_WITH_MPI
    if (mpi_launcher_ranks() > 0) {
        install_interrupt_handlers();
        return run_sweep_mpi(
            [&](Registry& registry, RunOptions& opts) {
                Pipeline pipeline = Pipeline::load(file, sets);
                load_for_pipeline(registry, pipeline, paths);
                if (opts.out.empty()) opts.out = fs::path("results") / pipeline.resolve(0).name;
                return pipeline;
            },
            options, std::cout, std::cerr);
    }
#else
    // Still here under an MPI launcher with several ranks: no ntkssl-mpi next to this binary
    // (see main). Each rank would run the whole sweep into the same directory: refused before
    // anything is written.
    if (const int ranks = mpi_launcher_ranks(); ranks > 1) {
        write_error("ntkssl: started as one of " + std::to_string(ranks) +
                    " MPI ranks, but this ntkssl runs a sweep in one process and there is no ntkssl-mpi next to it: every rank "
                    "would run all of it into the same directory. Build with -DNTKSSL_MPI=ON (see docs/scaling.md), or run "
                    "ntkssl without mpirun\n");
        return exit_usage;
    }
#endif
    const Pipeline pipeline = Pipeline::load(file, sets);
    Registry registry;
    load_for_pipeline(registry, pipeline, paths);
    if (options.out.empty()) options.out = fs::path("results") / pipeline.resolve(0).name;
    install_interrupt_handlers();
    options.live_progress = ::isatty(STDERR_FILENO) != 0;
    return run_sweep(pipeline, registry, options, std::cout, std::cerr);
}

// One line per problem ("ntkssl: config: file:line:col: ..."), and a count when there are several.
void print_error(ErrorKind kind, const std::string& message) {
    std::istringstream lines(message);
    std::string line, text;
    std::size_t count = 0;
    while (std::getline(lines, line)) {
        text += "ntkssl: " + std::string(to_string(kind)) + ": " + line + "\n";
        ++count;
    }
    if (count > 1) text += "ntkssl: " + std::to_string(count) + " problems\n";
    write_error(text);
}

}  // namespace

int main(int argc, char** argv) {
#ifndef NTKSSL_WITH_MPI
    hand_over_to_mpi_build(argv);
#endif
    CLI::App app{"ntkssl: neural tangent kernels of self-supervised learning"};
    app.require_subcommand(0, 1);
    bool show_version = false;
    app.add_flag("--version", show_version, "print the version and exit");
    std::vector<std::string> plugin_paths;
    app.add_option("--plugin-path", plugin_paths, "extra plugin directory or library (repeatable)")->take_all();
    bool allow_unsafe = false;
    app.add_flag("--allow-unsafe-plugins", allow_unsafe,
                 "load plugins even from files or directories that others can write (see docs/robustness.md)");

    auto* plugins = app.add_subcommand("plugins", "list or describe the plugins found on the plugin path");
    plugins->require_subcommand(1);
    bool as_json = false;
    auto* list = plugins->add_subcommand("list", "kind, name, library and path of every plugin");
    list->add_flag("--json", as_json, "machine-readable output");
    std::string describe_name;
    auto* describe = plugins->add_subcommand("describe", "a plugin's parameters: type, default, doc");
    describe->add_option("name", describe_name, "plugin name")->required();

    std::string file;
    std::vector<std::string> sets;
    auto* validate = app.add_subcommand("validate", "check a pipeline without running it");
    validate->add_option("file", file, "pipeline TOML file")->required();
    validate->add_option("--set", sets, "override a key: --set architecture.width=256 (repeatable)");

    RunOptions options;
    std::string out;
    auto* run = app.add_subcommand("run", "run a pipeline");
    run->add_option("file", file, "pipeline TOML file")->required();
    run->add_option("--set", sets, "override a key: --set architecture.width=256 (repeatable)");
    run->add_option("--out", out, "output directory (default: results/<pipeline name>)");
    run->add_flag("--resume", options.resume, "complete an interrupted run in --out, skipping points already done");
    run->add_option("--jobs", options.jobs, "points run in parallel (default: one per core)")->check(CLI::NonNegativeNumber);
    run->add_flag("--quiet", options.quiet, "no progress lines");
    run->add_flag("--check", options.check, "exit with status 3 unless every [measure.expect] verdict is pass");

    std::string report_dir;
    auto* report = app.add_subcommand("report", "rebuild summary.json, report.md and plots/ of an existing run directory");
    report->add_option("dir", report_dir, "the --out directory of a run")->required();
    auto* reference = app.add_subcommand("reference", "print the reference of every pipeline key and plugin parameter (Markdown)");
    for (auto* sub : {list, describe, validate, run, reference}) {
        sub->add_option("--plugin-path", plugin_paths, "extra plugin directory or library (repeatable)");
        sub->add_flag("--allow-unsafe-plugins", allow_unsafe, "load plugins even from paths that others can write");
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : exit_usage;
    }

    g_allow_unsafe = allow_unsafe;
    try {
        if (show_version) {
            std::cout << "ntkssl " << NTKSSL_VERSION << " (plugin ABI " << NTKSSL_ABI_VERSION << ", " << NTKSSL_TOOLCHAIN_TAG << ")\n";
            return 0;
        }
        if (*list) return cmd_list(plugin_paths, as_json);
        if (*describe) return cmd_describe(plugin_paths, describe_name);
        if (*validate) return cmd_validate(file, sets, plugin_paths);
        if (*run) {
            options.out = out;
            return cmd_run(file, sets, plugin_paths, options);
        }
        if (*report) return report_directory(report_dir, std::cerr);
        if (*reference) return cmd_reference(plugin_paths);
        std::cout << app.help();
        return exit_usage;
    } catch (const ConfigError& e) {
        print_error(e.kind(), e.what());
        return exit_usage;
    } catch (const Error& e) {
        print_error(e.kind(), e.what());
        return exit_failure;
    } catch (const std::exception& e) {
        std::cerr << "ntkssl: error: " << e.what() << "\n";
        return exit_failure;
    }
}
