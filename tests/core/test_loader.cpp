// The loader against libraries built to be wrong: each refusal names the file and says why.
#include <doctest/doctest.h>

#include <ntkssl/errors.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "ntkssl/core/descriptor.hpp"
#include "ntkssl/core/loader.hpp"
#include "test_support.hpp"

using namespace ntkssl;
using namespace ntkssl::core;
using ntkssl::test::fixtures;

namespace {

// Loads exactly one fixture directory (no environment, no default directory).
template <class E>
std::string refusal(const std::string& fixture) {
    return ntkssl::test::error_message<E>([&] {
        Registry registry;
        load_plugins(registry, PluginSearch{{fixtures(fixture)}, false, false});
    });
}

bool names_file(const std::string& message, const std::string& fixture) {
    return message.find(fixtures(fixture).string()) != std::string::npos;
}

}  // namespace

TEST_CASE("the in-tree plugins load and register the slice plugins") {
    Registry registry;
    load_plugins(registry, PluginSearch{{ntkssl::test::plugin_dir()}, false, false});
    CHECK(registry.find(PluginKind::dataset, "synthetic.sphere"));
    CHECK(registry.find(PluginKind::augmentation, "gaussian_noise"));
    CHECK(registry.find(PluginKind::architecture, "two_layer"));
    CHECK(registry.find(PluginKind::loss, "barlow_twins"));
    CHECK(registry.libraries().size() == discover_plugin_files(PluginSearch{{ntkssl::test::plugin_dir()}, false, false}).size());
}

TEST_CASE("wrong ABI number: AbiError with both numbers and the file") {
    const auto m = refusal<AbiError>("wrong_abi");
    CHECK(names_file(m, "wrong_abi"));
    CHECK(m.find("built for ntkssl plugin ABI 999") != std::string::npos);
    CHECK(m.find("speaks ABI " + std::to_string(NTKSSL_ABI_VERSION)) != std::string::npos);
}

TEST_CASE("wrong descriptor size: AbiError with both sizes and the file") {
    const auto m = refusal<AbiError>("wrong_size");
    CHECK(names_file(m, "wrong_size"));
    CHECK(m.find("descriptor of 12 bytes") != std::string::npos);
    CHECK(m.find("expects " + std::to_string(sizeof(ntkssl_plugin_descriptor)) + " bytes") != std::string::npos);
}

TEST_CASE("wrong toolchain tag: AbiError with both tags and the file") {
    const auto m = refusal<AbiError>("wrong_toolchain");
    CHECK(names_file(m, "wrong_toolchain"));
    CHECK(m.find("'gxxabi0/otherlib/xtensor0.0'") != std::string::npos);
    CHECK(m.find(NTKSSL_TOOLCHAIN_TAG) != std::string::npos);
}

TEST_CASE("a shared library without the entry point: PluginError naming the file and the symbol") {
    const auto m = refusal<PluginError>("no_entry");
    CHECK(names_file(m, "no_entry"));
    CHECK(m.find("no entry point 'ntkssl_plugin_entry'") != std::string::npos);
}

TEST_CASE("a file with the .so suffix that is not a shared library: PluginError naming the file") {
    const auto m = refusal<PluginError>("not_a_library");
    CHECK(names_file(m, "not_a_library"));
    CHECK(m.find("cannot load plugin library") != std::string::npos);
}

TEST_CASE("two libraries registering the same name: PluginError naming both libraries") {
    const auto m = refusal<PluginError>("duplicate");
    CHECK(m.find("loss 'duplicate_loss' is registered by two libraries") != std::string::npos);
    CHECK(m.find("libfixture_duplicate_a.so") != std::string::npos);
    CHECK(m.find("libfixture_duplicate_b.so") != std::string::npos);
}

TEST_CASE("a registration callback that throws: PluginError naming the file and the cause") {
    const auto m = refusal<PluginError>("throwing_registration");
    CHECK(names_file(m, "throwing_registration"));
    CHECK(m.find("boom in registration") != std::string::npos);
}

