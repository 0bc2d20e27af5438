#include "vigie/core/time.h"

#include <fmt/format.h>
#include <charconv>

namespace vigie::core {
namespace {

bool read_int(std::string_view text, size_t pos, size_t len, int& out) {
  if (pos + len > text.size()) return false;
  auto [end, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, out);
  return ec == std::errc() && end == text.data() + pos + len;
}

}  // namespace

std::string format_date(TimePoint t) {
  using namespace std::chrono;
  year_month_day ymd{floor<days>(t)};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

std::string date_after(TimePoint t, std::int64_t days) {
  return format_date(t + std::chrono::days(days));
}

std::string format_utc(TimePoint t) {
  using namespace std::chrono;
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss hms{t - day};
  auto ms = hms.subseconds().count();
  std::string out =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  hms.hours().count(), hms.minutes().count(), hms.seconds().count());
  if (ms != 0) out += fmt::format(".{:03}", ms);
  out += 'Z';
  return out;
}

Result<TimePoint> parse_utc(std::string_view text) {
  using namespace std::chrono;
  auto bad = [&](std::string_view why) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("'{}' is not an ISO 8601 UTC time: {}", text, why));
  };
  int y = 0, mo = 0, d = 0;
  if (text.size() < 10 || text[4] != '-' || text[7] != '-' || !read_int(text, 0, 4, y) ||
      !read_int(text, 5, 2, mo) || !read_int(text, 8, 2, d)) {
    return bad("expected YYYY-MM-DD");
  }
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return bad("no such date");
  TimePoint t = time_point_cast<milliseconds>(sys_days{ymd});
  if (text.size() == 10) return t;
  int h = 0, mi = 0, s = 0;
  if ((text[10] != 'T' && text[10] != ' ') || text.size() < 19 || text[13] != ':' ||
      text[16] != ':' || !read_int(text, 11, 2, h) || !read_int(text, 14, 2, mi) ||
      !read_int(text, 17, 2, s) || h > 23 || mi > 59 || s > 60) {
    return bad("expected THH:MM:SS");
  }
  t += hours{h} + minutes{mi} + seconds{s};
  size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    size_t start = ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == start) return bad("empty fraction");
    std::string frac(text.substr(start, std::min<size_t>(3, pos - start)));
    frac.resize(3, '0');
    t += milliseconds{std::stoi(frac)};
  }
  if (pos == text.size()) return bad("missing time zone (Z or +HH:MM)");
  if (text[pos] == 'Z' && pos + 1 == text.size()) return t;
  int oh = 0, om = 0;
  if ((text[pos] == '+' || text[pos] == '-') && text.size() == pos + 6 && text[pos + 3] == ':' &&
      read_int(text, pos + 1, 2, oh) && read_int(text, pos + 4, 2, om)) {
    auto offset = hours{oh} + minutes{om};
    return text[pos] == '+' ? t - offset : t + offset;
  }
  return bad("bad time zone");
}

TimePoint SystemClock::now() const { return utc_now(); }

TimePoint utc_now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

}  // namespace vigie::core
