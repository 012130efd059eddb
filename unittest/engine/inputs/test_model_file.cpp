// The .uma reader rejects every kind of damaged or foreign file with a message naming the problem.
#include "model/model_file.h"
#include "model/sha256.h"

#include <cstring>
#include <limits>

#include "engine/core/engine.h"
#include "engine/params/model_config.h"
#include "model_file_editing.h"
#include "test_support.h"

namespace {
uma::EngineOptions cpu() { return {}; }
}  // namespace

TEST(ModelFile, ReadsBundledModel) {
  uma::ModelFile f(uma_test::bundled_model());
  EXPECT_EQ(f.metadata().at("format_version").get<int>(), uma::ModelFile::kFormatVersion);
  EXPECT_TRUE(f.has("backbone.sphere_embedding.weight"));
  EXPECT_EQ(f.sha256().size(), 64u);
  uma::Engine engine(uma_test::bundled_model(), cpu());
  EXPECT_EQ(engine.info().num_layers, 4);
  EXPECT_GT(engine.info().num_parameters, 1000000);
}

TEST(ModelFile, Sha256OfKnownVectors) {
  // FIPS 180-4 examples: "abc" (one block) and the 56-byte message (two padding blocks).
  const std::string abc = "abc";
  EXPECT_EQ(uma::sha256_hex(reinterpret_cast<const unsigned char*>(abc.data()), abc.size()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(uma::sha256_hex(reinterpret_cast<const unsigned char*>(two.data()), two.size()),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(ModelFile, MissingFile) {
  uma_test::expect_error([] { uma::ModelFile f("/nonexistent/dir/model.uma"); }, "cannot open");
}

TEST(ModelFile, TruncatedData) {
  auto raw = uma_test::read_raw(uma_test::bundled_model());
  auto p = uma_test::temp_path("truncated");
  uma_test::write_raw(p, raw, raw.data.size() / 2);
  uma_test::expect_error([&] { uma::ModelFile f(p); }, "truncated or corrupt");
}

TEST(ModelFile, CorruptHeader) {
  auto p = uma_test::temp_path("corrupt");
  std::ofstream o(p, std::ios::binary);
  const std::string junk = "{not json at all";
  uint64_t n = junk.size();
  for (int i = 0; i < 8; ++i) o.put(static_cast<char>((n >> (8 * i)) & 0xff));
  o << junk;
  o.close();
  uma_test::expect_error([&] { uma::ModelFile f(p); }, "corrupt header");
}

TEST(ModelFile, NotAUmaFile) {
  auto raw = uma_test::read_raw(uma_test::bundled_model());
  raw.header["__metadata__"].erase("uma");
  auto p = uma_test::temp_path("foreign");
  uma_test::write_raw(p, raw);
  uma_test::expect_error([&] { uma::ModelFile f(p); }, "not a UMA model");
}

TEST(ModelFile, WrongFormatVersion) {
  auto raw = uma_test::read_raw(uma_test::bundled_model());
  auto meta = uma_test::metadata(raw);
  meta["format_version"] = 99;
  uma_test::set_metadata(raw, meta);
  auto p = uma_test::temp_path("version");
  uma_test::write_raw(p, raw);
  uma_test::expect_error([&] { uma::ModelFile f(p); }, "format version 99");
}

TEST(ModelFile, MissingTensor) {
  auto raw = uma_test::read_raw(uma_test::bundled_model());
  uma_test::remove_tensor(raw, "backbone.blocks.2.norm_2.affine_weight");
  auto p = uma_test::temp_path("missing");
  uma_test::write_raw(p, raw);
  uma_test::expect_error([&] { uma::Engine e(p, cpu()); }, "no tensor 'backbone.blocks.2.norm_2.affine_weight'");
}

TEST(ModelFile, MisShapedTensor) {
  auto raw = uma_test::read_raw(uma_test::bundled_model());
  auto& rec = raw.header["backbone.mix_csd.bias"];
  const int64_t n = rec["shape"][0].get<int64_t>();
  rec["shape"] = {n / 2, 2};  // same bytes, wrong shape
  auto p = uma_test::temp_path("shape");
  uma_test::write_raw(p, raw);
  uma_test::expect_error([&] { uma::Engine e(p, cpu()); }, "tensor 'backbone.mix_csd.bias' has shape");
}

TEST(ModelFile, OffsetsOutsideFile) {
  auto raw = uma_test::read_raw(uma_test::bundled_model());
  raw.header["backbone.mix_csd.bias"]["data_offsets"][1] = raw.data.size() + 1000;
  auto p = uma_test::temp_path("offsets");
  uma_test::write_raw(p, raw);
  uma_test::expect_error([&] { uma::ModelFile f(p); }, "outside the file");
}

TEST(ModelFile, ModelIdsAndTheirFeatures) {
  // What each generation is, as the engine reports it (model_features.cpp is the one table).
  for (const auto& v : {uma_test::uma_1p1(), uma_test::uma_1p2(), uma_test::uma_1p2p1()}) {
    uma::Engine e(v.model, cpu());
    EXPECT_EQ(e.info().model_id, v.label);
    EXPECT_EQ(e.info().charge_balanced, v.label != "UMA-1.1") << v.label;
    if (v.label != "UMA-1.1") {
      std::vector<std::string> want = {"oc20", "oc22", "oc25", "odac", "omat", "omc", "omol"};
      EXPECT_EQ(e.info().tasks, want) << v.label << ": every dataset of 1.2.x is a task";
    }
  }
}

TEST(ModelFile, UnknownModelIdIsRefused) {
  auto p = uma_test::with_metadata(uma_test::uma_1p2p1().model, "uma_m", [](nlohmann::json& m) { m["model_id"] = "UMA-M-1.1"; });
  uma_test::expect_error([&] { uma::Engine e(p, cpu()); }, "model id 'UMA-M-1.1' is not supported");
}

TEST(ModelFile, FeaturesContradictingTheModelIdAreRefused) {
  // A 1.2.1 file that claims no charge balance, or 1.2's composition rule, or a 1.1 id on 1.2.1 tensors.
  auto p1 = uma_test::with_metadata(uma_test::uma_1p2p1().model, "no_balance",
                          [](nlohmann::json& m) { m["backbone"]["charge_balanced_channels"] = nlohmann::json::array(); });
  uma_test::expect_error([&] { uma::Engine e(p1, cpu()); }, "charge_balanced_channels is [] but model id UMA-S-1.2.1");
  auto p2 = uma_test::with_metadata(uma_test::uma_1p2p1().model, "include_self",
                          [](nlohmann::json& m) { m["backbone"]["composition_include_self"] = true; });
  uma_test::expect_error([&] { uma::Engine e(p2, cpu()); }, "composition_include_self is true");
  auto p3 = uma_test::with_metadata(uma_test::uma_1p2p1().model, "as_1p1", [](nlohmann::json& m) {
    m["model_id"] = "UMA-1.1";
    m["backbone"].erase("charge_balanced_channels");
    m.erase("energy_head");
    m.erase("supports_single_atoms");
  });
  uma_test::expect_error([&] { uma::Engine e(p3, cpu()); }, "energy_block.0.weights' has shape [7,128,128], expected [1,128,128]");
  auto p4 = uma_test::with_metadata(uma_test::uma_1p2p1().model, "head_expert",
                          [](nlohmann::json& m) { m["tasks"]["oc25"]["head_expert"] = 7; });
  uma_test::expect_error([&] { uma::Engine e(p4, cpu()); }, "head expert 7 is not one of the 7");
}

// ---- Integrity (issue 15, item 4a): the converter's checksum of the tensor bytes is verified. ----

TEST(ModelFile, BundledModelsCarryAVerifiedChecksum) {
  for (const auto& v : {uma_test::uma_1p1(), uma_test::uma_1p2(), uma_test::uma_1p2p1()}) {
    uma::ModelFile f(v.model);
    EXPECT_TRUE(f.metadata().contains("tensor_data_sha256")) << v.model;
    EXPECT_EQ(f.integrity(), "tensor data sha256 verified") << v.model;
  }
  uma::Engine e(uma_test::bundled_model(), cpu());
  EXPECT_NE(e.info().provenance.find("tensor data sha256 verified"), std::string::npos) << e.info().provenance;
}

TEST(ModelFile, OneFlippedTensorByteIsDetected) {
  // Before: loaded, and ran with the damaged weight.
  auto raw = uma_test::read_raw(uma_test::bundled_model());
  uma_test::tensor_bytes(raw, "backbone.blocks.1.norm_1.affine_bias")[3] ^= 0x01;
  auto p = uma_test::temp_path("flipped");
  uma_test::write_raw(p, raw);
  uma_test::expect_error([&] { uma::ModelFile f(p); }, "but the converter recorded");
}

TEST(ModelFile, FileOfAnOlderConverterLoadsWithANote) {
  auto raw = uma_test::read_raw(uma_test::bundled_model());
  auto meta = uma_test::metadata(raw);
  meta.erase("tensor_data_sha256");
  uma_test::set_metadata(raw, meta);
  auto p = uma_test::temp_path("no_checksum");
  uma_test::write_raw(p, raw);
  uma::Engine e(p, cpu());
  EXPECT_NE(e.info().provenance.find("tensor data not verified (no tensor_data_sha256"), std::string::npos)
      << e.info().provenance;
}

// ---- Non-finite weights (item 3a). ----

TEST(ModelFile, NaNInAWeightIsRefusedNamingTheTensor) {
  // Before: one NaN in the final norm's gain kept the energy finite while every force was NaN.
  auto raw = uma_test::read_raw(uma_test::bundled_model());
  ASSERT_EQ(raw.header["backbone.norm.affine_weight"]["dtype"], "F16");
  char* w = uma_test::tensor_bytes(raw, "backbone.norm.affine_weight");
  w[2 * 5] = 0x00, w[2 * 5 + 1] = 0x7e;  // element 5: F16 quiet NaN 0x7e00
  uma_test::refresh_checksum(raw);       // a NaN the converter wrote, not a damaged copy
  auto p = uma_test::temp_path("nan");
  uma_test::write_raw(p, raw);
  uma_test::expect_error([&] { uma::ModelFile f(p); }, "tensor 'backbone.norm.affine_weight' holds a NaN or Inf at flat index 5");
  // An Inf in the F64 element references likewise.
  auto raw2 = uma_test::read_raw(uma_test::bundled_model());
  const double inf = std::numeric_limits<double>::infinity();
  std::memcpy(uma_test::tensor_bytes(raw2, "tasks.omat.element_references") + 8 * 29, &inf, 8);
  uma_test::refresh_checksum(raw2);
  uma_test::write_raw(p, raw2);
  uma_test::expect_error([&] { uma::ModelFile f(p); }, "'tasks.omat.element_references' holds a NaN or Inf at flat index 29");
}

// ---- Layout of the data section (item 4d). ----

TEST(ModelFile, HeaderLengthOffByOneIsRefused) {
  // Before: a header length one short (the header's last byte a padding space, as safetensors pads)
  // shifted every tensor by a byte and gave NaN energies.
  auto raw = uma_test::read_raw(uma_test::bundled_model());
  const std::string h = raw.header.dump() + "       ";
  for (int delta : {-1, +1}) {
    auto p = uma_test::temp_path("header_len" + std::to_string(delta));
    std::ofstream out(p, std::ios::binary);
    const uint64_t n = h.size() + delta;
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
    out << h << raw.data;
    out.close();
    try {
      uma::ModelFile f(p);
      ADD_FAILURE() << "header length off by " << delta << " was accepted";
    } catch (const uma::Error& e) {
      const std::string m = e.what();
      EXPECT_TRUE(m.find("header length") != std::string::npos || m.find("corrupt header") != std::string::npos)
          << m;
    }
  }
}

TEST(ModelFile, OverlappingOrGappedDataOffsetsAreRefused) {
  auto raw = uma_test::read_raw(uma_test::bundled_model());
  // Two tensors of one shape: point the first at the second's bytes (overlap, and a gap where it was).
  raw.header["backbone.blocks.0.norm_1.affine_bias"]["data_offsets"] =
      raw.header["backbone.blocks.0.norm_2.affine_bias"]["data_offsets"];
  auto p = uma_test::temp_path("overlap");
  uma_test::write_raw(p, raw);
  uma_test::expect_error([&] { uma::ModelFile f(p); }, "data_offsets are wrong");
  auto raw2 = uma_test::read_raw(uma_test::bundled_model());
  raw2.data += std::string(16, '\0');  // trailing bytes after the last tensor
  uma_test::refresh_checksum(raw2);
  uma_test::write_raw(p, raw2);
  uma_test::expect_error([&] { uma::ModelFile f(p); }, "truncated or padded");
}

// ---- Metadata against the tensors (items 4b, 4c). ----

TEST(ModelFile, MissingElementReferencesNameTheTask) {
  // Before: the omat task ran with zero references (+16.37 eV instead of -26.18 eV on Cu).
  auto raw = uma_test::read_raw(uma_test::bundled_model());
  uma_test::remove_tensor(raw, "tasks.omat.element_references");
  auto p = uma_test::temp_path("no_refs");
  uma_test::write_raw(p, raw);
  uma_test::expect_error([&] { uma::Engine e(p, cpu()); },
                         "has no tensor 'tasks.omat.element_references' for task 'omat'");
  // Unless the metadata says the task has none.
  auto meta = uma_test::metadata(raw);
  meta["tasks"]["omat"]["has_element_references"] = false;
  uma_test::set_metadata(raw, meta);
  uma_test::write_raw(p, raw);
  uma::Engine e(p, cpu());
  EXPECT_EQ(e.info().tasks.size(), 5u);
}

TEST(ModelFile, FewerLayersInTheMetadataThanInTheTensorsIsRefused) {
  // Before: num_layers 3 ran 3 layers while block 3's tensors sat unused.
  auto p = uma_test::with_metadata(uma_test::bundled_model(), "three_layers", [](nlohmann::json& m) { m["backbone"]["num_layers"] = 3; });
  uma_test::expect_error([&] { uma::Engine e(p, cpu()); }, "the metadata says num_layers 3 but the file has tensors of block 3");
}

TEST(ModelFile, MetadataAndTensorsMustAgreeOnDatasetsAndExperts) {
  auto p1 = uma_test::with_metadata(uma_test::bundled_model(), "fewer_datasets", [](nlohmann::json& m) {
    m["datasets"] = {"oc20", "omol", "omat", "odac"};
    m["tasks"].erase("omc");
  });
  uma_test::expect_error([&] { uma::Engine e(p1, cpu()); }, "dataset_emb_dict.omc.weight'");
  auto p2 = uma_test::with_metadata(uma_test::bundled_model(), "three_experts", [](nlohmann::json& m) { m["backbone"]["num_experts"] = 3; });
  uma_test::expect_error([&] { uma::Engine e(p2, cpu()); }, "does not match its own metadata");
  auto p3 = uma_test::with_metadata(uma_test::bundled_model(), "no_experts", [](nlohmann::json& m) { m["backbone"]["num_experts"] = 0; });
  uma_test::expect_error([&] { uma::Engine e(p3, cpu()); }, "does not match its own metadata");
  auto raw = uma_test::read_raw(uma_test::bundled_model());
  auto junk = raw.header["backbone.norm.affine_bias"];
  const uint64_t end = raw.data.size(), nbytes = junk["data_offsets"][1].get<uint64_t>() - junk["data_offsets"][0].get<uint64_t>();
  junk["data_offsets"] = {end, end + nbytes};
  raw.header["backbone.extra_norm.affine_bias"] = junk;
  raw.data += std::string(nbytes, '\0');
  uma_test::refresh_checksum(raw);
  auto p4 = uma_test::temp_path("extra_tensor");
  uma_test::write_raw(p4, raw);
  uma_test::expect_error([&] { uma::Engine e(p4, cpu()); }, "'backbone.extra_norm.affine_bias'; this engine does not know the tensor");
}

// ---- Malformed headers and metadata name the file and the field (item 8). ----

namespace {
// A well-formed .uma without tensors whose metadata is the bundled model's with one edit: fast to load,
// enough for ModelConfig::from_file.
std::string metadata_only(const nlohmann::json& meta, const std::string& tag) {
  uma_test::RawModel raw;
  uma_test::set_metadata(raw, meta);
  uma_test::refresh_checksum(raw);
  auto p = uma_test::temp_path(tag);
  uma_test::write_raw(p, raw);
  return p;
}
}  // namespace

TEST(ModelFile, EveryMistypedMetadataFieldGivesAnErrorNamingFileAndField) {
  // Before: 33 of 539 fuzzed files gave bare nlohmann text ("type must be number, but is string").
  const auto base = uma_test::metadata(uma_test::read_raw(uma_test::uma_1p2p1().model));
  const std::vector<nlohmann::json> wrong = {"x", nlohmann::json::array({1, 2}), nlohmann::json::object({{"a", 1}}), 3.5,
                                             nullptr, -7};
  std::vector<std::vector<std::string>> paths;
  for (auto it = base.begin(); it != base.end(); ++it) {
    paths.push_back({it.key()});
    if (it.value().is_object())
      for (auto jt = it.value().begin(); jt != it.value().end(); ++jt) paths.push_back({it.key(), jt.key()});
  }
  for (auto jt = base["tasks"]["omat"].begin(); jt != base["tasks"]["omat"].end(); ++jt)
    paths.push_back({"tasks", "omat", jt.key()});
  int n = 0, refused = 0;
  for (const auto& path : paths)
    for (const auto& w : wrong) {
      auto meta = base;
      nlohmann::json* v = &meta;
      for (const auto& k : path) v = &(*v)[k];
      *v = w;
      const auto p = metadata_only(meta, "mistyped");
      ++n;
      try {
        uma::ModelFile f(p);
        uma::ModelConfig::from_file(f);
      } catch (const uma::Error& e) {
        ++refused;
        const std::string m = e.what();
        EXPECT_NE(m.find(p), std::string::npos) << "no file name: " << m;
        EXPECT_TRUE(m.find(path.back()) != std::string::npos || m.find("model id") != std::string::npos ||
                    m.find("dataset '") != std::string::npos || m.find("head expert") != std::string::npos)
            << path.back() << " = " << w.dump() << ": the field is not named: " << m;
      } catch (const std::exception& e) {
        ADD_FAILURE() << path.back() << " = " << w.dump() << ": not a uma::Error: " << e.what();
      }
    }
  EXPECT_GT(refused, n / 2) << refused << " of " << n << " mistyped fields refused";
}

TEST(ModelFile, MistypedTensorHeaderFieldsNameTheTensorAndField) {
  const std::vector<std::pair<std::string, nlohmann::json>> edits = {
      {"dtype", 5}, {"shape", "x"}, {"shape", nlohmann::json::array({"a"})}, {"data_offsets", nlohmann::json::array({1.5, "a"})},
      {"data_offsets", nullptr},
      // Numbers that are not integers: nlohmann would convert them to integer types unchecked (undefined behaviour;
      // found by fuzz_model_file on 2026-12-06 with an end offset of 6.67e49).
      {"data_offsets", nlohmann::json::array({8, 6.6666e49})}, {"data_offsets", nlohmann::json::array({8.0, 16})},
      {"data_offsets", nlohmann::json::array({-8, 16})}, {"shape", nlohmann::json::array({1e49})},
      {"shape", nlohmann::json::array({2.5})}};
  for (const auto& [field, value] : edits) {
    auto raw = uma_test::read_raw(uma_test::bundled_model());
    raw.header["backbone.mix_csd.bias"][field] = value;
    auto p = uma_test::temp_path("mistyped_tensor");
    uma_test::write_raw(p, raw);
    uma_test::expect_error([&] { uma::ModelFile f(p); }, "tensor 'backbone.mix_csd.bias'");
    try {
      uma::ModelFile f(p);
    } catch (const uma::Error& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  }
}
