#include "vigie/inventory/normalize.h"

#include <gtest/gtest.h>

namespace vigie::inventory {
namespace {

struct Case {
  const char* input;
  const char* expected;
};

TEST(Normalize, VendorSpellingsAndAliasesMeetOnOneName) {
  const Case cases[] = {
      {"Siemens Healthineers", "siemens healthineers"},
      {"Siemens Healthcare GmbH", "siemens healthineers"},
      {"SIEMENS", "siemens healthineers"},
      {"Siemens Medical Solutions USA, Inc.", "siemens healthineers"},
      {"Philips Medical Systems", "philips"},
      {"Koninklijke Philips N.V.", "philips"},
      {"Drägerwerk AG & Co. KGaA", "drager"},
      {"Draeger", "drager"},
      {"B. Braun Melsungen AG", "b braun"},
      {"GE Healthcare", "ge healthcare"},
      {"GE Medical Systems", "ge healthcare"},
      {"Fresenius Kabi", "fresenius kabi"},
      {"  Aaxis   Medical ", "aaxis medical"},
  };
  for (const auto& c : cases) EXPECT_EQ(normalize_vendor(c.input), c.expected) << c.input;
}

TEST(Normalize, WordsFoldAccentsCaseAndPunctuation) {
  EXPECT_EQ(normalize_words("Électro-Cardiographe  N°3"), "electro cardiographe n 3");
  EXPECT_EQ(normalize_words("Œil/Straße"), "oeil strasse");
  EXPECT_EQ(normalize_words("日本"), "");
}

TEST(Normalize, ProductAliasesArePerVendor) {
  EXPECT_EQ(normalize_product("siemens healthineers", "syngo X-WP"), "syngo x workplace");
  EXPECT_EQ(normalize_product("siemens healthineers", "X-Workplace"), "syngo x workplace");
  EXPECT_EQ(normalize_product("philips", "X-WP"), "x wp");
  EXPECT_EQ(normalize_product("siemens healthineers", "Artis zee"), "artis zee");
}

}  // namespace
}  // namespace vigie::inventory
