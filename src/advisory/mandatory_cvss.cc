// The CVSS mandatory tests of CSAF 2.0: 6.1.8 (invalid CVSS object), 6.1.9 (scores and
// severities not computed from the vector) and 6.1.10 (properties contradicting the vector),
// for /vulnerabilities[]/scores[]/cvss_v2 and cvss_v3.
//
// 6.1.8 asks for the object to be valid against the FIRST schema. validate_csaf() already runs
// that schema through valijson (reported as "schema"); this file re-checks what that schema
// requires of a CVSS object (required members, the version, the vector pattern, enumerations,
// score range) so that the mandatory test fires by itself too, under its own id. Vectors that
// match the schema's pattern but repeat a metric or lack a base metric cannot be scored: 6.1.9
// reports them.
//
// The formulas are FIRST's: CVSS v2.0 (section 3.2), v3.0 (section 8) and v3.1 (section 7,
// with its Roundup defined in Appendix A). The vector takes precedence over `version`, as the
// standard says: a "CVSS:3.0/" vector is scored with the v3.0 formulas.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "mandatory_support.h"
#include "vigie/advisory/validate.h"

namespace vigie::advisory::mandatory_detail {

using nlohmann::json;

namespace {

struct MetricValue {
  std::string_view code;      // in the vector: "N"
  std::string_view property;  // in the JSON property: "NETWORK"
  double weight;
};

struct Metric {
  std::string_view code;      // "AV"
  std::string_view property;  // "attackVector"
  bool base;                  // required in every vector
  std::vector<MetricValue> values;
  // The value an absent optional metric takes ("X" or "ND": NOT_DEFINED); empty for base ones.
  std::string_view absent;
};

const MetricValue* find_value(const Metric& metric, std::string_view code) {
  for (const auto& value : metric.values) {
    if (value.code == code) return &value;
  }
  return nullptr;
}

const std::vector<Metric>& cvss2_metrics() {
  static const std::vector<Metric> kMetrics = {
      {"AV",
       "accessVector",
       true,
       {{"L", "LOCAL", 0.395}, {"A", "ADJACENT_NETWORK", 0.646}, {"N", "NETWORK", 1.0}},
       ""},
      {"AC",
       "accessComplexity",
       true,
       {{"H", "HIGH", 0.35}, {"M", "MEDIUM", 0.61}, {"L", "LOW", 0.71}},
       ""},
      {"Au",
       "authentication",
       true,
       {{"M", "MULTIPLE", 0.45}, {"S", "SINGLE", 0.56}, {"N", "NONE", 0.704}},
       ""},
      {"C",
       "confidentialityImpact",
       true,
       {{"N", "NONE", 0.0}, {"P", "PARTIAL", 0.275}, {"C", "COMPLETE", 0.660}},
       ""},
      {"I",
       "integrityImpact",
       true,
       {{"N", "NONE", 0.0}, {"P", "PARTIAL", 0.275}, {"C", "COMPLETE", 0.660}},
       ""},
      {"A",
       "availabilityImpact",
       true,
       {{"N", "NONE", 0.0}, {"P", "PARTIAL", 0.275}, {"C", "COMPLETE", 0.660}},
       ""},
      {"E",
       "exploitability",
       false,
       {{"U", "UNPROVEN", 0.85},
        {"POC", "PROOF_OF_CONCEPT", 0.9},
        {"F", "FUNCTIONAL", 0.95},
        {"H", "HIGH", 1.0},
        {"ND", "NOT_DEFINED", 1.0}},
       "ND"},
      {"RL",
       "remediationLevel",
       false,
       {{"OF", "OFFICIAL_FIX", 0.87},
        {"TF", "TEMPORARY_FIX", 0.90},
        {"W", "WORKAROUND", 0.95},
        {"U", "UNAVAILABLE", 1.0},
        {"ND", "NOT_DEFINED", 1.0}},
       "ND"},
      {"RC",
       "reportConfidence",
       false,
       {{"UC", "UNCONFIRMED", 0.90},
        {"UR", "UNCORROBORATED", 0.95},
        {"C", "CONFIRMED", 1.0},
        {"ND", "NOT_DEFINED", 1.0}},
       "ND"},
      {"CDP",
       "collateralDamagePotential",
       false,
       {{"N", "NONE", 0.0},
        {"L", "LOW", 0.1},
        {"LM", "LOW_MEDIUM", 0.3},
        {"MH", "MEDIUM_HIGH", 0.4},
        {"H", "HIGH", 0.5},
        {"ND", "NOT_DEFINED", 0.0}},
       "ND"},
      {"TD",
       "targetDistribution",
       false,
       {{"N", "NONE", 0.0},
        {"L", "LOW", 0.25},
        {"M", "MEDIUM", 0.75},
        {"H", "HIGH", 1.0},
        {"ND", "NOT_DEFINED", 1.0}},
       "ND"},
      {"CR",
       "confidentialityRequirement",
       false,
       {{"L", "LOW", 0.5}, {"M", "MEDIUM", 1.0}, {"H", "HIGH", 1.51}, {"ND", "NOT_DEFINED", 1.0}},
       "ND"},
      {"IR",
       "integrityRequirement",
       false,
       {{"L", "LOW", 0.5}, {"M", "MEDIUM", 1.0}, {"H", "HIGH", 1.51}, {"ND", "NOT_DEFINED", 1.0}},
       "ND"},
      {"AR",
       "availabilityRequirement",
       false,
       {{"L", "LOW", 0.5}, {"M", "MEDIUM", 1.0}, {"H", "HIGH", 1.51}, {"ND", "NOT_DEFINED", 1.0}},
       "ND"},
  };
  return kMetrics;
}

// Weights of v3.0 and v3.1 are the same. PR's weight depends on the scope: the one given here
// is for an unchanged scope, privileges_required_weight() handles a changed one.
const std::vector<Metric>& cvss3_metrics() {
  static const std::vector<Metric> kMetrics = [] {
    const std::vector<MetricValue> attack_vector = {{"N", "NETWORK", 0.85},
                                                    {"A", "ADJACENT_NETWORK", 0.62},
                                                    {"L", "LOCAL", 0.55},
                                                    {"P", "PHYSICAL", 0.2}};
    const std::vector<MetricValue> attack_complexity = {{"L", "LOW", 0.77}, {"H", "HIGH", 0.44}};
    const std::vector<MetricValue> privileges = {
        {"N", "NONE", 0.85}, {"L", "LOW", 0.62}, {"H", "HIGH", 0.27}};
    const std::vector<MetricValue> user_interaction = {{"N", "NONE", 0.85},
                                                       {"R", "REQUIRED", 0.62}};
    const std::vector<MetricValue> scope = {{"U", "UNCHANGED", 0.0}, {"C", "CHANGED", 0.0}};
    const std::vector<MetricValue> impact = {
        {"H", "HIGH", 0.56}, {"L", "LOW", 0.22}, {"N", "NONE", 0.0}};
    const std::vector<MetricValue> requirement = {
        {"X", "NOT_DEFINED", 1.0}, {"H", "HIGH", 1.5}, {"M", "MEDIUM", 1.0}, {"L", "LOW", 0.5}};
    // A modified metric takes the values of its base metric plus X, which means "as the base".
    auto modified = [](std::vector<MetricValue> values) {
      values.insert(values.begin(), {"X", "NOT_DEFINED", 0.0});
      return values;
    };
    return std::vector<Metric>{
        {"AV", "attackVector", true, attack_vector, ""},
        {"AC", "attackComplexity", true, attack_complexity, ""},
        {"PR", "privilegesRequired", true, privileges, ""},
        {"UI", "userInteraction", true, user_interaction, ""},
        {"S", "scope", true, scope, ""},
        {"C", "confidentialityImpact", true, impact, ""},
        {"I", "integrityImpact", true, impact, ""},
        {"A", "availabilityImpact", true, impact, ""},
        {"E",
         "exploitCodeMaturity",
         false,
         {{"X", "NOT_DEFINED", 1.0},
          {"H", "HIGH", 1.0},
          {"F", "FUNCTIONAL", 0.97},
          {"P", "PROOF_OF_CONCEPT", 0.94},
          {"U", "UNPROVEN", 0.91}},
         "X"},
        {"RL",
         "remediationLevel",
         false,
         {{"X", "NOT_DEFINED", 1.0},
          {"U", "UNAVAILABLE", 1.0},
          {"W", "WORKAROUND", 0.97},
          {"T", "TEMPORARY_FIX", 0.96},
          {"O", "OFFICIAL_FIX", 0.95}},
         "X"},
        {"RC",
         "reportConfidence",
         false,
         {{"X", "NOT_DEFINED", 1.0},
          {"C", "CONFIRMED", 1.0},
          {"R", "REASONABLE", 0.96},
          {"U", "UNKNOWN", 0.92}},
         "X"},
        {"CR", "confidentialityRequirement", false, requirement, "X"},
        {"IR", "integrityRequirement", false, requirement, "X"},
        {"AR", "availabilityRequirement", false, requirement, "X"},
        {"MAV", "modifiedAttackVector", false, modified(attack_vector), "X"},
        {"MAC", "modifiedAttackComplexity", false, modified(attack_complexity), "X"},
        {"MPR", "modifiedPrivilegesRequired", false, modified(privileges), "X"},
        {"MUI", "modifiedUserInteraction", false, modified(user_interaction), "X"},
        {"MS", "modifiedScope", false, modified(scope), "X"},
        {"MC", "modifiedConfidentialityImpact", false, modified(impact), "X"},
        {"MI", "modifiedIntegrityImpact", false, modified(impact), "X"},
        {"MA", "modifiedAvailabilityImpact", false, modified(impact), "X"},
    };
  }();
  return kMetrics;
}

// A vector split into metric -> value, checked against the metric table.
struct ParsedVector {
  std::unordered_map<std::string_view, std::string_view> values;
  std::string syntax_error;  // the vector does not match the schema's pattern (6.1.8)
  std::string score_error;   // it matches, but cannot be scored (6.1.9)
};

ParsedVector parse_vector(std::string_view metrics_text, const std::vector<Metric>& metrics) {
  ParsedVector parsed;
  size_t start = 0;
  while (true) {
    const size_t end = std::min(metrics_text.find('/', start), metrics_text.size());
    const std::string_view part = metrics_text.substr(start, end - start);
    const size_t colon = part.find(':');
    const std::string_view code = part.substr(0, colon);
    const std::string_view value =
        colon == std::string_view::npos ? std::string_view() : part.substr(colon + 1);
    auto metric = std::find_if(metrics.begin(), metrics.end(),
                               [&](const Metric& m) { return m.code == code; });
    if (metric == metrics.end() || colon == std::string_view::npos) {
      parsed.syntax_error = fmt::format("\"{}\" is not a metric of this CVSS version", part);
      return parsed;
    }
    if (find_value(*metric, value) == nullptr) {
      parsed.syntax_error = fmt::format("\"{}\" is not a value of metric {}", value, code);
      return parsed;
    }
    if (!parsed.values.emplace(code, value).second && parsed.score_error.empty()) {
      parsed.score_error = fmt::format("metric {} is given more than once", code);
    }
    if (end == metrics_text.size()) break;
    start = end + 1;
  }
  for (const auto& metric : metrics) {
    if (metric.base && !parsed.values.contains(metric.code) && parsed.score_error.empty()) {
      parsed.score_error = fmt::format("base metric {} is missing", metric.code);
    }
  }
  return parsed;
}

// The value of a metric, the default of an absent optional one, or empty for an absent base one.
std::string_view value_of(const ParsedVector& vector, const Metric& metric) {
  auto it = vector.values.find(metric.code);
  return it != vector.values.end() ? it->second : metric.absent;
}

double weight_of(const ParsedVector& vector, const std::vector<Metric>& metrics,
                 std::string_view code) {
  for (const auto& metric : metrics) {
    if (metric.code != code) continue;
    const MetricValue* value = find_value(metric, value_of(vector, metric));
    return value != nullptr ? value->weight : 0.0;
  }
  return 0.0;
}

// Math.round() of JavaScript, which FIRST's reference calculators use (half rounds up).
double round_half_up(double value) { return std::floor(value + 0.5); }

// round_to_1_decimal of CVSS v2, half up. The tolerance absorbs binary floating-point error:
// the guide's CVE-2002-0392 example, (8.3 + 1.7 * 0.5) * 1.0 = 9.15, must round to 9.2 although
// the double computed is 9.1499999999999986.
double round_to_one_decimal(double value) { return std::floor(value * 10.0 + 0.5 + 1e-9) / 10.0; }

struct Scores {
  double base;
  double temporal;
  double environmental;
};

// CVSS v2.0, section 3.2 of the guide.
Scores score_cvss2(const ParsedVector& vector) {
  const auto& metrics = cvss2_metrics();
  auto weight = [&](std::string_view code) { return weight_of(vector, metrics, code); };
  const double exploitability = 20.0 * weight("AV") * weight("AC") * weight("Au");
  auto base_equation = [&](double impact) {
    const double f_impact = impact == 0.0 ? 0.0 : 1.176;
    return round_to_one_decimal(((0.6 * impact) + (0.4 * exploitability) - 1.5) * f_impact);
  };
  const double temporal_factor = weight("E") * weight("RL") * weight("RC");
  const double impact = 10.41 * (1 - (1 - weight("C")) * (1 - weight("I")) * (1 - weight("A")));
  const double base = base_equation(impact);
  const double temporal = round_to_one_decimal(base * temporal_factor);
  const double adjusted_impact = std::min(
      10.0, 10.41 * (1 - (1 - weight("C") * weight("CR")) * (1 - weight("I") * weight("IR")) *
                             (1 - weight("A") * weight("AR"))));
  const double adjusted_temporal =
      round_to_one_decimal(base_equation(adjusted_impact) * temporal_factor);
  const double environmental = round_to_one_decimal(
      (adjusted_temporal + (10 - adjusted_temporal) * weight("CDP")) * weight("TD"));
  return {base, temporal, environmental};
}

// Roundup of CVSS v3.1 (Appendix A): works on an integer to avoid floating-point surprises.
double roundup_v31(double value) {
  const auto scaled = static_cast<long long>(round_half_up(value * 100000));
  if (scaled % 10000 == 0) return static_cast<double>(scaled) / 100000.0;
  // Integer division on purpose: Roundup keeps the tenths and adds one (CVSS v3.1, Appendix A).
  return static_cast<double>(scaled / 10000 + 1) / 10.0;  // NOLINT(bugprone-integer-division)
}

// Roundup of CVSS v3.0 as FIRST's v3.0 calculator does it: the smallest one-decimal number not
// below the value, computed in binary floating point. It can round a product such as
// 10 * 0.92 = 9.2000000000000011 up to 9.3, which CVSS v3.1 fixed with roundup_v31().
double roundup_v30(double value) { return std::ceil(value * 10) / 10; }

// `v31` selects the v3.1 environmental formula; `roundup` the rounding.
Scores score_cvss3(const ParsedVector& vector, bool v31, double (*roundup)(double)) {
  const auto& metrics = cvss3_metrics();
  auto weight = [&](std::string_view code) { return weight_of(vector, metrics, code); };
  // A modified metric left at X takes the weight of its base metric.
  auto modified = [&](std::string_view code) {
    const std::string modified_code = "M" + std::string(code);
    auto it = vector.values.find(modified_code);
    return it == vector.values.end() || it->second == "X" ? weight(code) : weight(modified_code);
  };
  auto privileges_weight = [](std::string_view level, bool scope_changed) {
    if (level == "N") return 0.85;
    if (level == "L") return scope_changed ? 0.68 : 0.62;
    return scope_changed ? 0.5 : 0.27;
  };
  const bool scope_changed = vector.values.at("S") == "C";
  const double temporal_factor = weight("E") * weight("RL") * weight("RC");

  const double iss = 1 - ((1 - weight("C")) * (1 - weight("I")) * (1 - weight("A")));
  const double impact =
      scope_changed ? 7.52 * (iss - 0.029) - 3.25 * std::pow(iss - 0.02, 15) : 6.42 * iss;
  const double exploitability = 8.22 * weight("AV") * weight("AC") *
                                privileges_weight(vector.values.at("PR"), scope_changed) *
                                weight("UI");
  double base = 0;
  if (impact > 0) {
    base = scope_changed ? roundup(std::min(1.08 * (exploitability + impact), 10.0))
                         : roundup(std::min(exploitability + impact, 10.0));
  }
  const double temporal = roundup(base * temporal_factor);

  auto modified_scope = vector.values.find("MS");
  const bool modified_scope_changed =
      modified_scope == vector.values.end() || modified_scope->second == "X"
          ? scope_changed
          : modified_scope->second == "C";
  auto modified_privileges = vector.values.find("MPR");
  const std::string_view privileges =
      modified_privileges == vector.values.end() || modified_privileges->second == "X"
          ? vector.values.at("PR")
          : modified_privileges->second;
  const double miss =
      std::min(1 - ((1 - modified("C") * weight("CR")) * (1 - modified("I") * weight("IR")) *
                    (1 - modified("A") * weight("AR"))),
               0.915);
  double modified_impact = 6.42 * miss;
  if (modified_scope_changed) {
    modified_impact = v31 ? 7.52 * (miss - 0.029) - 3.25 * std::pow(miss * 0.9731 - 0.02, 13)
                          : 7.52 * (miss - 0.029) - 3.25 * std::pow(miss - 0.02, 15);
  }
  const double modified_exploitability = 8.22 * modified("AV") * modified("AC") *
                                         privileges_weight(privileges, modified_scope_changed) *
                                         modified("UI");
  double environmental = 0;
  if (modified_impact > 0) {
    const double sum = modified_scope_changed
                           ? std::min(1.08 * (modified_impact + modified_exploitability), 10.0)
                           : std::min(modified_impact + modified_exploitability, 10.0);
    environmental = roundup(roundup(sum) * temporal_factor);
  }
  return {base, temporal, environmental};
}

std::string_view severity_of(double score) {
  if (score == 0) return "NONE";
  if (score < 4.0) return "LOW";
  if (score < 7.0) return "MEDIUM";
  if (score < 9.0) return "HIGH";
  return "CRITICAL";
}

std::string format_score(double score) { return fmt::format("{:.1f}", score); }

class CvssChecker {
 public:
  CvssChecker(const json& cvss, std::string pointer, bool v3)
      : cvss_(cvss), pointer_(std::move(pointer)), v3_(v3) {}

