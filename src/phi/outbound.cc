#include "vigie/phi/outbound.h"

#include <nlohmann/json.hpp>

#include "vigie/core/text.h"

namespace vigie::phi {
namespace {

// Texts are the one other format the gateway lets through: UTF-8 without NUL bytes.
bool looks_like_text(std::string_view bytes) {
  return bytes.find('\0') == std::string_view::npos && !core::find_invalid_utf8(bytes);
}

}  // namespace

std::string FilterSummary::to_json() const {
  nlohmann::json actions = nlohmann::json::object();
  for (Action a : {Action::kRemove, Action::kZero, Action::kDummy, Action::kKeep, Action::kClean,
                   Action::kUid}) {
    actions[std::string(1, action_letter(a))] = dicom_actions.count(a);
  }
  nlohmann::json masks = nlohmann::json::object();
  for (const auto& [kind, n] : text_masks) masks[kind] = n;
  nlohmann::json refused_json = nlohmann::json::array();
  for (const auto& r : refused) refused_json.push_back({{"file", r.name}, {"reason", r.reason}});
  nlohmann::json j = {{"files_in", files_in},
                      {"dicom_files", dicom_files},
                      {"text_files", text_files},
                      {"dicom_actions", actions},
                      {"private_removed", dicom_actions.private_removed},
                      {"private_retained", dicom_actions.private_retained},
                      {"uids_replaced", dicom_actions.uids_replaced},
                      {"dates_shifted", dicom_actions.dates_shifted},
                      {"pixels_blanked", dicom_actions.pixels_blanked},
                      {"text_masks", masks},
                      {"deny_list_size", deny_list_size},
                      {"refused", refused_json}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

OutboundFilter::OutboundFilter(Key key, FilterConfig config)
    : deidentifier_(key, config.dicom), config_(std::move(config)) {}

core::Result<FilterResult> OutboundFilter::filter(const Transfer& transfer) const {
  FilterResult result;
  auto& summary = result.summary;
  summary.files_in = transfer.files.size();
  std::vector<std::string> deny;
  std::vector<const OutboundFile*> texts;
  // DICOM first: their identifying values become the deny-list of the texts.
  for (const auto& f : transfer.files) {
    if (looks_like_dicom(f.bytes)) {
      ++summary.dicom_files;
      auto out = deidentifier_.run(f.bytes, f.name);
      if (!out) {
        summary.refused.push_back({f.name, out.error().message});
        continue;
      }
      summary.dicom_actions.add(out->counts);
      deny.insert(deny.end(), out->identifying_values.begin(), out->identifying_values.end());
      result.files.push_back({out->file_name, std::move(out->bytes)});
    } else if (looks_like_text(f.bytes)) {
      texts.push_back(&f);
    } else {
      summary.refused.push_back(
          {f.name, "unknown binary format: neither DICOM nor UTF-8 text, cannot be made safe"});
    }
  }
  summary.deny_list_size = deny.size();
  ScrubConfig scrub_config;
  scrub_config.patterns = config_.patterns;
  scrub_config.deny_list = std::move(deny);
  auto scrubber = Scrubber::create(std::move(scrub_config));
  if (!scrubber) return tl::unexpected(scrubber.error());
  for (const auto* f : texts) {
    ++summary.text_files;
    auto out = scrubber->scrub(f->bytes, f->name);
    if (!out) {
      summary.refused.push_back({f->name, out.error().message});
      continue;
    }
    for (const auto& [kind, n] : out->masks) summary.text_masks[kind] += n;
    // A file name may carry a patient name too: scrubbed like its content.
    result.files.push_back(
        {scrubber->scrub_value(f->name, summary.text_masks), std::move(out->text)});
  }
  return result;
}

}  // namespace vigie::phi
