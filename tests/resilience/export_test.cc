// Disaster-recovery exports: the archive round-trips and refuses every kind of tampering (one
// byte flipped anywhere, truncation, a swapped file, a wrong signer, a PC it was not made for);
// the data gathered from both store back-ends; procedures, vendor contacts and strategic PCs
// with their audit entries; generations, status, alerts and the schedule.
#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "test_support.h"
#include "vigie/advisory/findings.h"
#include "vigie/audit/audit.h"
#include "vigie/core/file.h"
#include "vigie/core/ids.h"
#include "vigie/demo_data.h"
#include "vigie/inventory/import.h"
#include "vigie/resilience/archive.h"
#include "vigie/resilience/dr_export.h"
#include "vigie/store/store.h"

namespace vigie::resilience {
namespace {

using vigie::testing::TempDir;
using vigie::testing::write_file;

ArchiveMeta meta() { return {"20261126T010203.000Z", "2026-11-26T01:02:03Z", "CHU Test", "0.1.0"}; }

std::vector<ArchiveFile> sample_files() {
  return {{"index.html", "text/html", "<!DOCTYPE html><p>Philips Essenta, salle 2</p>"},
          {"csv/devices.csv", "text/csv", "id,vendor\r\n1,Philips\r\n2,Siemens\r\n"},
          {"procedures/paper.txt", "text/plain", "Tracer sur papier: entree zone sale..."}};
}

class ArchiveTest : public ::testing::Test {
 protected:
  SigningKeyPair signer_ = generate_signing_key();
  BoxKeyPair pc1_ = generate_box_key();
  BoxKeyPair pc2_ = generate_box_key();
  std::string archive_ = *build_archive(meta(), sample_files(), signer_,
                                        {{"pc1", pc1_.public_key}, {"pc2", pc2_.public_key}});

  Result<VerifiedArchive> verify(std::string_view bytes, const BoxKeyPair* host) {
    return verify_archive(bytes, signer_.public_key, host, "test.vdr");
  }
};

TEST_F(ArchiveTest, RoundTripsForEveryRecipient) {
  for (const BoxKeyPair* host : {&pc1_, &pc2_}) {
    auto v = verify(archive_, host);
    ASSERT_TRUE(v) << v.error().to_string();
    EXPECT_TRUE(v->decrypted);
    EXPECT_EQ(v->meta.generation, meta().generation);
    EXPECT_EQ(v->meta.site, "CHU Test");
    EXPECT_EQ(v->signer_key_id, signer_.public_key.key_id());
    ASSERT_EQ(v->files.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(v->files[i].path, sample_files()[i].path);
      EXPECT_EQ(v->files[i].data, sample_files()[i].data);
      EXPECT_EQ(v->manifest[i].sha256, core::sha256_hex(sample_files()[i].data));
    }
  }
  // Without a PC's key: the signature is checked, the content is not.
  auto outer = verify(archive_, nullptr);
  ASSERT_TRUE(outer) << outer.error().to_string();
  EXPECT_FALSE(outer->decrypted);
  EXPECT_EQ(outer->recipients.size(), 2u);
}

TEST_F(ArchiveTest, ContentIsNotReadableInTheArchive) {
  EXPECT_EQ(archive_.find("Philips"), std::string::npos);
  EXPECT_EQ(archive_.find("Tracer sur papier"), std::string::npos);
}

TEST_F(ArchiveTest, LargeContentSpansFramesAndRoundTrips) {
  std::string big(size_t{300} * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) % 251);
  auto archive = build_archive(meta(), {{"csv/big.csv", "text/csv", big}}, signer_,
                               {{"pc1", pc1_.public_key}});
  ASSERT_TRUE(archive);
  auto v = verify(*archive, &pc1_);
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_EQ(v->files.at(0).data, big);
}

TEST_F(ArchiveTest, EveryFlippedByteIsRefused) {
  size_t refused_outer = 0;
  for (size_t i = 0; i < archive_.size(); ++i) {
    std::string bad = archive_;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto with_key = verify(bad, &pc1_);
    ASSERT_FALSE(with_key) << "byte " << i << " flipped was accepted";
    EXPECT_FALSE(with_key.error().message.empty());
    if (!verify(bad, nullptr)) ++refused_outer;
  }
  // The outer signature alone catches every flip too (no key needed to detect tampering).
  EXPECT_EQ(refused_outer, archive_.size());
}

TEST_F(ArchiveTest, TruncatedOrExtendedIsRefused) {
  for (size_t length = 0; length < archive_.size(); length += 7) {
    auto v = verify(std::string_view(archive_).substr(0, length), &pc1_);
    ASSERT_FALSE(v) << "truncated to " << length << " accepted";
  }
  auto cut = verify(std::string_view(archive_).substr(0, archive_.size() - 1), &pc1_);
  ASSERT_FALSE(cut);
  auto longer = verify(archive_ + "x", &pc1_);
  ASSERT_FALSE(longer);
}

TEST_F(ArchiveTest, WrongSignerIsRefusedByName) {
  SigningKeyPair other = generate_signing_key();
  auto forged = build_archive(meta(), sample_files(), other, {{"pc1", pc1_.public_key}});
  ASSERT_TRUE(forged);
  auto v = verify(*forged, &pc1_);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("wrong signer"), std::string::npos) << v.error().message;
  EXPECT_NE(v.error().message.find(other.public_key.key_id()), std::string::npos);
}

