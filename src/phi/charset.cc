#include "charset.h"

#include <iconv.h>

#include <algorithm>
#include <array>
#include <memory>
#include <vector>

#include "dcmtk_io.h"

namespace vigie::phi::internal {
namespace {

// How the bytes of a code element become a legacy encoding iconv reads.
enum class Form : std::uint8_t {
  kAscii,      // bytes as they are (ISO-IR 6, and ISO-IR 14 whose two differences are kept)
  kJis0208,    // G0 two bytes: OR 0x80 each, read as EUC-JP (ISO-IR 87)
  kJis0212,    // G0 two bytes: 0x8F then OR 0x80 each, EUC-JP (ISO-IR 159)
  kHighBytes,  // G1: bytes >= 0x80 read in `iconv_name` (EUC-KR, GB2312, ISO-8859-x, SHIFT_JIS)
};

struct CodeElement {
  std::string_view escape;  // the bytes after ESC
  std::string_view term;    // the defined term of (0008,0005) that starts in this set
  bool g1;                  // designates G1 (high bytes) rather than G0
  Form form;
  std::string_view iconv_name;
};

// PS3.3 C.12.1.1.2, Table C.12-3 and C.12-4.
constexpr std::array<CodeElement, 17> kElements = {{
    {"(B", "ISO 2022 IR 6", false, Form::kAscii, ""},
    {"(J", "ISO 2022 IR 13", false, Form::kAscii, ""},
    {")I", "ISO 2022 IR 13", true, Form::kHighBytes, "SHIFT_JIS"},
    {"$B", "ISO 2022 IR 87", false, Form::kJis0208, "EUC-JP"},
    {"$(D", "ISO 2022 IR 159", false, Form::kJis0212, "EUC-JP"},
    {"$)C", "ISO 2022 IR 149", true, Form::kHighBytes, "EUC-KR"},
    {"$)A", "ISO 2022 IR 58", true, Form::kHighBytes, "GB2312"},
    {"-A", "ISO 2022 IR 100", true, Form::kHighBytes, "ISO-8859-1"},
    {"-B", "ISO 2022 IR 101", true, Form::kHighBytes, "ISO-8859-2"},
    {"-C", "ISO 2022 IR 109", true, Form::kHighBytes, "ISO-8859-3"},
    {"-D", "ISO 2022 IR 110", true, Form::kHighBytes, "ISO-8859-4"},
    {"-L", "ISO 2022 IR 144", true, Form::kHighBytes, "ISO-8859-5"},
    {"-G", "ISO 2022 IR 127", true, Form::kHighBytes, "ISO-8859-6"},
    {"-F", "ISO 2022 IR 126", true, Form::kHighBytes, "ISO-8859-7"},
    {"-H", "ISO 2022 IR 138", true, Form::kHighBytes, "ISO-8859-8"},
    {"-M", "ISO 2022 IR 148", true, Form::kHighBytes, "ISO-8859-9"},
    {"-T", "ISO 2022 IR 166", true, Form::kHighBytes, "TIS-620"},
}};

struct IconvCloser {
  void operator()(void* cd) const { iconv_close(static_cast<iconv_t>(cd)); }
};
using IconvPtr = std::unique_ptr<void, IconvCloser>;

std::optional<std::string> via_iconv(const char* from, const std::string& bytes) {
  iconv_t raw = iconv_open("UTF-8", from);
  // iconv_open's documented failure value is (iconv_t)-1.
  // NOLINTNEXTLINE(performance-no-int-to-ptr)
  if (raw == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
  IconvPtr cd(raw);
  std::string out(bytes.size() * 4 + 4, '\0');
  std::string in = bytes;
  char* in_ptr = in.data();
  size_t in_left = in.size();
  char* out_ptr = out.data();
  size_t out_left = out.size();
  if (iconv(static_cast<iconv_t>(cd.get()), &in_ptr, &in_left, &out_ptr, &out_left) ==
      static_cast<size_t>(-1)) {
    return std::nullopt;
  }
  out.resize(out.size() - out_left);
  return out;
}

std::string_view trim_term(std::string_view t) {
  while (!t.empty() && (t.back() == ' ' || t.back() == '\0')) t.remove_suffix(1);
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  return t;
}

struct State {
  const CodeElement* g0 = nullptr;  // null: ASCII
  const CodeElement* g1 = nullptr;  // null: no G1 set (a high byte is an error)
};

State initial_state(std::string_view character_sets) {
  State s;
  std::string_view first = trim_term(character_sets.substr(0, character_sets.find('\\')));
  for (const auto& e : kElements) {
    if (e.term != first) continue;
    if (e.g1) {
      s.g1 = &e;
    } else if (e.form != Form::kAscii) {
      s.g0 = &e;
    }
  }
  return s;
}

// Decodes one run of bytes in one state.
bool decode_run(const State& state, std::string_view run, std::string& out) {
  std::string g0_bytes;
  std::string g1_bytes;
  auto flush_g1 = [&]() -> bool {
    if (g1_bytes.empty()) return true;
    if (state.g1 == nullptr) return false;
    auto text = via_iconv(std::string(state.g1->iconv_name).c_str(), g1_bytes);
    if (!text) return false;
    out += *text;
    g1_bytes.clear();
    return true;
  };
  if (state.g0 != nullptr && state.g0->form != Form::kAscii) {
    if (run.size() % 2 != 0) return false;
    for (size_t i = 0; i < run.size(); i += 2) {
      if (state.g0->form == Form::kJis0212) g0_bytes += '\x8F';
      g0_bytes += static_cast<char>(static_cast<unsigned char>(run[i]) | 0x80U);
      g0_bytes += static_cast<char>(static_cast<unsigned char>(run[i + 1]) | 0x80U);
    }
    auto text = via_iconv("EUC-JP", g0_bytes);
    if (!text) return false;
    out += *text;
    return true;
  }
  for (char c : run) {
    if ((static_cast<unsigned char>(c) & 0x80U) != 0) {
      g1_bytes += c;
      continue;
    }
    if (!flush_g1()) return false;
    out += c;
  }
  return flush_g1();
}

bool is_delimiter(char c, bool person_name) {
  return c == '\\' || c == '\r' || c == '\n' || c == '\t' || c == '\f' ||
         (person_name && (c == '^' || c == '='));
}

const std::array<std::string_view, 7> kTextVrs = {"SH", "LO", "ST", "LT", "UT", "PN", "UC"};

bool convert_item(DcmItem& item, std::string charsets, int depth, int max_depth) {
  if (depth > max_depth) return false;
  bool ok = true;
  OFString own;
  if (item.findAndGetOFStringArray(DCM_SpecificCharacterSet, own).good()) {
    charsets = own.c_str();
    item.putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192");
  }
  for (unsigned long i = 0; i < item.card(); ++i) {
    DcmElement* e = item.getElement(i);
    if (e->ident() == EVR_SQ) {
      auto* sq = static_cast<DcmSequenceOfItems*>(e);
      for (unsigned long j = 0; j < sq->card(); ++j) {
        ok = convert_item(*sq->getItem(j), charsets, depth + 1, max_depth) && ok;
      }
      continue;
    }
    std::string vr = DcmVR(e->getVR()).getVRName();
    if (std::find(kTextVrs.begin(), kTextVrs.end(), vr) == kTextVrs.end()) continue;
    std::string value = string_of(*e);
    if (value.empty()) continue;
    auto utf8 = iso2022_to_utf8(charsets, value, vr == "PN");
    if (!utf8) {
      ok = false;
      continue;
    }
    e->putOFStringArray(utf8->c_str());
  }
  return ok;
}

}  // namespace

std::optional<std::string> iso2022_to_utf8(std::string_view character_sets, std::string_view text,
                                           bool person_name) {
  const State initial = initial_state(character_sets);
  State state = initial;
  std::string out;
  std::string run;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\x1b') {
      if (!decode_run(state, run, out)) return std::nullopt;
      run.clear();
      const CodeElement* found = nullptr;
      for (const auto& e : kElements) {
        if (text.substr(i + 1, e.escape.size()) == e.escape) found = &e;
      }
      if (found == nullptr) return std::nullopt;
      if (found->g1) {
        state.g1 = found;
      } else {
        state.g0 = found->form == Form::kAscii ? nullptr : found;
      }
      i += found->escape.size();
      continue;
    }
    const bool single_byte_g0 = state.g0 == nullptr || state.g0->form == Form::kAscii;
    if (single_byte_g0 && is_delimiter(c, person_name)) {
      if (!decode_run(state, run, out)) return std::nullopt;
      run.clear();
      out += c;
      state = initial;  // PS3.5 6.1.2.5.3: delimiters return to the initial sets
      continue;
    }
    run += c;
  }
  if (!decode_run(state, run, out)) return std::nullopt;
  return out;
}

bool convert_iso2022(DcmItem& dataset, int max_depth) {
  return convert_item(dataset, "", 0, max_depth);
}

}  // namespace vigie::phi::internal
