// Notices: the letter around an advisory, as the hospital received it. When and how it came,
// to whom it was forwarded, whether the vendor wants a response form back and by when, who
// signed the acknowledgement, and the original document (kept as a file, its SHA-256 recorded).
// A notice is complete when it is acknowledged (if a response is required) and every device
// its advisory affects, or may affect, has a closed finding.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "vigie/advisory/findings.h"

namespace vigie::advisory {

struct NoticeInput {
  std::string reference;    // the letter's reference: "AX047/17/S"
  std::string title;        // empty: the advisory's title
  std::string advisory;     // tracking id or number of the advisory it carries (optional)
  std::string received_on;  // YYYY-MM-DD
  std::string channel;      // "registered letter", "e-mail", "vendor portal"...
  std::string forwarded_to;
  // A response form to send back: due `response_days` after receipt, or on `response_due`.
  std::int64_t response_days = 0;
  std::string response_due;
  std::filesystem::path document;  // the original letter (PDF, text...), optional
};

struct Notice {
  std::int64_t id = 0;
  std::string reference;
  std::string title;
  std::int64_t advisory_id = 0;  // 0: none
  std::string advisory;          // tracking id
  std::string received_on;
  std::string channel;
  std::string forwarded_to;
  bool response_required = false;
  std::string response_due;
  std::string ack_by;
  std::string ack_on;
  std::string ack_reference;
  std::string document_name;
  std::string document_path;  // inside the home: documents/<sha256>.<ext>
  std::string document_sha256;
  std::string created_at;
  std::string created_by;
  // Computed from the findings of its advisory:
  std::int64_t affected_devices = 0;
  // Findings of its advisory that still need work: affected, unknown (inventory to complete)
  // or under investigation, and not closed.
  std::int64_t open_findings = 0;
  bool response_overdue = false;  // required, not acknowledged, due date passed
  bool complete = false;
};

// Records a notice; its document is copied (content-addressed, fsynced) under
// `home`/documents. kConflict when the reference already exists.
Result<std::int64_t> add_notice(store::Store& store, const std::filesystem::path& home,
                                const NoticeInput& input, const Actor& actor);

struct Acknowledgement {
  std::string by;         // who signed the response form
  std::string on;         // YYYY-MM-DD
  std::string reference;  // e.g. the e-mail or form reference
};
Status acknowledge_notice(store::Store& store, std::string_view notice, const Acknowledgement& ack,
                          const Actor& actor);

Result<std::vector<Notice>> list_notices(store::Store& store, const core::Clock& clock);
// By reference or number.
Result<Notice> get_notice(store::Store& store, std::string_view notice, const core::Clock& clock);
// The notices whose advisory names a device (the letters to keep with its manual).
Result<std::vector<Notice>> notices_of_device(store::Store& store, std::int64_t device_id,
                                              const core::Clock& clock);

}  // namespace vigie::advisory