  // 6.1.8; returns the parsed vector when the object is valid enough to go on.
  std::optional<ParsedVector> check_object(std::vector<ValidationIssue>& invalid) {
    const std::string_view name = v3_ ? "cvss_v3" : "cvss_v2";
    if (!cvss_.is_object()) {
      invalid.push_back({"6.1.8", pointer_, fmt::format("{} is not an object", name)});
      return std::nullopt;
    }
    std::vector<std::string_view> required = {"version", "vectorString", "baseScore"};
    if (v3_) required.emplace_back("baseSeverity");
    for (std::string_view key : required) {
      if (find_member(cvss_, key) == nullptr) {
        invalid.push_back(
            {"6.1.8", pointer_, fmt::format("{} lacks the required property {}", name, key)});
      }
    }
    const auto& metrics = v3_ ? cvss3_metrics() : cvss2_metrics();
    for (const auto& metric : metrics) {
      const json* value = find_member(cvss_, metric.property);
      if (value == nullptr) continue;
      const bool known =
          value->is_string() &&
          std::any_of(metric.values.begin(), metric.values.end(), [&](const MetricValue& v) {
            return v.property == value->get_ref<const std::string&>();
          });
      if (!known) {
        invalid.push_back({"6.1.8", at(metric.property),
                           fmt::format("{} {} is not one of the values the CVSS schema allows",
                                       metric.property, value->dump())});
      }
    }
    for (std::string_view key : {"baseScore", "temporalScore", "environmentalScore"}) {
      const json* value = find_member(cvss_, key);
      if (value == nullptr) continue;
      if (!value->is_number() || value->get<double>() < 0 || value->get<double>() > 10) {
        invalid.push_back({"6.1.8", at(key),
                           fmt::format("{} {} is not a number from 0 to 10", key, value->dump())});
      }
    }
    if (v3_) {
      for (std::string_view key : {"baseSeverity", "temporalSeverity", "environmentalSeverity"}) {
        const json* value = find_member(cvss_, key);
        if (value == nullptr) continue;
        constexpr std::array<std::string_view, 5> kSeverities = {"NONE", "LOW", "MEDIUM", "HIGH",
                                                                 "CRITICAL"};
        if (!value->is_string() ||
            std::find(kSeverities.begin(), kSeverities.end(),
                      value->get_ref<const std::string&>()) == kSeverities.end()) {
          invalid.push_back(
              {"6.1.8", at(key), fmt::format("{} {} is not a CVSS severity", key, value->dump())});
        }
      }
    }

    const std::string* version = find_string(cvss_, "version");
    const json* version_value = find_member(cvss_, "version");
    const bool version_known =
        version != nullptr && (v3_ ? (*version == "3.0" || *version == "3.1") : *version == "2.0");
    if (version_value != nullptr && !version_known) {
      invalid.push_back(
          {"6.1.8", at("version"),
           fmt::format("version {} is not {}", version_value->dump(), v3_ ? "3.0 or 3.1" : "2.0")});
    }
    const json* vector_value = find_member(cvss_, "vectorString");
    if (vector_value == nullptr) return std::nullopt;
    if (!vector_value->is_string()) {
      invalid.push_back({"6.1.8", at("vectorString"), "vectorString is not a string"});
      return std::nullopt;
    }
    const auto& vector = vector_value->get_ref<const std::string&>();
    std::string_view metrics_text = vector;
    if (v3_) {
      if (!metrics_text.starts_with("CVSS:3.0/") && !metrics_text.starts_with("CVSS:3.1/")) {
        invalid.push_back(
            {"6.1.8", at("vectorString"),
             fmt::format("vectorString {} does not start with CVSS:3.0/ or CVSS:3.1/", vector)});
        return std::nullopt;
      }
      vector_version_ = metrics_text.substr(5, 3);
      metrics_text.remove_prefix(9);
      if (version_known && *version != vector_version_) {
        invalid.push_back(
            {"6.1.8", at("version"),
             fmt::format("version {} does not match the vector {}", *version, vector)});
      }
    }
    ParsedVector parsed = parse_vector(metrics_text, metrics);
    if (!parsed.syntax_error.empty()) {
      invalid.push_back(
          {"6.1.8", at("vectorString"),
           fmt::format("vectorString {} is malformed: {}", vector, parsed.syntax_error)});
      return std::nullopt;
    }
    return parsed;
  }

