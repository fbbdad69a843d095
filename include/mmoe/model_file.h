// mmoe/model_file.h: model files and training checkpoints, and the container format under both.
//
// A model file holds everything `predict` needs: the ModelSpec, the fitted feature pipeline (an opaque
// JSON owned by the features module), free-form metadata and the whole parameter arena. A checkpoint holds
// the same plus the optimizer's moments and step count and the trainer's state, so training can resume
// bit-exactly. Both are "mmoe containers": a small binary frame around a JSON header and named, typed,
// 64-byte aligned arrays, closed by a CRC32 and an end marker (the idea of GGUF, plus a checksum).
//
//   mmoe::save_model("census.mmoe", model, pipeline_json, {{"trained_on", "census.csv"}});
//   mmoe::LoadedModel loaded = mmoe::load_model("census.mmoe");
//   mmoe::Executor exec(*loaded.model, 256, 2);
//
//   mmoe::save_checkpoint("run.ckpt", model, opt, pipeline_json, trainer_state, {{"best_params", best}});
//   mmoe::LoadedCheckpoint ck = mmoe::load_checkpoint("run.ckpt");
//   mmoe::Optimizer opt(*ck.model.model, ck.optim);
//   mmoe::restore_optimizer(opt, ck);
//
// ---- byte layout (format version 1; all integers little-endian) ------------------------------------------
//
//   offset        size      field
//   0             8         magic "MMOEFILE" (no terminator)
//   8             4  u32    format version (kFormatVersion = 1)
//   12            4  u32    kind: 1 = model, 2 = checkpoint (FileKind)
//   16            8  u64    header_len: bytes of the JSON header, at most kMaxHeaderBytes (64 MiB)
//   24            header_len  header: UTF-8 JSON object, no terminator
//   then, repeated once per section, back to back:
//                 4  u32    name_len, 1 .. kMaxSectionName (4 KiB)
//                 name_len  name, UTF-8, unique in the file
//                 4  u32    dtype: 1 = f32, 2 = i32, 3 = u8 (DType)
//                 8  u64    count: number of elements
//                 0..63     zero padding, so that the data starts at a file offset that is a multiple of 64
//                 count * sizeof(dtype)  data, little-endian
//   size-12       4  u32    CRC32 (zlib crc32, the IEEE polynomial) of bytes [0, size-12)
//   size-8        8         end magic "MMOE_END"
//
// The header repeats the section table as "sections": [{"name", "dtype" ("f32"|"i32"|"u8"), "count",
// "offset"}] with "offset" the absolute file offset of the data, and a reader checks that both tables agree.
// Every other header key belongs to the file kind (see docs/model-format.md for the model and checkpoint
// keys). A model file has one f32 section "params": the Model's parameter arena verbatim, alignment padding
// included, with the header's "tensors" table ([{"name", "shape", "offset", "size"}], offsets in floats)
// saying where each tensor lives. Checkpoints add "optim.m", "optim.v" (empty for SGD) and "extra.NAME".
//
// ---- reading ---------------------------------------------------------------------------------------------
//
// The reader loads the whole file, then walks it with a bounds-checked cursor: every length and count is
// compared with the bytes that remain before anything is allocated or read, so a crafted file can neither
// make it allocate more than the file's own size nor read past the end. The checks run in this order, and
// the first failure is thrown as mmoe::Error (kind format, where = "path@byte (part)"):
//   1. empty file; magic                     -> "not an mmoe model file"
//   2. format version                        -> "written by a newer mmoe: format version X, ..."
//      (before the checksum: a newer format may checksum differently, so it is judged by its version only)
//   3. end magic                             -> "truncated: ..." naming the byte and the part it ends in
//   4. CRC32                                 -> "corrupt: checksum mismatch — ..."
//   5. kind                                  -> "this is an mmoe checkpoint, not a model file" (and back)
//   6. header length, JSON, section records  -> the part and the byte at fault
//   7. the content: spec, tensor table, section sizes against the model rebuilt from the spec.
// Files that cannot be opened or read (missing, a directory, no permission) throw kind io naming the path.
//
// ---- writing ---------------------------------------------------------------------------------------------
//
// Writes are atomic: the file is written to "path.tmp.<pid>", flushed, fsync'ed, closed and renamed over
// `path`, then the directory is fsync'ed. On any failure the temporary file is removed, `path` keeps its old
// content, and an io error naming the path is thrown.
//
// Versioning: kFormatVersion changes when a reader of the old version would misread a new file (layout,
// a required key, the meaning of a field). Adding optional header keys or new sections that old readers
// may ignore does not change it. This build reads every version from 1 up to kFormatVersion.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mmoe/model.h"
#include "mmoe/optim.h"
#include "mmoe/spec.h"