TEST_F(ArchiveTest, SwappedFileIsRefusedByTheManifest) {
  // A recipient holds the content key: it could re-encrypt a payload whose file was swapped.
  // With a valid outer signature (the signer's key stolen for the outer layer only), the signed
  // manifest still names the original SHA-256.
  auto files = sample_files();
  const std::string manifest = manifest_json(meta(), signer_.public_key.key_id(), files);
  files[1].data = "id,vendor\r\n1,Philips\r\n2,Evil Co\r\n";
  files[1].data.resize(sample_files()[1].data.size(), ' ');
  auto sealed =
      seal_archive(meta(), payload(manifest, signer_, files), signer_, {{"pc1", pc1_.public_key}});
  ASSERT_TRUE(sealed);
  auto v = verify(*sealed, &pc1_);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("csv/devices.csv: SHA-256 does not match"), std::string::npos)
      << v.error().message;
}

TEST_F(ArchiveTest, ManifestSignedByAnotherKeyIsRefused) {
  SigningKeyPair other = generate_signing_key();
  auto files = sample_files();
  const std::string manifest = manifest_json(meta(), signer_.public_key.key_id(), files);
  auto sealed =
      seal_archive(meta(), payload(manifest, other, files), signer_, {{"pc1", pc1_.public_key}});
  ASSERT_TRUE(sealed);
  auto v = verify(*sealed, &pc1_);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("manifest's signature"), std::string::npos);
}

TEST_F(ArchiveTest, ManifestDisagreeingWithTheHeaderIsRefused) {
  ArchiveMeta older = meta();
  older.generation = "20250101T000000.000Z";
  auto files = sample_files();
  const std::string manifest = manifest_json(older, signer_.public_key.key_id(), files);
  auto sealed =
      seal_archive(meta(), payload(manifest, signer_, files), signer_, {{"pc1", pc1_.public_key}});
  ASSERT_TRUE(sealed);
  auto v = verify(*sealed, &pc1_);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("generation"), std::string::npos) << v.error().message;
}

TEST_F(ArchiveTest, UnreadableVigieVersionIsRefused) {
  ArchiveMeta future = meta();
  future.vigie_version = "7.0.0";
  auto archive = build_archive(future, sample_files(), signer_, {{"pc1", pc1_.public_key}});
  ASSERT_TRUE(archive);
  auto v = verify(*archive, &pc1_);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("7.0.0"), std::string::npos);
}

TEST_F(ArchiveTest, ArchiveRenamedAsAnotherGenerationIsRefused) {
  auto right = verify_archive(archive_, signer_.public_key, &pc1_,
                              "/inbox/vigie-dr-20261126T010203.000Z.vdr");
  ASSERT_TRUE(right) << right.error().to_string();
  auto renamed = verify_archive(archive_, signer_.public_key, &pc1_,
                                "/inbox/vigie-dr-20261127T060000.000Z.vdr");
  ASSERT_FALSE(renamed);
  EXPECT_NE(renamed.error().message.find("20261126T010203.000Z"), std::string::npos);
}

