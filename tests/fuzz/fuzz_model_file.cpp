// libFuzzer target: the model-file loader (container frame, JSON header, spec, tensor table, feature
// pipeline) on arbitrary bytes, in memory.
//
// Random bytes almost never carry a valid CRC32, so each input is tried twice: as it is (the frame checks:
// magic, version, end marker, checksum), and with a correct checksum and end marker written over its last
// 12 bytes, which lets the fuzzer reach the header, section and content checks behind the checksum.
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "mmoe/error.h"
#include "mmoe/features.h"
#include "mmoe/model_file.h"

namespace {

void load(std::vector<uint8_t> bytes) {
  try {
    mmoe::LoadedModel loaded = mmoe::load_model_bytes(std::move(bytes), "fuzz.mmoe");
    // What predict does next with a loaded model.
    const mmoe::FeaturePipeline pipeline = mmoe::FeaturePipeline::from_json(loaded.pipeline);
    (void)pipeline.n_dense();
    (void)loaded.model->n_params();
  } catch (const mmoe::Error& e) {
    if (e.kind() == mmoe::ErrorKind::internal) __builtin_trap();  // a broken invariant, not a refused file
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  load(bytes);
  if (size >= mmoe::kPreambleBytes + mmoe::kTrailerBytes) {
    const size_t body = size - mmoe::kTrailerBytes;
    const uint32_t crc = static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0), bytes.data(), static_cast<uInt>(body)));
    for (int i = 0; i < 4; ++i) bytes[body + static_cast<size_t>(i)] = static_cast<uint8_t>(crc >> (8 * i));
    std::memcpy(bytes.data() + body + 4, mmoe::kFileEndMagic, 8);
    load(std::move(bytes));
  }
  return 0;
}
