// SPDX-License-Identifier: Apache-2.0
#include "data/catalogue.h"

#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/strings.h"
#include "common/time_format.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::data {
namespace {

using ::testing::HasSubstr;

TEST(CatalogueTest, FindsZonesByIdAndCloudRegion) {
  const ZoneInfo* by_id = find_zone("de");
  const ZoneInfo* by_region = find_zone("eu-central-1");

  ASSERT_NE(nullptr, by_id);
  EXPECT_EQ("DE", by_id->id);
  EXPECT_EQ(by_id, by_region);
  EXPECT_EQ(nullptr, find_zone("XX-NOWHERE"));
}

TEST(CatalogueTest, HoldsAtLeastSixtyZonesWithUniqueIds) {
  std::set<std::string> ids;
  for (const auto& zone : zones()) {
    EXPECT_TRUE(ids.insert(to_lower(zone.id)).second)
        << "duplicate zone id " << zone.id;
  }

  EXPECT_GE(zones().size(), 60u);
}

TEST(CatalogueTest, EveryZoneHasAValidIanaTimeZone) {
  for (const auto& zone : zones()) {
    EXPECT_TRUE(is_valid_time_zone(zone.time_zone))
        << zone.id << ": " << zone.time_zone;
  }
}

TEST(CatalogueTest, EveryZoneHasASaneAnnualIntensityWithItsSource) {
  for (const auto& zone : zones()) {
    // Iceland/Quebec hydro is about 1 g/kWh; the dirtiest grids about 1000.
    EXPECT_GT(zone.annual_gco2_per_kwh, 0) << zone.id;
    EXPECT_LT(zone.annual_gco2_per_kwh, 1100) << zone.id;
    EXPECT_THAT(zone.annual_basis, ::testing::AnyOf("lifecycle", "direct"))
        << zone.id;
    EXPECT_GE(zone.annual_year, 2015) << zone.id;
    EXPECT_LE(zone.annual_year, 2026) << zone.id;
    EXPECT_FALSE(zone.annual_source.empty()) << zone.id;
    EXPECT_FALSE(zone.name.empty()) << zone.id;
  }
}

TEST(CatalogueTest, HoldsEveryZoneTheDocsPromise) {
  const char* required[] = {
      "DE",         "FR",           "GB",           "IE",
      "NL",         "BE",           "SE-SE3",       "NO-NO1",
      "FI",         "DK-DK1",       "DK-DK2",       "PL",
      "ES",         "PT",           "IT-NO",        "CH",
      "AT",         "CZ",           "US-CAL-CISO",  "US-NW-BPAT",
      "US-NW-PACW", "US-MIDA-PJM",  "US-MIDW-MISO", "US-TEX-ERCO",
      "US-NY-NYIS", "US-NE-ISNE",   "US-CAR-DUK",   "US-SE-SOCO",
      "US-SW-AZPS", "US-CENT-SWPP", "US-NW-NEVP",   "CA-ON",
      "CA-QC",      "BR-CS",        "CL-SEN",       "IN-WE",
      "IN-SO",      "JP-TK",        "JP-KN",        "KR",
      "SG",         "AU-NSW",       "AU-VIC",       "NZ",
      "ZA",         "AE",           "IL",           "HK",
      "TW",         "ID",           "MY-WM",        "MX"};
  for (const char* id : required) {
    const ZoneInfo* zone = find_zone(id);

    ASSERT_NE(nullptr, zone) << id;
    EXPECT_EQ(id, zone->id);
  }
}

TEST(CatalogueTest, EachCloudRegionBelongsToOneZone) {
  std::set<std::string> seen;
  for (const auto& zone : zones()) {
    for (const auto& region : zone.cloud_regions) {
      EXPECT_THAT(region.provider, ::testing::AnyOf("aws", "gcp", "azure"));
      EXPECT_TRUE(seen.insert(region.provider + "/" + region.region).second)
          << region.provider << " " << region.region << " is listed twice";
    }
  }
}

TEST(CatalogueTest, MapsMainCloudRegionsToTheirGrid) {
  struct Case {
    const char* region;
    const char* zone;
  };
  const Case cases[] = {{"us-east-1", "US-MIDA-PJM"},
                        {"europe-west4", "NL"},
                        {"westeurope", "NL"},
                        {"eu-north-1", "SE-SE3"},
                        {"us-central1", "US-MIDW-MISO"},
                        {"ap-southeast-2", "AU-NSW"},
                        {"northamerica-northeast1", "CA-QC"}};
  for (const auto& c : cases) {
    const ZoneInfo* zone = find_zone(c.region);

    ASSERT_NE(nullptr, zone) << c.region;
    EXPECT_EQ(c.zone, zone->id) << c.region;
  }
}

// The zones the shared reference series cover carry the mean of that series:
// recompute it from the hourly export and compare.
TEST(CatalogueTest, SharedSeriesZonesMatchTheMeanOfTheirHourlyExport) {
  LOWCARB_REQUIRE_SHARED_DATA();
  const char* files[][2] = {
      {"GB", "GB"},         {"DE", "DE-LU"},
      {"SG", "SG"},         {"CA-ON", "CA-ON"},
      {"AU-NSW", "AU-NSW"}, {"JP-TK", "JP-TK"},
      {"IN-WE", "IN-WE"},   {"US-CAL-CISO", "US-CAL-CISO"}};
  for (const auto& [zone_id, file_zone] : files) {
    auto text = testing::read_file(
        testing::shared_data(std::string("intensity/electricitymaps/") +
                             file_zone + "_2022_hourly.csv"));
    double sum = 0;
    int count = 0;
    bool header = true;
    for (const auto& line : split(text, '\n')) {
      if (header || trim(line).empty()) {
        header = false;
        continue;
      }
      auto fields = split(line, ',');
      ASSERT_GT(fields.size(), 5u);
      auto lca = parse_double(fields[5]);
      if (lca) {
        sum += *lca;
        ++count;
      }
    }
    const ZoneInfo* zone = find_zone(zone_id);

    ASSERT_GT(count, 8000) << file_zone;
    ASSERT_NE(nullptr, zone);
    EXPECT_EQ("lifecycle", zone->annual_basis);
    EXPECT_EQ(2022, zone->annual_year);
    EXPECT_NEAR(sum / count, zone->annual_gco2_per_kwh, 1.0) << zone_id;
  }
}

TEST(CatalogueTest, FindsHardwareIgnoringSpelling) {
  const HardwareInfo* gpu = find_hardware("a100 80gb sxm");

  ASSERT_NE(nullptr, gpu);
  EXPECT_EQ("gpu", gpu->kind);
  EXPECT_EQ(400, gpu->tdp_watts);
}

TEST(CatalogueTest, HoldsEveryRequiredDevice) {
  const char* gpus[] = {"V100-PCIE",
                        "V100-SXM2",
                        "A100-40GB-PCIE",
                        "A100-40GB-SXM",
                        "A100-80GB-PCIE",
                        "A100-80GB-SXM",
                        "H100-PCIE",
                        "H100-SXM",
                        "H200",
                        "L4",
                        "L40S",
                        "T4",
                        "A10",
                        "A40",
                        "MI250",
                        "MI250X",
                        "MI300X",
                        "RTX-4090",
                        "RTX-3090"};
  for (const char* name : gpus) {
    const HardwareInfo* info = find_hardware(name);

    ASSERT_NE(nullptr, info) << name;
    EXPECT_EQ("gpu", info->kind) << name;
    EXPECT_EQ(0, info->cores) << name;
  }
  const char* cpus[] = {"EPYC-7763", "EPYC-9654", "XEON-PLATINUM-8380",
                        "XEON-GOLD-6248"};
  for (const char* name : cpus) {
    const HardwareInfo* info = find_hardware(name);

    ASSERT_NE(nullptr, info) << name;
    EXPECT_EQ("cpu", info->kind) << name;
    EXPECT_GT(info->cores, 0) << name;
  }
}

TEST(CatalogueTest, HardwareRowsAreUniqueSaneAndSourced) {
  std::set<std::string> names;
  for (const auto& info : hardware()) {
    std::string key;
    for (char c : to_lower(info.name)) {
      if (c != '-' && c != ' ' && c != '_') {
        key += c;
      }
    }
    EXPECT_TRUE(names.insert(key).second) << "duplicate " << info.name;
    EXPECT_GE(info.tdp_watts, 10) << info.name;
    EXPECT_LE(info.tdp_watts, 1500) << info.name;
    EXPECT_FALSE(info.source.empty()) << info.name;
    EXPECT_THAT(info.source, ::testing::ContainsRegex("(19|20)[0-9][0-9]"))
        << info.name << ": source names no year";
  }
}

TEST(CatalogueTest, KnowsDatasheetTdpsOfCommonParts) {
  EXPECT_EQ(700, find_hardware("H100-SXM")->tdp_watts);
  EXPECT_EQ(70, find_hardware("t4")->tdp_watts);
  EXPECT_EQ(280, find_hardware("epyc 7763")->tdp_watts);
  EXPECT_EQ(64, find_hardware("epyc 7763")->cores);
}

TEST(CatalogueTest, DefaultsComeFromTheTableNotFromCode) {
  EXPECT_EQ(12, default_watts_per_core());
  EXPECT_DOUBLE_EQ(0.3725, default_memory_watts_per_gb());
  EXPECT_EQ(nullptr, find_hardware("default-core"));
}

TEST(ParseZonesCsvTest, RejectsARowWithTheWrongNumberOfFieldsNamingItsLine) {
  const std::string text =
      "# comment\n"
      "zone_id,name,time_zone,g,basis,year,source,aws,gcp,azure\n"
      "DE,Germany,Europe/Berlin,400,lifecycle,2023,src,,,\n"
      "FR,France,Europe/Paris,56,lifecycle,2023,src\n";

  auto parsed = parse_zones_csv(text, "zones.csv");

  ASSERT_FALSE(parsed);
  EXPECT_EQ(ErrorCode::kInvalidArgument, parsed.error().code);
  EXPECT_EQ("zones.csv:4: expected 10 comma-separated fields, found 7",
            parsed.error().message);
}

TEST(ParseZonesCsvTest, RejectsAnUnknownBasis) {
  auto parsed = parse_zones_csv(
      "h\nDE,Germany,Europe/Berlin,400,average,2023,src,,,\n", "z.csv");

  ASSERT_FALSE(parsed);
  EXPECT_THAT(parsed.error().message, HasSubstr("z.csv:2: basis"));
}

TEST(ParseZonesCsvTest, SplitsCloudRegionsPerProvider) {
  auto parsed = parse_zones_csv(
      "h\nDE,Germany,Europe/Berlin,400,direct,2023,src,a1,g1;g2,\n", "z.csv");

  ASSERT_OK(parsed);
  ASSERT_EQ(1u, parsed->size());
  ASSERT_EQ(3u, (*parsed)[0].cloud_regions.size());
  EXPECT_EQ("aws", (*parsed)[0].cloud_regions[0].provider);
  EXPECT_EQ("gcp", (*parsed)[0].cloud_regions[2].provider);
  EXPECT_EQ("g2", (*parsed)[0].cloud_regions[2].region);
}

TEST(ParseHardwareCsvTest, RejectsANonPositiveTdp) {
  auto parsed =
      parse_hardware_csv("h\nT4,gpu,70,0,x\nBAD,gpu,-5,0,x\n", "hw.csv");

  ASSERT_FALSE(parsed);
  EXPECT_EQ("hw.csv:3: tdp_watts: expected a positive number, found \"-5\"",
            parsed.error().message);
}

TEST(ParseHardwareCsvTest, RejectsAnUnknownKind) {
  auto parsed = parse_hardware_csv("h\nX,tpu,70,0,x\n", "hw.csv");

  ASSERT_FALSE(parsed);
  EXPECT_THAT(parsed.error().message, HasSubstr("hw.csv:2: kind"));
}

TEST(CatalogueTest, EmbeddedTablesParseCleanly) {
  EXPECT_OK(parse_zones_csv(zones_csv(), "zones.csv"));
  EXPECT_OK(parse_hardware_csv(hardware_csv(), "hardware.csv"));
}

}  // namespace
}  // namespace lowcarb::data