TEST_F(ArchiveTest, ArchiveForAnotherPcIsRefused) {
  BoxKeyPair stranger = generate_box_key();
  auto v = verify(archive_, &stranger);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("not encrypted for this host"), std::string::npos);
}

TEST_F(ArchiveTest, DroppedFinalFrameIsRefusedEvenWhenReSigned) {
  std::string big(size_t{200} * 1024, 'x');
  auto archive =
      build_archive(meta(), {{"a.csv", "text/csv", big}}, signer_, {{"pc1", pc1_.public_key}});
  ASSERT_TRUE(archive);
  // Drop the last frame (its 4-byte length and ciphertext), then sign again with the real key:
  // only the stream's final tag can tell.
  std::string body = archive->substr(0, archive->size() - 64);
  const size_t header =
      12 + ((static_cast<unsigned char>(body[8]) << 24) |
            (static_cast<unsigned char>(body[9]) << 16) |
            (static_cast<unsigned char>(body[10]) << 8) | static_cast<unsigned char>(body[11]));
  size_t at = header;
  size_t last = at;
  while (at < body.size()) {
    last = at;
    const auto* p = reinterpret_cast<const unsigned char*>(body.data() + at);
    at += 4 + ((size_t{p[0]} << 24) | (size_t{p[1]} << 16) | (size_t{p[2]} << 8) | p[3]);
  }
  body.resize(last);
  ASSERT_EQ(body.substr(0, 8), "VIGIEDR1");
  std::array<unsigned char, crypto_sign_BYTES> sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(body.data()),
                       body.size(), signer_.secret.bytes().data());
  const std::string resigned =
      body + std::string(reinterpret_cast<const char*>(sig.data()), sig.size());
  auto outer = verify(resigned, nullptr);
  ASSERT_TRUE(outer) << outer.error().to_string();
  auto v = verify(resigned, &pc1_);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("final frame is missing"), std::string::npos)
      << v.error().message;
}

TEST(ArchiveKeys, KeyFilesRoundTripAndRefuseMisuse) {
  TempDir dir;
  SigningKeyPair s = generate_signing_key();
  ASSERT_TRUE(write_secret_key_file(dir / "signing.key", key_text(s)));
  struct stat st {};
  ASSERT_EQ(::stat((dir / "signing.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto text = read_secret_key_file(dir / "signing.key");
  ASSERT_TRUE(text);
  auto back = parse_signing_secret(*text, "signing.key");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->public_key.bytes, s.public_key.bytes);
  // Never overwritten.
  EXPECT_EQ(write_secret_key_file(dir / "signing.key", key_text(s)).error().code,
            core::ErrorCode::kConflict);
  // Readable by others: refused.
  ::chmod((dir / "signing.key").c_str(), 0644);
  EXPECT_FALSE(read_secret_key_file(dir / "signing.key"));
  // A host public key where a signing key is expected: refused by name.
  BoxKeyPair b = generate_box_key();
  auto wrong = parse_signing_public(key_text(b.public_key), "k");
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("vigie-export-host-public-key"), std::string::npos);
  auto box = parse_box_secret(key_text(b), "k");
  ASSERT_TRUE(box);
  EXPECT_EQ(box->public_key.bytes, b.public_key.bytes);
  EXPECT_FALSE(parse_box_public("vigie-export-host-public-key:abcd", "k"));
}

// ---- with a store, on both back-ends ----------------------------------------------------

const core::TimePoint kStart = *core::parse_utc("2026-11-26T01:00:00Z");

class ExportStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = vigie::testing::open_fresh_store(GetParam(), dir_);
    ASSERT_NE(store_, nullptr);
    home_ = dir_ / "home";
    std::filesystem::create_directories(home_);
    write_file(dir_ / "devices.csv",
               "vendor,product,serial_number,software_version,site,zone,location,owner,ip,status\n"
               "Philips,Essenta DR Compact,E1,,CHU,Imagerie,\"Bât A, salle 2\",Radiologie,"
               "10.1.110.30,in-service\n"
               "Philips,Essenta DR Compact,E2,,CHU,Imagerie,Bât A salle 3,Radiologie,"
               "10.1.110.31,in-service\n"
               "Siemens,Artis zee,S1,VC14B,CHU,Bloc,Salle 4,Bloc opératoire,10.1.120.20,"
               "in-service\n"
               "Dell,OptiPlex,OLD1,,CHU,Bureautique,Stock,IT,10.1.160.9,decommissioned\n");
    auto r =
        inventory::import_devices(*store_, dir_ / "devices.csv", inventory::ImportFormat::kCsv, {});
    ASSERT_TRUE(r.ok()) << r.errors.front().to_string();
    advisory::Actor a{"test", clock_, {}};
    auto imported = advisory::import_advisory(*store_, demo::dxr009_csaf(), "dxr009.json", {}, a);
    ASSERT_TRUE(imported) << imported.error().to_string();
    write_file(dir_ / "contacts.csv",
               "vendor,service,contact_name,phone,email,hours\n"
               "Philips Medical Systems,hotline,,+33 1 23 45 67 89,,24/7\n"
               "Siemens Healthineers,PSIRT,,,productcert@siemens.com,\n");
    ASSERT_TRUE(import_vendor_contacts(*store_, dir_ / "contacts.csv", actor()));
    write_file(dir_ / "paper.txt", "Mode dégradé: tracer chaque charge sur papier.\n");
    ASSERT_TRUE(register_procedure(
        *store_, home_,
        {"sterilisation-paper", "Traçabilité papier", "Stérilisation", dir_ / "paper.txt"},
        actor()));
  }

  ExportActor actor() { return {"alice", "test", clock_}; }

  HostInput host(const std::string& name, const BoxKeyPair& key, int port = 1) {
    return {name, "vigie@127.0.0.1:" + std::to_string(port), "/srv/vigie-dr",
            key_text(key.public_key), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleHostKeyOnly1"};
  }

  std::int64_t audit_count(const std::string& action) {
    std::vector<store::Value> p = {action};
    return store_->query_int("SELECT COUNT(*) FROM audit_log WHERE action = ?", p).value();
  }

  TempDir dir_;
  std::filesystem::path home_;
  core::ManualClock clock_{kStart};
  core::Config config_;
  std::unique_ptr<store::Store> store_;
};

