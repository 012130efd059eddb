// The .uma reader rejects every kind of damaged or foreign file with a message naming the problem.
#include "model/model_file.h"
#include "model/sha256.h"

#include "engine/engine.h"
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
  auto meta = nlohmann::json::parse(raw.header["__metadata__"]["uma"].get<std::string>());
  meta["format_version"] = 99;
  raw.header["__metadata__"]["uma"] = meta.dump();
  auto p = uma_test::temp_path("version");
  uma_test::write_raw(p, raw);
  uma_test::expect_error([&] { uma::ModelFile f(p); }, "format version 99");
}

TEST(ModelFile, MissingTensor) {
  auto raw = uma_test::read_raw(uma_test::bundled_model());
  raw.header.erase("backbone.blocks.2.norm_2.affine_weight");
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

namespace {
// A copy of `model` with its metadata changed by `edit`.
template <typename Edit>
std::string with_metadata(const std::string& model, const std::string& tag, Edit edit) {
  auto raw = uma_test::read_raw(model);
  auto meta = nlohmann::json::parse(raw.header["__metadata__"]["uma"].get<std::string>());
  edit(meta);
  raw.header["__metadata__"]["uma"] = meta.dump();
  auto p = uma_test::temp_path(tag);
  uma_test::write_raw(p, raw);
  return p;
}
}  // namespace

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
  auto p = with_metadata(uma_test::uma_1p2p1().model, "uma_m", [](nlohmann::json& m) { m["model_id"] = "UMA-M-1.1"; });
  uma_test::expect_error([&] { uma::Engine e(p, cpu()); }, "model id 'UMA-M-1.1' is not supported");
}

TEST(ModelFile, FeaturesContradictingTheModelIdAreRefused) {
  // A 1.2.1 file that claims no charge balance, or 1.2's composition rule, or a 1.1 id on 1.2.1 tensors.
  auto p1 = with_metadata(uma_test::uma_1p2p1().model, "no_balance",
                          [](nlohmann::json& m) { m["backbone"]["charge_balanced_channels"] = nlohmann::json::array(); });
  uma_test::expect_error([&] { uma::Engine e(p1, cpu()); }, "charge_balanced_channels is [] but model id UMA-S-1.2.1");
  auto p2 = with_metadata(uma_test::uma_1p2p1().model, "include_self",
                          [](nlohmann::json& m) { m["backbone"]["composition_include_self"] = true; });
  uma_test::expect_error([&] { uma::Engine e(p2, cpu()); }, "composition_include_self is true");
  auto p3 = with_metadata(uma_test::uma_1p2p1().model, "as_1p1", [](nlohmann::json& m) {
    m["model_id"] = "UMA-1.1";
    m["backbone"].erase("charge_balanced_channels");
    m.erase("energy_head");
    m.erase("supports_single_atoms");
  });
  uma_test::expect_error([&] { uma::Engine e(p3, cpu()); }, "energy_block.0.weights' has shape [7,128,128], expected [1,128,128]");
  auto p4 = with_metadata(uma_test::uma_1p2p1().model, "head_expert",
                          [](nlohmann::json& m) { m["tasks"]["oc25"]["head_expert"] = 7; });
  uma_test::expect_error([&] { uma::Engine e(p4, cpu()); }, "head expert 7 is not one of the 7");
}
