#include "vigie/inventory/normalize.h"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

namespace vigie::inventory {
namespace {

// Latin-1 Supplement and Latin Extended-A letters folded to ASCII (U+00C0..U+017F), which
// covers the French, German and Nordic vendor names met in practice.
constexpr std::string_view kFoldC0 =
    "aaaaaaaceeeeiiiidnooooo*ouuuuyts"   // U+00C0..U+00DF (Æ->a, ×->*, Ø->o, Þ->t, ß->s)
    "aaaaaaaceeeeiiiidnooooo/ouuuuyty";  // U+00E0..U+00FF
constexpr std::string_view kFold100 =
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiiijjkkklllllll"
    "lllnnnnnnnnnoooooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";  // U+0100..U+017F

// Appends the ASCII fold of one code point, or a space for anything that is not a letter or
// digit.
void fold(unsigned cp, std::string& out) {
  if (cp < 0x80) {
    char c = static_cast<char>(cp);
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    out += alnum ? c : ' ';
    return;
  }
  if (cp >= 0xC0 && cp < 0x100) {
    char c = kFoldC0[cp - 0xC0];
    out += (c >= 'a' && c <= 'z') ? c : ' ';
    if (cp == 0xC6 || cp == 0xE6) out += 'e';  // æ -> ae
    if (cp == 0xDF) out += 's';                // ß -> ss
    return;
  }
  if (cp >= 0x100 && cp < 0x100 + kFold100.size()) {
    out += kFold100[cp - 0x100];
    if (cp == 0x152 || cp == 0x153) out += 'e';  // œ -> oe
    return;
  }
  out += ' ';
}

std::string collapse_spaces(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

constexpr std::array<std::string_view, 22> kLegalSuffixes = {
    "gmbh",        "ag", "sas",  "sa", "inc", "ltd", "llc", "nv",   "bv",      "co",      "corp",
    "corporation", "kg", "kgaa", "se", "plc", "spa", "srl", "sarl", "limited", "company", "oy"};

// Normalised alias -> canonical vendor. Both sides are normalised words.
constexpr std::array<std::pair<std::string_view, std::string_view>, 30> kVendorAliases = {{
    {"siemens", "siemens healthineers"},
    {"siemens healthcare", "siemens healthineers"},
    {"siemens medical", "siemens healthineers"},
    {"siemens medical solutions", "siemens healthineers"},
    {"siemens medical solutions usa", "siemens healthineers"},
    {"philips medical systems", "philips"},
    {"philips medical", "philips"},
    {"philips healthcare", "philips"},
    {"koninklijke philips", "philips"},
    {"philips medizin systeme", "philips"},
    {"ge", "ge healthcare"},
    {"ge medical systems", "ge healthcare"},
    {"ge medical", "ge healthcare"},
    {"general electric", "ge healthcare"},
    {"gehc", "ge healthcare"},
    {"braun", "b braun"},
    {"b braun melsungen", "b braun"},
    {"bbraun", "b braun"},
    {"draeger", "drager"},
    {"dragerwerk", "drager"},
    {"draegerwerk", "drager"},
    {"drager medical", "drager"},
    {"fresenius", "fresenius kabi"},
    {"carestream health", "carestream"},
    {"shenzhen mindray", "mindray"},
    {"shenzhen mindray bio medical electronics", "mindray"},
    {"roche diagnostics", "roche"},
    {"toshiba medical", "canon medical systems"},
    {"toshiba medical systems", "canon medical systems"},
    {"canon medical", "canon medical systems"},
}};

struct ProductAlias {
  std::string_view vendor;
  std::string_view alias;
  std::string_view canonical;
};
constexpr std::array<ProductAlias, 6> kProductAliases = {{
    {"siemens healthineers", "x wp", "syngo x workplace"},
    {"siemens healthineers", "syngo x wp", "syngo x workplace"},
    {"siemens healthineers", "x workplace", "syngo x workplace"},
    {"siemens healthineers", "syngo xworkplace", "syngo x workplace"},
    {"philips", "essenta dr compact system", "essenta dr compact"},
    // The marketing name; Siemens' letters write "Symbia Intevo T16".
    {"siemens healthineers", "symbia intevo 16", "symbia intevo t16"},
}};

// Joins runs of two or more single letters, so that "N.V." or "S.A.S." read as one word ("nv",
// "sas") while "B Braun" stays two words.
std::string join_initials(const std::string& words) {
  std::vector<std::string> tokens;
  for (size_t i = 0; i < words.size();) {
    size_t end = std::min(words.find(' ', i), words.size());
    tokens.push_back(words.substr(i, end - i));
    i = end + 1;
  }
  std::string out;
  for (size_t i = 0; i < tokens.size();) {
    size_t run = i;
    while (run < tokens.size() && tokens[run].size() == 1) ++run;
    if (!out.empty()) out += ' ';
    if (run - i >= 2) {
      for (size_t k = i; k < run; ++k) out += tokens[k];
      i = run;
    } else {
      out += tokens[i++];
    }
  }
  return out;
}

}  // namespace

std::string normalize_words(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size();
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    unsigned cp = c;
    size_t len = 1;
    if (c >= 0xC0 && c < 0xE0 && i + 1 < n) {
      cp = ((c & 0x1fU) << 6) | (s[i + 1] & 0x3fU), len = 2;
    } else if (c >= 0xE0 && c < 0xF0 && i + 2 < n) {
      cp = ((c & 0x0fU) << 12) | ((s[i + 1] & 0x3fU) << 6) | (s[i + 2] & 0x3fU), len = 3;
    } else if (c >= 0xF0 && i + 3 < n) {
      cp = 0x10000, len = 4;  // outside the fold table: a separator
    }
    fold(cp, out);
    i += len;
  }
  return collapse_spaces(out);
}

std::string normalize_vendor(std::string_view text) {
  std::string words = join_initials(normalize_words(text));
  // Drop trailing legal-form words ("Siemens Healthcare GmbH", "Drägerwerk AG & Co. KGaA").
  while (true) {
    auto space = words.rfind(' ');
    if (space == std::string::npos) break;
    std::string_view last = std::string_view(words).substr(space + 1);
    if (std::find(kLegalSuffixes.begin(), kLegalSuffixes.end(), last) == kLegalSuffixes.end()) {
      break;
    }
    words.resize(space);
  }
  for (const auto& [alias, canonical] : kVendorAliases) {
    if (words == alias) return std::string(canonical);
  }
  return words;
}

std::string normalize_product(std::string_view vendor_norm, std::string_view text) {
  std::string words = normalize_words(text);
  for (const auto& a : kProductAliases) {
    if (a.vendor == vendor_norm && a.alias == words) return std::string(a.canonical);
  }
  return words;
}

}  // namespace vigie::inventory