TEST_P(ExportStoreTest, ReadableFilesCarryWhatTheHospitalNeeds) {
  ExportCounts counts;
  auto files = export_files(*store_, home_, meta(), counts);
  ASSERT_TRUE(files) << files.error().to_string();
  EXPECT_EQ(counts.devices, 3);  // the decommissioned PC is left out
  EXPECT_EQ(counts.findings, 2);
  EXPECT_EQ(counts.procedures, 1);
  EXPECT_EQ(counts.contacts, 2);
  std::map<std::string, std::string> by_path;
  for (const auto& f : *files) by_path[f.path] = f.data;
  ASSERT_TRUE(by_path.contains("index.html"));
  const std::string& html = by_path["index.html"];
  EXPECT_NE(html.find("Bât A, salle 2"), std::string::npos);
  EXPECT_NE(html.find("10.1.110.30"), std::string::npos);
  EXPECT_NE(html.find("+33 1 23 45 67 89"), std::string::npos);  // vendor support by device
  EXPECT_NE(html.find("2023-PD-DXR-009"), std::string::npos);
  EXPECT_NE(html.find("procedures/sterilisation-paper.txt"), std::string::npos);
  EXPECT_EQ(html.find("OLD1"), std::string::npos);
  // Self-contained: nothing fetched from anywhere.
  for (const char* external : {"<script", "<link", "src=", "url(", "@import"}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
  EXPECT_EQ(by_path["procedures/sterilisation-paper.txt"],
            "Mode dégradé: tracer chaque charge sur papier.\n");
  const std::string& findings = by_path["csv/findings.csv"];
  EXPECT_NE(findings.find("2023-PD-DXR-009,affected,open,"), std::string::npos) << findings;
  EXPECT_NE(by_path["csv/devices.csv"].find("\"Bât A, salle 2\""), std::string::npos);
  EXPECT_NE(by_path["csv/vendor_contacts.csv"].find("productcert@siemens.com"), std::string::npos);
}

TEST_P(ExportStoreTest, GenerationVerifiesOnThePcAndRotatesTheOutbox) {
  ASSERT_TRUE(create_export_keys(*store_, home_, config_, actor()));
  BoxKeyPair pc = generate_box_key();
  ASSERT_TRUE(add_host(*store_, host("pc-urgences", pc), false, actor()));
  config_.export_generations_kept = 2;
  std::vector<Generation> generations;
  for (int i = 0; i < 3; ++i) {
    auto g = write_generation(*store_, home_, config_, actor());
    ASSERT_TRUE(g) << g.error().to_string();
    generations.push_back(*g);
    clock_.advance(std::chrono::hours(12));
  }
  const auto outbox = export_paths(home_, config_).outbox;
  EXPECT_FALSE(std::filesystem::exists(generations[0].archive));
  EXPECT_TRUE(std::filesystem::exists(generations[1].archive));
  EXPECT_TRUE(std::filesystem::exists(generations[2].archive));
  auto bytes = core::read_file(generations[2].archive);
  ASSERT_TRUE(bytes);
  auto key = load_signing_key(home_, config_);
  ASSERT_TRUE(key);
  auto v = verify_archive(*bytes, key->public_key, &pc, "latest");
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_EQ(v->meta.generation, generations[2].name);
  EXPECT_EQ(v->meta.site, "CHU");
  EXPECT_EQ(audit_count("export.run"), 3);
  // The pull function serves the newest generation, and refuses an altered outbox copy.
  auto latest = latest_archive(*store_, home_, config_);
  ASSERT_TRUE(latest) << latest.error().to_string();
  EXPECT_EQ(latest->generation, generations[2].name);
  EXPECT_EQ(latest->bytes, *bytes);
  std::string altered = *bytes;
  altered[100] ^= 1;
  ASSERT_TRUE(core::write_file_durably(generations[2].archive, altered, 0600));
  EXPECT_FALSE(latest_archive(*store_, home_, config_));
  auto chain = audit::verify(*store_);
  ASSERT_TRUE(chain);
  EXPECT_TRUE(chain->ok) << chain->problem;
}

TEST_P(ExportStoreTest, NoGenerationWithoutKeyOrPc) {
  auto no_key = write_generation(*store_, home_, config_, actor());
  ASSERT_FALSE(no_key);
  EXPECT_EQ(no_key.error().code, core::ErrorCode::kNotFound);
  ASSERT_TRUE(create_export_keys(*store_, home_, config_, actor()));
  auto again = create_export_keys(*store_, home_, config_, actor());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, core::ErrorCode::kConflict);
  auto no_pc = write_generation(*store_, home_, config_, actor());
  ASSERT_FALSE(no_pc);
  EXPECT_NE(no_pc.error().message.find("no strategic PC"), std::string::npos);
  EXPECT_EQ(store_->query_int("SELECT COUNT(*) FROM dr_export_runs").value(), 0);
}

