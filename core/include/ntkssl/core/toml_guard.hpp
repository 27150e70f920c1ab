// What ntkssl checks of a TOML text before TOML++ reads it.
//
// TOML++ 3.3 (Debian 12) has bugs that malformed input reaches, found by fuzz/pipeline_fuzz.cpp
// and fixed upstream after 3.3:
//   - a table header that starts with a character that cannot start a key ("[# x]", "[[[1]]]",
//     "[[=") enters parse_key() against its precondition (an assertion; tomlplusplus PR #301);
//   - a non-ASCII character where TOML allows only ASCII reaches TOML_UNREACHABLE in its
//     whitespace classification — undefined behaviour (issues #190 and #295, PR #305). TOML++
//     reaches it while scanning to the end of a malformed bare value, and in the whitespace after
//     a backslash in a string (line-ending or malformed);
//   - tables are built and destroyed recursively: a header of 200,000 dotted parts overflows
//     the stack.
// Every input refused here is invalid TOML or far from any pipeline; the message says where and
// why. Checked: the text is valid UTF-8 with no control characters but tab, LF and CR (a leading
// byte-order mark is skipped); a table header starts with a key; non-ASCII characters appear
// only inside comments and inside strings that open where TOML can open one (a value after `=`
// or in an array, a key at the start of a line, after `.` or in an inline table; three quotes
// open a multi-line string in either place), not inside a bare value (which runs to the next
// whitespace, ',', ']', '}' or '#'), and not right after a backslash or a backslash and
// whitespace; a key has at most 32 dotted parts, and arrays and inline tables nest at most 32
// deep.
#pragma once

#include <string>

namespace ntkssl::core {

// Throws ConfigError "<path>:line:col: malformed TOML: …" for the inputs above.
void check_toml_preconditions(const std::string& text, const std::string& path);

}  // namespace ntkssl::core