  // 6.1.9.
  void check_computation(const ParsedVector& vector, std::vector<ValidationIssue>& out) const {
    const auto& vector_text = cvss_.at("vectorString").get_ref<const std::string&>();
    if (!vector.score_error.empty()) {
      out.push_back(
          {"6.1.9", at("vectorString"),
           fmt::format("vectorString {} cannot be scored: {}", vector_text, vector.score_error)});
      return;
    }
    // A v3.0 value is right when it is what FIRST's v3.0 calculator gives or what exact
    // arithmetic gives: documents come from both kinds of tools.
    std::vector<Scores> accepted;
    if (!v3_) {
      accepted.push_back(score_cvss2(vector));
    } else if (vector_version_ == "3.1") {
      accepted.push_back(score_cvss3(vector, true, roundup_v31));
    } else {
      accepted.push_back(score_cvss3(vector, false, roundup_v30));
      accepted.push_back(score_cvss3(vector, false, roundup_v31));
    }
    for (std::string_view kind : {"base", "temporal", "environmental"}) {
      std::vector<double> expected;
      for (const Scores& scores : accepted) {
        const double score = kind == "base"       ? scores.base
                             : kind == "temporal" ? scores.temporal
                                                  : scores.environmental;
        if (std::find(expected.begin(), expected.end(), score) == expected.end()) {
          expected.push_back(score);
        }
      }
      std::string expected_text = format_score(expected.front());
      if (expected.size() > 1) expected_text += " (or " + format_score(expected.back()) + ")";

      const std::string score_key = std::string(kind) + "Score";
      const json* given = find_member(cvss_, score_key);
      if (given != nullptr && given->is_number() &&
          std::none_of(expected.begin(), expected.end(), [&](double score) {
            return std::abs(given->get<double>() - score) < 1e-6;
          })) {
        out.push_back({"6.1.9", at(score_key),
                       fmt::format("{} is {} but the vector {} gives {}", score_key, given->dump(),
                                   vector_text, expected_text)});
      }
      if (!v3_) continue;
      const std::string severity_key = std::string(kind) + "Severity";
      const std::string* severity = find_string(cvss_, severity_key);
      if (severity != nullptr && std::none_of(expected.begin(), expected.end(), [&](double score) {
            return *severity == severity_of(score);
          })) {
        out.push_back({"6.1.9", at(severity_key),
                       fmt::format("{} is {} but the {} score {} of the vector {} is {}",
                                   severity_key, *severity, kind, expected_text, vector_text,
                                   severity_of(expected.front()))});
      }
    }
  }