TEST_P(ExportStoreTest, ChangedProcedureDocumentStopsTheExport) {
  auto list = list_procedures(*store_);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  write_file(home_ / list->front().document_path, "altered\n");
  ExportCounts counts;
  auto files = export_files(*store_, home_, meta(), counts);
  ASSERT_FALSE(files);
  EXPECT_NE(files.error().message.find("sterilisation-paper"), std::string::npos);
}

TEST_P(ExportStoreTest, ProceduresReplaceAndRemoveAudited) {
  write_file(dir_ / "v2.pdf", "%PDF-1.4 new version");
  ASSERT_TRUE(register_procedure(
      *store_, home_, {"sterilisation-paper", "Traçabilité papier v2", "", dir_ / "v2.pdf"},
      actor()));
  auto list = list_procedures(*store_);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->front().title, "Traçabilité papier v2");
  EXPECT_EQ(list->front().document_name, "v2.pdf");
  EXPECT_FALSE(register_procedure(*store_, home_, {"Bad Name", "", "", dir_ / "v2.pdf"}, actor()));
  EXPECT_FALSE(register_procedure(*store_, home_, {"x", "", "", dir_ / "missing.pdf"}, actor()));
  ASSERT_TRUE(remove_procedure(*store_, "sterilisation-paper", actor()));
  EXPECT_EQ(remove_procedure(*store_, "sterilisation-paper", actor()).error().code,
            core::ErrorCode::kNotFound);
  EXPECT_EQ(audit_count("export.procedure.register"), 2);
  EXPECT_EQ(audit_count("export.procedure.remove"), 1);
}