TEST_CASE("a factory that throws: PluginError naming plugin, library file and pipeline location") {
    Registry registry;
    load_plugins(registry, PluginSearch{{fixtures("throwing")}, false, false});
    const std::string m = ntkssl::test::error_message<PluginError>(
        [&] { registry.create<Loss>(PluginKind::loss, "throwing_constructor", "loss", {"p.toml", 7, 8}, {}, {}); });
    CHECK(m.find("loss 'throwing_constructor'") != std::string::npos);
    CHECK(names_file(m, "throwing"));
    CHECK(m.find("p.toml:7:8") != std::string::npos);
    CHECK(m.find("boom in the constructor") != std::string::npos);
}

TEST_CASE("an exception from a plugin's method is caught at the call and wrapped with context") {
    Registry registry;
    load_plugins(registry, PluginSearch{{fixtures("throwing")}, false, false});
    const auto loss = registry.create<Loss>(PluginKind::loss, "throwing_evaluate", "loss", {"p.toml", 3, 1}, {}, {});
    const std::string m =
        ntkssl::test::error_message<PluginError>([&] { loss.call("evaluate", [](const Loss& l) { return l.evaluate({}, {}); }); });
    CHECK(m.find("loss 'throwing_evaluate'") != std::string::npos);
    CHECK(m.find(": evaluate: boom in evaluate") != std::string::npos);
}

TEST_CASE("an unknown plugin name is a ConfigError at the pipeline location listing the registered names") {
    Registry registry;
    load_plugins(registry, PluginSearch{{ntkssl::test::plugin_dir()}, false, false});
    const std::string m =
        ntkssl::test::error_message<ConfigError>([&] { registry.require(PluginKind::loss, "barlow_twin", {"p.toml", 21, 8}); });
    CHECK(m.find("p.toml:21:8: unknown loss 'barlow_twin'; registered loss plugins: barlow_twins") == 0);
}

TEST_CASE("objects keep their library loaded after the registry is gone") {
    std::shared_ptr<Component<Loss>> kept;
    {
        Registry registry;
        load_plugins(registry, PluginSearch{{ntkssl::test::plugin_dir()}, false, false});
        kept = std::make_shared<Component<Loss>>(registry.create<Loss>(PluginKind::loss, "barlow_twins", "loss", {"p.toml", 1, 1}, {}, {}));
    }
    // The registry (and its handles) are destroyed; calling into the object must still work.
    Matrix z = xt::zeros<double>({4, 3});
    const double v = kept->call("evaluate", [&](const Loss& l) { return l.evaluate({z, z}, {}).value; });
    CHECK(v == doctest::Approx(3.0));  // raw Barlow Twins of zero embeddings: Σ_i (1 − 0)² = K
}

TEST_CASE("discovery: explicit paths first, only shared-library files, each library once") {
    const auto files = discover_plugin_files(PluginSearch{{ntkssl::test::plugin_dir(), ntkssl::test::plugin_dir()}, false, false});
    std::size_t on_disk = 0;
    for (const auto& e : std::filesystem::directory_iterator(ntkssl::test::plugin_dir())) on_disk += e.path().extension() == ".so";
    CHECK(on_disk >= 4);
    CHECK(files.size() == on_disk);
    for (const auto& f : files) CHECK(f.extension() == ".so");
    CHECK_THROWS_AS(discover_plugin_files(PluginSearch{{"/nonexistent/plugins"}, false, false}), ConfigError);
}

namespace {

// A copy of an in-tree plugin in a scratch directory whose permissions a test sets.
std::filesystem::path copied_plugin(const std::string& name) {
    const auto dir = ntkssl::test::scratch(name);
    const auto file = dir / "libntkssl_loss_barlow_twins.so";
    std::filesystem::copy_file(ntkssl::test::plugin_dir() / "libntkssl_loss_barlow_twins.so", file);
    ::chmod(dir.c_str(), 0755);
    ::chmod(file.c_str(), 0644);
    return file;
}

std::string safety_refusal(const std::filesystem::path& dir, bool allow = false) {
    return ntkssl::test::error_message<PluginError>([&] {
        Registry registry;
        PluginSearch search{{dir}, false, false};
        search.allow_unsafe = allow;
        load_plugins(registry, search);
    });
}

}  // namespace