  // 6.1.10: a metric absent from the vector is NOT_DEFINED (optional metrics only).
  void check_consistency(const ParsedVector& vector, std::vector<ValidationIssue>& out) const {
    const auto& metrics = v3_ ? cvss3_metrics() : cvss2_metrics();
    for (const auto& metric : metrics) {
      const std::string* given = find_string(cvss_, metric.property);
      // A value outside the enumeration is 6.1.8's to report.
      if (given == nullptr ||
          std::none_of(metric.values.begin(), metric.values.end(),
                       [&](const MetricValue& v) { return v.property == *given; })) {
        continue;
      }
      const std::string_view code = value_of(vector, metric);
      const MetricValue* expected = find_value(metric, code);
      if (expected == nullptr || expected->property == *given) continue;
      const bool in_vector = vector.values.contains(metric.code);
      out.push_back(
          {"6.1.10", at(metric.property),
           fmt::format("{} is {} but the vector {} {}", metric.property, *given,
                       in_vector
                           ? fmt::format("has {}:{} ({})", metric.code, code, expected->property)
                           : fmt::format("leaves {} out ({})", metric.code, expected->property),
                       cvss_.at("vectorString").get_ref<const std::string&>())});
    }
  }

 private:
  [[nodiscard]] std::string at(std::string_view key) const { return child_pointer(pointer_, key); }

  const json& cvss_;
  std::string pointer_;
  bool v3_;
  std::string_view vector_version_;  // "3.0" or "3.1", from the vector
};

}  // namespace

void check_cvss(const json& document, std::vector<ValidationIssue>& out) {
  const json* vulnerabilities = find_array(document, "vulnerabilities");
  if (vulnerabilities == nullptr) return;
  for (size_t v = 0; v < vulnerabilities->size(); ++v) {
    const json* scores = find_array((*vulnerabilities)[v], "scores");
    if (scores == nullptr) continue;
    for (size_t s = 0; s < scores->size(); ++s) {
      const std::string score_pointer =
          child_pointer(child_pointer(child_pointer("/vulnerabilities", v), "scores"), s);
      for (std::string_view key : {"cvss_v2", "cvss_v3"}) {
        const json* cvss = find_member((*scores)[s], key);
        if (cvss == nullptr) continue;
        CvssChecker checker(*cvss, child_pointer(score_pointer, key), key == "cvss_v3");
        std::optional<ParsedVector> vector = checker.check_object(out);
        if (!vector) continue;
        checker.check_computation(*vector, out);
        checker.check_consistency(*vector, out);
      }
    }
  }
}

}  // namespace vigie::advisory::mandatory_detail