namespace mmoe {

inline constexpr char kFileMagic[8] = {'M', 'M', 'O', 'E', 'F', 'I', 'L', 'E'};
inline constexpr char kFileEndMagic[8] = {'M', 'M', 'O', 'E', '_', 'E', 'N', 'D'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr uint64_t kMaxHeaderBytes = uint64_t{64} << 20;
inline constexpr uint32_t kMaxSectionName = 4096;
inline constexpr uint64_t kPreambleBytes = 24;  // magic + version + kind + header_len
inline constexpr uint64_t kTrailerBytes = 12;   // crc32 + end magic

enum class FileKind : uint32_t { model = 1, checkpoint = 2 };
enum class DType : uint32_t { f32 = 1, i32 = 2, u8 = 3 };

const char* to_string(FileKind kind);
const char* to_string(DType dtype);
size_t dtype_size(DType dtype);

// ---- container layer (what save_model / save_checkpoint are built on) ------------------------------------

// One section to write: `count` elements of `dtype` at `data` (may be null when count is 0).
struct SectionData {
  std::string name;
  DType dtype = DType::f32;
  const void* data = nullptr;
  uint64_t count = 0;
};

// Writes a container atomically. `header` must be a JSON object without a "sections" key (the writer adds
// it). Throws io naming `path` when the file cannot be written, input when the header is not valid UTF-8.
void write_container(const std::string& path, FileKind kind, const nlohmann::json& header,
                     const std::vector<SectionData>& sections);

// One section of a file that has been read: `offset` is the absolute file offset of its data.
struct Section {
  std::string name;
  DType dtype = DType::f32;
  uint64_t count = 0;
  uint64_t offset = 0;
};

// A container read into memory and fully validated (frame, checksum, header JSON, section table).
struct Container {
  std::string path;
  uint32_t version = 0;
  FileKind kind = FileKind::model;
  nlohmann::json header;  // includes "sections"
  std::vector<Section> sections;
  std::vector<uint8_t> bytes;  // the whole file

  // The section called `name`, or null.
  const Section* find(const std::string& name) const;
  // The section called `name` with type `dtype`; throws format when it is absent or of another type.
  const Section& section(const std::string& name, DType dtype) const;
  // The raw bytes of a section's data.
  std::span<const uint8_t> data(const Section& section) const;
  // Copies f32 section `name`: into `out` (its size must equal the count, else format error), or anew.
  void copy_f32(const std::string& name, std::span<float> out) const;
  std::vector<float> read_f32(const std::string& name) const;
  // "path@offset (part)", the `where` of every format error about this file.
  std::string where(uint64_t offset, const std::string& part) const;
  uint64_t header_offset() const { return kPreambleBytes; }
};

// Reads and validates a container of any kind / of the expected kind (a wrong kind is a format error).
Container read_container(const std::string& path);
Container read_container(const std::string& path, FileKind expected);
// The same checks on a file's bytes already in memory; `name` stands for the path in messages. This is the
// entry point of the model-loader fuzzer (tests/fuzz/fuzz_model_file.cpp).
Container read_container_bytes(std::vector<uint8_t> bytes, const std::string& name, FileKind expected);

// ---- spec and optimizer config as JSON -------------------------------------------------------------------

// Every field of the spec, with the spellings of to_string (spec.h):
//   {"arch": "mmoe", "n_expert": 8, "expert_units": [16], "tower_units": [8],
//    "tasks": [{"name": "y1", "kind": "binary", "loss_weight": 1.0}], "n_dense": 100,
//    "cat_cardinality": [3, 12], "cat_encoding": "onehot", "embedding_dim": 8, "init": "torch"}
nlohmann::json spec_to_json(const ModelSpec& spec);
// Throws format naming the field ("spec.tasks[1].kind") when a field is missing, ill-typed, out of range
// or unknown, and when the spec fails ModelSpec::validate().
ModelSpec spec_from_json(const nlohmann::json& json);

// {"kind": "adam", "lr": ..., "beta1", "beta2", "eps", "momentum", "nesterov", "weight_decay", "decoupled",
//  "lazy_sparse"}; doubles round-trip exactly.
nlohmann::json optim_to_json(const OptimConfig& config);
OptimConfig optim_from_json(const nlohmann::json& json);  // throws format naming the field

// ---- model files -----------------------------------------------------------------------------------------

// Header keys: "format": "mmoe-model", "spec", "pipeline", "meta", "tensors", "sections".
// `pipeline` and `meta` are stored verbatim (any JSON, null included).
void save_model(const std::string& path, const Model& model, const nlohmann::json& pipeline,
                const nlohmann::json& meta);

struct LoadedModel {
  std::unique_ptr<Model> model;
  nlohmann::json pipeline;
  nlohmann::json meta;
};

// Rebuilds the Model from the stored spec, checks that its tensor table (name, shape, offset, size) and
// arena size match the file exactly, and copies the parameters in: params() is bit-identical to the saved.
LoadedModel load_model(const std::string& path);
// load_model on bytes in memory (`name` stands for the path in messages).
LoadedModel load_model_bytes(std::vector<uint8_t> bytes, const std::string& name);

// ---- checkpoints -----------------------------------------------------------------------------------------

// Header keys: "format": "mmoe-checkpoint", "spec", "pipeline", "meta" ({}), "tensors", "optim",
// "optim_steps", "trainer_state", "extra" (the extra array names, in order), "sections".
// Sections: "params", "optim.m", "optim.v" (0 elements for SGD), "extra.NAME" per extra array.
void save_checkpoint(const std::string& path, const Model& model, const Optimizer& opt,
                     const nlohmann::json& pipeline, const nlohmann::json& trainer_state,
                     const std::vector<std::pair<std::string, std::span<const float>>>& extra_f32 = {});

struct LoadedCheckpoint {
  LoadedModel model;
  OptimConfig optim;
  int64_t optim_steps = 0;
  std::vector<float> m, v;  // (arena_size) each; v is empty for SGD
  nlohmann::json trainer_state;
  std::map<std::string, std::vector<float>> extra;
};

LoadedCheckpoint load_checkpoint(const std::string& path);

// Copies the checkpoint's moments and step count into `opt` (built for the checkpoint's model). Throws usage
// when the optimizer's state has another shape (e.g. sgd given where the checkpoint was adam).
void restore_optimizer(Optimizer& opt, const LoadedCheckpoint& checkpoint);

}  // namespace mmoe