TEST_CASE("plugin path safety: world-writable directories and files are refused, with the reason and the override") {
    const auto file = copied_plugin("unsafe_world");
    const auto dir = file.parent_path();
    CHECK(safety_refusal(dir) == "(no exception)");  // 0755 / 0644, owned by us: fine
    ::chmod(dir.c_str(), 0777);
    auto m = safety_refusal(dir);
    CHECK(m.find("refusing to load plugins from directory '" + dir.string() + "': it is writable by every user (mode 0777)") == 0);
    CHECK(m.find("--allow-unsafe-plugins") != std::string::npos);
    CHECK(safety_refusal(dir, true) == "(no exception)");  // the explicit override
    ::chmod(dir.c_str(), 0755);
    ::chmod(file.c_str(), 0666);
    m = safety_refusal(dir);
    CHECK(m.find("refusing to load plugins from file '" + file.string() + "': it is writable by every user (mode 0666)") == 0);
    ::setenv("NTKSSL_ALLOW_UNSAFE_PLUGINS", "1", 1);
    CHECK(safety_refusal(dir) == "(no exception)");
    ::unsetenv("NTKSSL_ALLOW_UNSAFE_PLUGINS");
}

TEST_CASE("plugin path safety: a library owned by another user, or writable by another group, is refused") {
    if (::geteuid() != 0) {
        MESSAGE("skipped: changing a file's owner needs root");
        return;
    }
    const auto file = copied_plugin("unsafe_owner");
    REQUIRE(::chown(file.c_str(), 65534, 65534) == 0);
    auto m = safety_refusal(file.parent_path());
    CHECK(m.find("'" + file.string() + "': it is owned by user id 65534, neither you (0) nor root") != std::string::npos);
    REQUIRE(::chown(file.c_str(), 0, 65534) == 0);
    ::chmod(file.c_str(), 0664);
    m = safety_refusal(file.parent_path());
    CHECK(m.find("it is writable by group id 65534 (mode 0664)") != std::string::npos);
}

TEST_CASE("descriptor strings are read with a bound and must be printable") {
    // What a broken or hostile library can hand back: names without end, escape sequences.
    static void (*const callback)(void*) = [](void*) {};
    ntkssl_plugin_descriptor d{NTKSSL_ABI_VERSION, sizeof(ntkssl_plugin_descriptor), NTKSSL_VERSION, NTKSSL_TOOLCHAIN_TAG, "ok.lib",
                               "1.0", callback};
    CHECK(check_descriptor(&d, "/p/lib.so").library_name == "ok.lib");
    const std::string long_name(kMaxDescriptorString + 1, 'n');
    d.library_name = long_name.c_str();
    auto m = ntkssl::test::error_message<PluginError>([&] { check_descriptor(&d, "/p/lib.so"); });
    CHECK(m.find("'/p/lib.so' has an incomplete descriptor (library name (unreadable: longer than 256 bytes") != std::string::npos);
    d.library_name = "a\x1b[2Jb";  // a terminal escape in the name
    m = ntkssl::test::error_message<PluginError>([&] { check_descriptor(&d, "/p/lib.so"); });
    CHECK(m.find("not printable") != std::string::npos);
    CHECK(m.find('\x1b') == std::string::npos);
    d.library_name = "ok.lib";
    d.library_version = "1\n2";
    m = ntkssl::test::error_message<PluginError>([&] { check_descriptor(&d, "/p/lib.so"); });
    CHECK(m.find("malformed library version") != std::string::npos);
    d.library_version = nullptr;  // a missing version is allowed (and empty)
    CHECK(check_descriptor(&d, "/p/lib.so").library_version.empty());
    d.toolchain = nullptr;
    m = ntkssl::test::error_message<AbiError>([&] { check_descriptor(&d, "/p/lib.so"); });
    CHECK(m.find("built with toolchain (null)") != std::string::npos);
}
