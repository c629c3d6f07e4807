// SPDX-License-Identifier: Apache-2.0
// Small string helpers shared by parsers and error messages. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lowcarb {

std::vector<std::string> split(std::string_view text, char separator);
std::string_view trim(std::string_view text);

// Splits a script directive's text (`#SBATCH --job-name "a b"`, after its
// magic word) into words: blanks separate, "double" and 'single' quotes
// group, and an unquoted `#` starting a word begins a trailing comment.
std::vector<std::string> split_directive_words(std::string_view text);

// The items with `separator` between each pair: {"a", "b"} -> "a, b".
std::string join(const std::vector<std::string>& items,
                 std::string_view separator = ", ");
std::string to_lower(std::string_view text);
bool iequals(std::string_view a, std::string_view b);

// Levenshtein distance.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `name` if it is close enough to be a plausible
// typo (distance <= max(2, size/3)), for "did you mean" hints.
std::optional<std::string> closest_match(
    std::string_view name, const std::vector<std::string>& candidates);

// ", did you mean 'x'?" or "" when nothing is close.
std::string did_you_mean(std::string_view name,
                         const std::vector<std::string>& candidates);

// Parses a finite double; the whole of `text` (trimmed) must be consumed.
std::optional<double> parse_double(std::string_view text);

// Parses a base-10 integer; the whole of `text` (trimmed) must be consumed.
std::optional<long long> parse_integer(std::string_view text);

}  // namespace lowcarb
