// csaf_bench: the advisory module's speed on data shaped like real advisories.
//
//   csaf_bench write FILE PRODUCTS   one large CSAF document (for the parse comparison)
//   csaf_bench parse FILE            read it into Vigie's model, then validate it; prints both
//   csaf_bench read FILE             only read it (the whole process is timed by the script)
//   csaf_bench match DEVICES ADVISORIES [THREADS]
//                                    generate advisories and an inventory in memory, then
//                                    time parsing, indexing, the full assessment, and one new
//                                    advisory (parse, index, assess the devices of its vendor)
//
// Deterministic: the same arguments give the same data.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "vigie/advisory/matcher.h"
#include "vigie/advisory/validate.h"
#include "vigie/core/file.h"
#include "vigie/inventory/normalize.h"

namespace {

using nlohmann::json;
using vigie::advisory::Assessment;
using vigie::advisory::DeviceFacts;
using vigie::advisory::Matcher;
using vigie::advisory::Verdict;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The world the data is drawn from: vendors, their products, each product's versions.
struct Product {
  std::string vendor;
  std::string name;
  std::string part_number;
  bool vendor_scheme = false;         // Siemens-style VB23P, else dotted numbers
  std::vector<std::string> versions;  // oldest first
};

std::string vendor_version(int i) {
  // VA10A, VA10B, ... VA12Z, VB10A...: V, major letter, two digits, revision letter.
  return fmt::format("V{}{}{}", static_cast<char>('A' + (i / 78) % 26), 10 + (i / 26) % 3,
                     static_cast<char>('A' + i % 26));
}

std::vector<Product> make_products(std::mt19937_64& rng) {
  static constexpr const char* kVendors[] = {"Siemens Healthineers",
                                             "Philips",
                                             "GE Healthcare",
                                             "Dräger",
                                             "B. Braun",
                                             "Fresenius Kabi",
                                             "Mindray",
                                             "Canon Medical Systems",
                                             "Fujifilm",
                                             "Carestream",
                                             "Hamilton Medical",
                                             "Olympus",
                                             "Getinge",
                                             "Baxter",
                                             "Medtronic",
                                             "BD",
                                             "Roche",
                                             "Sysmex",
                                             "Abbott",
                                             "Hologic"};
  std::vector<Product> out;
  int serial = 0;
  for (const char* vendor : kVendors) {
    bool siemens_like = std::uniform_int_distribution<int>(0, 2)(rng) == 0;
    for (int p = 0; p < 100; ++p) {
      Product product;
      product.vendor = vendor;
      product.name = fmt::format("{} Model {} {}", std::string(vendor).substr(0, 4), p,
                                 p % 3 == 0 ? "Pro" : (p % 3 == 1 ? "Compact" : "Flow"));
      product.part_number = std::to_string(10000000 + serial++);
      product.vendor_scheme = siemens_like;
      for (int v = 0; v < 40; ++v) {
        product.versions.push_back(siemens_like
                                       ? vendor_version(v * 3)
                                       : fmt::format("{}.{}.{}", 1 + v / 10, v % 10, v % 4));
      }
      out.push_back(std::move(product));
    }
  }
  return out;
}

// One advisory like the vendors' letters: a few products of one vendor, listed affected
// versions with an upgrade target, or a range, sometimes a part number with a serial limit.
json make_advisory(std::mt19937_64& rng, const std::vector<Product>& products, int number) {
  const Product& first = products[rng() % products.size()];
  std::vector<const Product*> named = {&first};
  for (const auto& p : products) {
    if (named.size() >= 1 + rng() % 4) break;
    if (p.vendor == first.vendor && &p != &first && rng() % 25 == 0) named.push_back(&p);
  }
  json branches = json::array();
  json affected = json::array();
  json fixed = json::array();
  json remediations = json::array();
  int id = 0;
  for (const Product* p : named) {
    json versions = json::array();
    size_t fix = 5 + rng() % 30;
    std::string fixed_id = fmt::format("P{}-{}", number, id++);
    json affected_here = json::array();
    int shape = static_cast<int>(rng() % 10);
    if (shape < 6) {
      for (size_t v = fix - 1 - rng() % 5; v < fix; ++v) {
        std::string pid = fmt::format("P{}-{}", number, id++);
        versions.push_back(
            {{"category", "product_version"},
             {"name", p->versions[v]},
             {"product", {{"name", p->name + " " + p->versions[v]}, {"product_id", pid}}}});
        affected_here.push_back(pid);
      }
    } else {
      std::string pid = fmt::format("P{}-{}", number, id++);
      std::string range = p->vendor_scheme ? "vers:vendor/<" + p->versions[fix]
                                           : "vers:generic/>=1.0.0|<" + p->versions[fix];
      json product = {{"name", p->name + " before " + p->versions[fix]}, {"product_id", pid}};
      if (shape == 9) {
        product["product_identification_helper"] = {
            {"model_numbers", {p->part_number}},
            {"serial_numbers", {"?", "??", "???", "????", "1????", "2????"}}};
      }
      versions.push_back(
          {{"category", "product_version_range"}, {"name", range}, {"product", product}});
      affected_here.push_back(pid);
    }
    versions.push_back(
        {{"category", "product_version"},
         {"name", p->versions[fix]},
         {"product", {{"name", p->name + " " + p->versions[fix]}, {"product_id", fixed_id}}}});
    branches.push_back({{"category", "product_name"}, {"name", p->name}, {"branches", versions}});
    for (const auto& a : affected_here) affected.push_back(a);
    fixed.push_back(fixed_id);
    remediations.push_back({{"category", "vendor_fix"},
                            {"details", "Upgrade to " + p->versions[fix] + "."},
                            {"product_ids", affected_here}});
  }
  remediations.push_back({{"category", "mitigation"},
                          {"details", "Block ports 139/445/3389 at the firewall of the segment."},
                          {"product_ids", affected}});
  std::string tracking = fmt::format("BENCH-{:05}", number);
  return {
      {"document",
       {{"category", "csaf_security_advisory"},
        {"csaf_version", "2.0"},
        {"lang", "en"},
        {"title", tracking + " " + first.name},
        {"notes",
         {{{"category", "summary"},
           {"title", "Summary"},
           {"text", "Remote code execution through SMBv1 in the embedded Windows of " + first.name +
                        "."}}}},
        {"publisher",
         {{"category", "vendor"}, {"name", first.vendor}, {"namespace", "https://vendor.example"}}},
        {"tracking",
         {{"id", tracking},
          {"status", "final"},
          {"version", "1"},
          {"initial_release_date", "2024-01-01T00:00:00.000Z"},
          {"current_release_date", "2024-01-01T00:00:00.000Z"},
          {"revision_history",
           {{{"date", "2024-01-01T00:00:00.000Z"}, {"number", "1"}, {"summary", "Initial."}}}}}}}},
      {"product_tree",
       {{"branches", {{{"category", "vendor"}, {"name", first.vendor}, {"branches", branches}}}}}},
      {"vulnerabilities",
       {{{"cve", fmt::format("CVE-2024-{:05}", number)},
         {"notes",
          {{{"category", "description"}, {"text", "An attacker on the network can run code."}}}},
         {"product_status", {{"known_affected", affected}, {"fixed", fixed}}},
         {"remediations", remediations},
         {"scores",
          {{{"products", affected},
            {"cvss_v3",
             {{"version", "3.1"},
              {"vectorString", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H"},
              {"baseScore", 8.1},
              {"baseSeverity", "HIGH"}}}}}}}}}};
}

std::vector<DeviceFacts> make_devices(std::mt19937_64& rng, const std::vector<Product>& products,
                                      size_t count) {
  std::map<std::string, std::string> vendor_norm;
  std::vector<std::string> product_norm;
  for (const auto& p : products) {
    auto [it, added] = vendor_norm.try_emplace(p.vendor);
    if (added) it->second = vigie::inventory::normalize_vendor(p.vendor);
    product_norm.push_back(vigie::inventory::normalize_product(it->second, p.name));
  }
  std::vector<DeviceFacts> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    size_t k = rng() % products.size();
    const Product& p = products[k];
    DeviceFacts d;
    d.id = static_cast<std::int64_t>(i + 1);
    d.vendor = p.vendor;
    d.vendor_norm = vendor_norm[p.vendor];
    d.product = p.name;
    d.product_norm = product_norm[k];
    if (rng() % 2 == 0) d.part_number = p.part_number;
    d.serial_number = std::to_string(rng() % 100000);
    if (rng() % 50 != 0) d.software_version = p.versions[rng() % p.versions.size()];
    out.push_back(std::move(d));
  }
  return out;
}

int write_large(const std::string& file, size_t products) {
  std::mt19937_64 rng(42);
  auto world = make_products(rng);
  // Many advisories' product trees merged into one document.
  json doc = make_advisory(rng, world, 0);
  json& vendor_branches = doc["product_tree"]["branches"];
  json& status = doc["vulnerabilities"][0]["product_status"];
  for (int n = 1; vendor_branches.size() < products; ++n) {
    json more = make_advisory(rng, world, n);
    for (auto& b : more["product_tree"]["branches"]) vendor_branches.push_back(b);
    for (auto& id : more["vulnerabilities"][0]["product_status"]["known_affected"]) {
      status["known_affected"].push_back(id);
    }
    for (auto& id : more["vulnerabilities"][0]["product_status"]["fixed"])
      status["fixed"].push_back(id);
  }
  doc["vulnerabilities"][0].erase("remediations");
  doc["vulnerabilities"][0].erase("scores");
  std::ofstream(file) << doc.dump(2);
  return 0;
}

// Only what the peers do: read the file into a model, nothing checked beyond it.
int read_only(const std::string& file) {
  auto text = vigie::core::read_file(file);
  if (!text) return 2;
  auto doc = vigie::advisory::read_csaf(*text, file);
  return doc ? 0 : 1;
}

int parse(const std::string& file) {
  auto text = vigie::core::read_file(file);
  if (!text) {
    std::cerr << text.error().to_string() << "\n";
    return 2;
  }
  double mb = static_cast<double>(text->size()) / 1e6;
  auto start = Clock::now();
  auto doc = vigie::advisory::read_csaf(*text, file);
  double read_s = seconds_since(start);
  if (!doc) {
    std::cerr << doc.error().to_string() << "\n";
    return 1;
  }
  start = Clock::now();
  auto report = vigie::advisory::validate_csaf(*text);
  double validate_s = seconds_since(start);
  std::cout << fmt::format("read {:.1f} MB, {} products: {:.3f} s ({:.0f} MB/s)\n", mb,
                           doc->products.size(), read_s, mb / read_s);
  std::cout << fmt::format("validate (schema + 6.1 tests): {:.3f} s ({:.0f} MB/s), {} issues\n",
                           validate_s, mb / validate_s, report.issues.size());
  return 0;
}

int match(size_t device_count, size_t advisory_count, size_t threads) {
  std::mt19937_64 rng(7);
  auto world = make_products(rng);
  std::vector<std::string> texts;
  size_t bytes = 0;
  for (size_t n = 0; n < advisory_count; ++n) {
    texts.push_back(make_advisory(rng, world, static_cast<int>(n)).dump());
    bytes += texts.back().size();
  }
  auto devices = make_devices(rng, world, device_count);

  auto start = Clock::now();
  std::vector<vigie::advisory::CsafDocument> docs;
  docs.reserve(texts.size());
  for (const auto& t : texts) docs.push_back(*vigie::advisory::read_csaf(t, "bench"));
  double parse_s = seconds_since(start);
  start = Clock::now();
  Matcher matcher;
  for (auto& d : docs) matcher.add(std::move(d));
  double index_s = seconds_since(start);

  // The store hands devices over by product (assess_all orders them so): consecutive devices
  // meet the same rules, which stay in cache. Each thread takes a contiguous share.
  std::sort(devices.begin(), devices.end(), [](const DeviceFacts& a, const DeviceFacts& b) {
    return std::tie(a.vendor_norm, a.product_norm, a.id) <
           std::tie(b.vendor_norm, b.product_norm, b.id);
  });
  start = Clock::now();
  std::vector<std::array<size_t, 5>> counts(threads, std::array<size_t, 5>{});
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::vector<Assessment> out;
      size_t share = (devices.size() + threads - 1) / threads;
      for (size_t i = t * share; i < std::min(devices.size(), (t + 1) * share); ++i) {
        out.clear();
        matcher.assess(devices[i], out);
        for (const auto& a : out) ++counts[t][static_cast<size_t>(a.verdict)];
      }
    });
  }
  for (auto& th : pool) th.join();
  double full_s = seconds_since(start);
  std::array<size_t, 5> total{};
  for (const auto& c : counts) {
    for (size_t v = 0; v < 5; ++v) total[v] += c[v];
  }

  // One new advisory: parse, index, then only the devices it can touch, found the way the
  // store finds them (devices by product, by part number) and assessed against it alone.
  std::map<std::pair<std::string, std::string>, std::vector<const DeviceFacts*>> by_product;
  std::map<std::pair<std::string, std::string>, std::vector<const DeviceFacts*>> by_part;
  for (const auto& d : devices) {
    by_product[{d.vendor_norm, d.product_norm}].push_back(&d);
    if (!d.part_number.empty()) by_part[{d.vendor_norm, d.part_number}].push_back(&d);
  }
  std::string fresh = make_advisory(rng, world, static_cast<int>(advisory_count)).dump();
  start = Clock::now();
  size_t index = matcher.add(*vigie::advisory::read_csaf(fresh, "bench"));
  std::vector<const DeviceFacts*> touched;
  for (const auto& vendor : matcher.vendors(index)) {
    for (auto it = by_product.lower_bound({vendor, ""});
         it != by_product.end() && it->first.first == vendor; ++it) {
      if (!matcher.names_product(index, vendor, it->first.second)) continue;
      touched.insert(touched.end(), it->second.begin(), it->second.end());
    }
  }
  for (const auto& part : matcher.part_numbers(index)) {
    auto it = by_part.find(part);
    if (it != by_part.end()) touched.insert(touched.end(), it->second.begin(), it->second.end());
  }
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  std::vector<Assessment> out;
  for (const DeviceFacts* d : touched) matcher.assess(*d, index, out);
  double one_s = seconds_since(start);
  size_t looked_at = touched.size();

  std::cout << fmt::format(
      "advisories: {} ({:.1f} MB of CSAF), parsed in {:.3f} s ({:.0f} MB/s), "
      "indexed in {:.3f} s\n",
      advisory_count, static_cast<double>(bytes) / 1e6, parse_s,
      static_cast<double>(bytes) / 1e6 / parse_s, index_s);
  std::cout << fmt::format(
      "full assessment: {} devices x {} advisories on {} threads: {:.3f} s ({} verdicts: {} "
      "affected, {} unknown, {} fixed, {} not affected)\n",
      device_count, advisory_count, threads, full_s,
      total[0] + total[1] + total[2] + total[3] + total[4], total[0], total[2], total[3], total[4]);
  std::cout << fmt::format(
      "one new advisory: {:.2f} ms (parse, index, {} devices it names, {} verdicts)\n",
      one_s * 1000, looked_at, out.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 3 && args[0] == "write") return write_large(args[1], std::stoul(args[2]));
    if (args.size() == 2 && args[0] == "parse") return parse(args[1]);
    if (args.size() == 2 && args[0] == "read") return read_only(args[1]);
    if ((args.size() == 3 || args.size() == 4) && args[0] == "match") {
      size_t threads = args.size() == 4 ? std::stoul(args[3]) : std::thread::hardware_concurrency();
      return match(std::stoul(args[1]), std::stoul(args[2]), std::max<size_t>(1, threads));
    }
  } catch (const std::exception& e) {
    std::cerr << "csaf_bench: " << e.what() << "\n";
    return 2;
  }
  std::cerr << "usage: csaf_bench write FILE PRODUCTS | parse FILE | read FILE | match DEVICES "
               "ADVISORIES "
               "[THREADS]\n";
  return 2;
}
