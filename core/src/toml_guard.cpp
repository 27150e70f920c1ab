#include "ntkssl/core/toml_guard.hpp"

#include <cctype>
#include <cstdio>
#include <cstring>

#include <ntkssl/errors.hpp>

namespace ntkssl::core {

namespace {

class Lexer {
public:
    Lexer(const std::string& text, const std::string& path) : t_(text), path_(path) {}

    void run() {
        check_encoding();
        if (at("\xef\xbb\xbf")) i_ = 3;  // a byte-order mark, as some editors write: TOML++ skips it
        while (i_ < t_.size()) step();
    }

private:
    [[noreturn]] void fail(std::size_t line, std::size_t col, const std::string& what) const {
        throw ConfigError(path_ + ":" + std::to_string(line) + ":" + std::to_string(col) + ": malformed TOML: " + what);
    }

    // Valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF), and no control
    // characters but tab, LF and CR.
    void check_encoding() const {
        std::size_t line = 1, col = 1;
        for (std::size_t k = 0; k < t_.size();) {
            const auto c = static_cast<unsigned char>(t_[k]);
            if (c < 0x80) {
                if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
                    char hex[8];
                    std::snprintf(hex, sizeof hex, "%02X", c);
                    fail(line, col, std::string("control character U+00") + hex + " (TOML allows only tab, LF and CR)");
                }
                if (c == '\n') {
                    ++line;
                    col = 1;
                } else {
                    ++col;
                }
                ++k;
                continue;
            }
            const std::size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
            bool ok = n > 0 && k + n <= t_.size();
            unsigned cp = n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
            for (std::size_t j = 1; ok && j < n; ++j) {
                const auto cc = static_cast<unsigned char>(t_[k + j]);
                ok = (cc & 0xc0) == 0x80;
                cp = (cp << 6) | (cc & 0x3f);
            }
            ok = ok && !(n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) && !(n == 4 && (cp < 0x10000 || cp > 0x10ffff));
            if (!ok) fail(line, col, "invalid UTF-8 (TOML files are UTF-8)");
            k += n;
            ++col;
        }
    }

    bool at(const char* s) const { return t_.compare(i_, std::strlen(s), s) == 0; }
    void advance(std::size_t n = 1) {
        for (std::size_t k = 0; k < n && i_ < t_.size(); ++k, ++i_) {
            if (t_[i_] == '\n') {
                ++line_;
                col_ = 1;
            } else if ((static_cast<unsigned char>(t_[i_]) & 0xc0) != 0x80) {
                ++col_;  // columns count characters, not bytes
            }
        }
    }

    // Where TOML can open a string: a value after '=', or after '[' or ',' inside an array; a
    // quoted key at the start of a line, after '.', or after '{' or ',' inside an inline table —
    // while still on the key's side of '=' (a '.' inside a malformed value opens nothing).
    // Three quotes open a multi-line string where a key goes too: TOML++ reads the whole string
    // before it reports that keys cannot be multi-line.
    bool in_array() const { return !stack_.empty() && stack_.back() == '['; }
    bool value_position() const { return prev_ == '=' || (in_array() && (prev_ == '[' || prev_ == ',')); }
    bool key_position() const {
        return key_ && ((prev_ == '\n' && stack_.empty()) || prev_ == '.' || (!stack_.empty() && !in_array() && (prev_ == '{' || prev_ == ',')));
    }

    void step() {
        const char c = t_[i_];
        if (c == '\n') {
            advance();
            if (stack_.empty()) {  // inside an array a line break changes nothing
                prev_ = '\n';
                key_ = true;
                key_dots_ = 0;
            }
            return;
        }
        if (c == ' ' || c == '\t' || c == '\r') return advance();
        if (c == '#') {  // a comment runs to the end of the line; anything goes inside
            while (i_ < t_.size() && t_[i_] != '\n') advance();
            return;
        }
        if ((c == '"' || c == '\'') && (value_position() || key_position())) return string();
        if (value_position() && std::strchr("[{]},", c) == nullptr) return bare_value();
        if (c == '[' && stack_.empty() && prev_ == '\n') return header();
        if (static_cast<unsigned char>(c) >= 0x80)
            fail(line_, col_, "a non-ASCII character outside a string or comment (keys and values other than strings are ASCII)");
        if (c == '[' || c == '{') {
            // TOML++ builds (and destroys) nested tables and arrays recursively: bounded depth.
            if (stack_.size() >= kMaxNesting)
                fail(line_, col_, "arrays and inline tables nested more than " + std::to_string(kMaxNesting) + " deep");
            stack_.push_back(c);
        }
        if ((c == ']' || c == '}') && !stack_.empty()) stack_.pop_back();
        if (c == '=') key_ = false;
        if (c == '.' && key_ && ++key_dots_ >= kMaxKeyParts)
            fail(line_, col_, "a key of more than " + std::to_string(kMaxKeyParts) + " dotted parts");
        if ((c == '{' || c == ',') && !stack_.empty() && stack_.back() == '{') {  // an inline table's next key
            key_ = true;
            key_dots_ = 0;
        }
        prev_ = c;
        advance();
    }