TEST_P(ExportStoreTest, ContactImportIsAllOrNothingWithPositions) {
  write_file(dir_ / "more.csv",
             "vendor,service,contact_name,phone,email\n"
             "Philips,hotline,,+33 1 99 99 99 99,\n"  // updates Philips' hotline
             "GE Healthcare,field service,Jean,,jean@ge.example\n");
  auto r = import_vendor_contacts(*store_, dir_ / "more.csv", actor());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->created, 1u);
  EXPECT_EQ(r->updated, 1u);
  auto before = list_vendor_contacts(*store_);
  ASSERT_TRUE(before);
  ASSERT_EQ(before->size(), 3u);

  write_file(dir_ / "bad.csv",
             "vendor,service,phone,email\n"
             "Draeger,hotline,+49 451 882 0,\n"
             "Mindray,hotline,,not-an-address\n");
  auto bad = import_vendor_contacts(*store_, dir_ / "bad.csv", actor());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().where, (dir_ / "bad.csv").string() + ":3 column 'email'");
  write_file(dir_ / "unknown.csv", "vendor,service,fax\nX,y,1\n");
  auto unknown = import_vendor_contacts(*store_, dir_ / "unknown.csv", actor());
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("unknown column 'fax'"), std::string::npos);
  write_file(dir_ / "dup.csv", "vendor,service,phone\nX,hotline,123\nx,Hotline,456\n");
  EXPECT_FALSE(import_vendor_contacts(*store_, dir_ / "dup.csv", actor()));
  auto after = list_vendor_contacts(*store_);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->size(), before->size());  // nothing changed
  EXPECT_EQ(audit_count("export.contacts.import"), 2);
}

TEST_P(ExportStoreTest, HostsAreCheckedAndAudited) {
  BoxKeyPair pc = generate_box_key();
  auto added = add_host(*store_, host("pc-urgences", pc, 2222), false, actor());
  ASSERT_TRUE(added) << added.error().to_string();
  EXPECT_EQ(added->ssh_port, 2222);
  EXPECT_EQ(added->key.key_id(), pc.public_key.key_id());
  EXPECT_EQ(add_host(*store_, host("pc-urgences", pc), false, actor()).error().code,
            core::ErrorCode::kConflict);
  ASSERT_TRUE(add_host(*store_, host("pc-urgences", pc, 22), true, actor()));
  HostInput bad = host("pc2", pc);
  bad.ssh = "no-user-host";
  EXPECT_FALSE(add_host(*store_, bad, false, actor()));
  bad = host("pc2", pc);
  bad.remote_dir = "/srv/../etc";
  EXPECT_FALSE(add_host(*store_, bad, false, actor()));
  bad = host("pc2", pc);
  bad.ssh_host_key = "ssh-dss AAAA";
  EXPECT_FALSE(add_host(*store_, bad, false, actor()));
  bad = host("pc2", pc);
  SigningKeyPair s = generate_signing_key();
  bad.public_key_text = key_text(s.public_key);  // a signing key is not a PC's key
  EXPECT_FALSE(add_host(*store_, bad, false, actor()));
  auto hosts = list_hosts(*store_);
  ASSERT_TRUE(hosts);
  ASSERT_EQ(hosts->size(), 1u);
  EXPECT_EQ(hosts->front().ssh_port, 22);
  ASSERT_TRUE(remove_host(*store_, "pc-urgences", actor()));
  EXPECT_EQ(audit_count("export.host.add"), 2);
  EXPECT_EQ(audit_count("export.host.remove"), 1);
}

TEST_P(ExportStoreTest, UnreachablePcIsReportedThenStale) {
  ASSERT_TRUE(create_export_keys(*store_, home_, config_, actor()));
  BoxKeyPair pc = generate_box_key();
  ASSERT_TRUE(add_host(*store_, host("pc-closed", pc, 1), false, actor()));
  auto before = export_status(*store_, config_, clock_);
  ASSERT_TRUE(before);
  ASSERT_EQ(before->size(), 1u);
  EXPECT_EQ(before->front().state, HostState::kNeverPushed);
  auto report = run_export(*store_, home_, config_, actor());
  ASSERT_TRUE(report) << report.error().to_string();
  ASSERT_EQ(report->pushes.size(), 1u);
  EXPECT_EQ(report->pushes[0].outcome, PushOutcome::kUnreachable) << report->pushes[0].detail;
  EXPECT_FALSE(report->all_ok());
  EXPECT_EQ(audit_count("export.push"), 1);
  auto after = export_status(*store_, config_, clock_);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->front().state, HostState::kStale);  // never succeeded
  EXPECT_EQ(after->front().last_outcome, "unreachable");
  auto alerts = export_alerts(*after, config_);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].host, "pc-closed");
  EXPECT_EQ(alerts[0].kind, "stale");
}

