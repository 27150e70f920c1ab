// The ntkssl command line. Only main turns an error into an exit code:
//   0 success, 1 runtime failure, 2 usage or configuration error, 3 an expectation did not
//   pass (run --check), 130 interrupted.
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <ntkssl/errors.hpp>
#include <ntkssl/version.hpp>

#include "ntkssl/core/loader.hpp"
#include "ntkssl/core/pipeline.hpp"
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
    for (const auto* e : registry.entries())
        std::cout << std::left << std::setw(13) << to_string(e->info.kind) << " " << std::setw(22) << e->info.name << " "
                  << e->library->name << " " << e->library->version << "  " << e->library->path << "\n";
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
    for (std::size_t i = 0; i < pipeline.num_points(); ++i) prepare_point(pipeline.resolve(i), registry);
    std::cout << file << ": valid (" << pipeline.num_points() << " sweep point" << (pipeline.num_points() == 1 ? "" : "s") << ")\n";
    return 0;
}

int cmd_run(const std::string& file, const std::vector<std::string>& sets, const std::vector<std::string>& paths,
            RunOptions options) {
    const Pipeline pipeline = Pipeline::load(file, sets);
    Registry registry;
    load_for_pipeline(registry, pipeline, paths);
    if (options.out.empty()) options.out = fs::path("results") / pipeline.resolve(0).name;
    install_interrupt_handlers();
    return run_sweep(pipeline, registry, options, std::cout, std::cerr);
}

}  // namespace

int main(int argc, char** argv) {
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
    for (auto* sub : {list, describe, validate, run}) {
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
        std::cout << app.help();
        return exit_usage;
    } catch (const ConfigError& e) {
        std::cerr << "ntkssl: " << to_string(e.kind()) << ": " << e.what() << "\n";
        return exit_usage;
    } catch (const Error& e) {
        std::cerr << "ntkssl: " << to_string(e.kind()) << ": " << e.what() << "\n";
        return exit_failure;
    } catch (const std::exception& e) {
        std::cerr << "ntkssl: error: " << e.what() << "\n";
        return exit_failure;
    }
}