    void string() {
        const char q = t_[i_];
        const std::string triple(3, q);
        const bool multi = at(triple.c_str());
        const bool basic = q == '"';
        advance(multi ? 3 : 1);
        while (i_ < t_.size()) {
            if (multi ? at(triple.c_str()) : t_[i_] == q) {
                advance(multi ? 3 : 1);
                // A multi-line string may end with up to two more quotes of its kind.
                while (multi && i_ < t_.size() && t_[i_] == q) advance();
                break;
            }
            if (!multi && t_[i_] == '\n') break;  // unterminated: TOML++ reports it
            if (basic && t_[i_] == '\\') {
                // Every escape TOML knows is ASCII; TOML++ misreads a non-ASCII one (see the header).
                if (i_ + 1 < t_.size() && static_cast<unsigned char>(t_[i_ + 1]) >= 0x80)
                    fail(line_, col_ + 1, "a backslash followed by a non-ASCII character is not an escape TOML knows");
                backslash_whitespace();
                advance(2);
                continue;
            }
            advance();
        }
        prev_ = 'v';
    }

    // A value that is not a string, array or inline table (number, boolean, date-time, or a
    // malformed one): TOML++ scans it up to the next value terminator (whitespace, ',', ']', '}',
    // '#') and classifies every character on the way with its buggy table, so quotes and
    // brackets inside it open nothing and a non-ASCII character in it is refused.
    void bare_value() {
        while (i_ < t_.size() && std::strchr(" \t\r\n,]}#", t_[i_]) == nullptr) {
            if (static_cast<unsigned char>(t_[i_]) >= 0x80)
                fail(line_, col_, "a non-ASCII character in a value that is not a string (numbers, booleans and dates are ASCII)");
            advance();
        }
        prev_ = 'v';
    }

    // A backslash followed by whitespace (a line-ending backslash in a multi-line basic string,
    // or a malformed escape) makes TOML++ classify every character up to the next
    // non-whitespace one with its buggy table: that one must be ASCII.
    void backslash_whitespace() const {
        std::size_t j = i_ + 1;
        if (j >= t_.size() || !(t_[j] == ' ' || t_[j] == '\t' || t_[j] == '\r' || t_[j] == '\n')) return;
        std::size_t line = line_;
        while (j < t_.size() && (t_[j] == ' ' || t_[j] == '\t' || t_[j] == '\r' || t_[j] == '\n')) line += t_[j++] == '\n';
        if (j < t_.size() && static_cast<unsigned char>(t_[j]) >= 0x80)
            fail(line, line == line_ ? col_ + (j - i_) : 1,
                 "a non-ASCII character right after a backslash and whitespace in a string (not supported by the TOML parser ntkssl "
                 "uses); put it on the backslash's line, or escape it");
    }

    void header() {
        const std::size_t line = line_, col = col_;
        advance(at("[[") ? 2 : 1);
        while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t')) advance();
        const unsigned char k = i_ < t_.size() ? static_cast<unsigned char>(t_[i_]) : '\0';
        if (!(std::isalnum(k) || k == '_' || k == '-' || k == '"' || k == '\''))
            fail(line, col, "a table header must start with a key (a bare key or a quoted one)");
        prev_ = '.';  // the header's keys: quoted parts may follow
        key_ = true;
        key_dots_ = 0;
    }

    const std::string& t_;
    const std::string& path_;
    std::size_t i_ = 0, line_ = 1, col_ = 1;
    std::string stack_;  // the open '[' and '{' of values
    char prev_ = '\n';
    bool key_ = true;  // on the key's side of '='
    std::size_t key_dots_ = 0;  // dots in the current key (or header) so far
    // Far beyond any pipeline (whose deepest key is a section, a component and a metric), and
    // far below what overflows the stack in TOML++'s recursive tables (a header of 200,000
    // dotted parts did, found by the fuzzer).
    static constexpr std::size_t kMaxKeyParts = 32, kMaxNesting = 32;
};

}  // namespace

void check_toml_preconditions(const std::string& text, const std::string& path) { Lexer(text, path).run(); }

}  // namespace ntkssl::core
