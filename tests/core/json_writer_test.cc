#include "vigie/core/json_writer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace vigie::core {
namespace {

TEST(JsonWriter, NestsAndSeparates) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("a").value(std::int64_t{1});
  w.key("b").begin_array().value("x").null().value(true).begin_object().end_object().end_array();
  w.key("c").text_or_null("");
  w.key("d").value_or_null(std::optional<int>(7));
  w.end_object();
  EXPECT_EQ(out, R"({"a":1,"b":["x",null,true,{}],"c":null,"d":7})");
}

TEST(JsonWriter, EscapesAndRepairsText) {
  std::string out;
  append_json_string(out, "q\"b\\n\n\t\x01 é \xff end");
  EXPECT_EQ(out, "\"q\\\"b\\\\n\\n\\t\\u0001 é \\ufffd end\"");
  auto parsed = nlohmann::json::parse(out);  // valid JSON whatever the input
  EXPECT_EQ(parsed.get<std::string>(), "q\"b\\n\n\t\x01 é \xef\xbf\xbd end");
}

}  // namespace
}  // namespace vigie::core
