// Shared by the inventory tests: a fresh store per back-end and small import helpers.
#pragma once

#include <gtest/gtest.h>

#include "test_support.h"
#include "vigie/inventory/import.h"
#include "vigie/inventory/inventory.h"

namespace vigie::inventory {

class InventoryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = vigie::testing::open_fresh_store(GetParam(), dir_);
    ASSERT_NE(store_, nullptr);
  }

  ImportResult import_text(const std::string& name, const std::string& text,
                           ImportFormat format = ImportFormat::kCsv, ImportOptions options = {}) {
    auto path = dir_ / name;
    vigie::testing::write_file(path, text);
    return import_devices(*store_, path, format, options);
  }

  std::int64_t count(const std::string& table = "devices") {
    return store_->query_int("SELECT COUNT(*) FROM " + table).value();
  }

  std::vector<Device> all(const DeviceFilter& filter = {}) {
    std::vector<Device> out;
    EXPECT_TRUE(for_each_device(*store_, filter, [&](const Device& d) {
      out.push_back(d);
      return true;
    }));
    return out;
  }

  vigie::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

inline std::string errors_of(const ImportResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

}  // namespace vigie::inventory