TEST_P(ExportStoreTest, StatusAgesASuccessfulPushIntoStale) {
  ASSERT_TRUE(create_export_keys(*store_, home_, config_, actor()));
  BoxKeyPair pc = generate_box_key();
  ASSERT_TRUE(add_host(*store_, host("pc-bloc", pc), false, actor()));
  auto g = write_generation(*store_, home_, config_, actor());
  ASSERT_TRUE(g);
  // A successful push as run_export records it (the real push is tests/e2e/export_push_test.sh).
  std::vector<store::Value> p = {g->run_id, core::format_utc(clock_.now())};
  ASSERT_TRUE(store_->execute(
      "INSERT INTO dr_export_pushes (id, host_id, run_id, attempted_at, outcome, detail, "
      "generations_kept) VALUES (1, (SELECT id FROM dr_export_hosts), ?, ?, 'ok', 'pushed', 1)",
      p));
  config_.export_max_age_hours = 26;
  clock_.advance(std::chrono::hours(25));
  auto fresh = export_status(*store_, config_, clock_);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->front().state, HostState::kOk);
  EXPECT_EQ(fresh->front().age_seconds, 25 * 3600);
  EXPECT_EQ(fresh->front().last_success_generation, g->name);
  EXPECT_TRUE(export_alerts(*fresh, config_).empty());
  clock_.advance(std::chrono::hours(2));
  auto stale = export_status(*store_, config_, clock_);
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->front().state, HostState::kStale);
  auto alerts = export_alerts(*stale, config_);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_NE(alerts[0].message.find("older than 26 h"), std::string::npos) << alerts[0].message;
}

INSTANTIATE_TEST_SUITE_P(Backends, ExportStoreTest,
                         ::testing::ValuesIn(vigie::testing::backends()));

TEST(ExportSchedule, DueAfterEachScheduledHour) {
  core::Config c;
  c.export_schedule_hours = {6, 18};
  auto at = [](const char* t) { return *core::parse_utc(t); };
  EXPECT_TRUE(export_due(c, std::nullopt, at("2026-11-26T01:00:00Z")));
  // Last run yesterday 18:30, now 05:59: nothing scheduled since.
  EXPECT_FALSE(export_due(c, at("2026-11-25T18:30:00Z"), at("2026-11-26T05:59:00Z")));
  EXPECT_TRUE(export_due(c, at("2026-11-25T18:30:00Z"), at("2026-11-26T06:00:00Z")));
  EXPECT_FALSE(export_due(c, at("2026-11-26T06:00:01Z"), at("2026-11-26T17:00:00Z")));
  // Missed runs (the server was down) are caught up once.
  EXPECT_TRUE(export_due(c, at("2026-11-20T06:00:00Z"), at("2026-11-26T03:00:00Z")));
  c.export_schedule_hours = {};
  EXPECT_FALSE(export_due(c, std::nullopt, at("2026-11-26T06:00:00Z")));
}

TEST(ExportConfig, KeysParseAndRefuseBadValues) {
  auto c = core::parse_config(
      "[export]\ngenerations_kept = 3\nmax_age_hours = 12\nschedule_hours = [2]\nsite = \"CHU\"\n",
      "v.toml");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->export_generations_kept, 3);
  EXPECT_EQ(c->export_max_age_hours, 12);
  EXPECT_EQ(c->export_schedule_hours, std::vector<int>{2});
  EXPECT_EQ(c->export_site, "CHU");
  EXPECT_FALSE(core::parse_config("[export]\nschedule_hours = [24]\n", "v.toml"));
  EXPECT_FALSE(core::parse_config("[export]\ngenerations_kept = 0\n", "v.toml"));
}

}  // namespace
}  // namespace vigie::resilience
