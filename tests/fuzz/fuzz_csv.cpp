// libFuzzer target: the CSV reader (plain and gzip) and read_table on arbitrary bytes.
//
// The first byte picks the dialect (separator, header, a tiny line limit, a comment prefix) so that every
// branch of the reader is reachable; the rest is the file. The input goes through a real file because the
// reader's job includes opening, sniffing the gzip magic and reading in chunks. Any mmoe::Error is a
// correct outcome; a crash, a sanitizer report, another exception type or a hang is a finding.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "mmoe/csv.h"
#include "mmoe/error.h"
#include "mmoe/features.h"
#include "mmoe/schema.h"

namespace {

const std::string& scratch_path() {
  static const std::string path = "/tmp/mmoe_fuzz_csv_" + std::to_string(::getpid()) + ".csv";
  return path;
}

void write_bytes(const std::string& path, const uint8_t* data, size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) __builtin_trap();
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  write_bytes(scratch_path(), data + 1, size - 1);

  static const char* const kSeparators[] = {",", ", ", "\t", "|"};
  mmoe::Schema schema = mmoe::Schema::plain({{"y", mmoe::TaskKind::binary, 1.0f}},
                                            mmoe::parse_separator(kSeparators[mode & 3]));
  schema.header = (mode & 4) == 0;
  if (!schema.header) schema.columns[0].index = 0;  // headerless: the label is the first field
  // The reader's buffer is the line limit plus a 256 KiB chunk, zero-filled per file; the default 1 MiB limit
  // made that fill most of each run's time. 4 KiB still lets over-long lines happen (and 16 bytes often).
  schema.max_line_bytes = (mode & 8) ? 16 : 4096;
  if (mode & 16) schema.comment = "#";
  if (mode & 32) schema.columns[0].positive = {"yes"};
  if (mode & 64) schema.missing = {"", "?"};

  // The reader alone, every record, every field.
  try {
    mmoe::CsvReader reader(scratch_path(), schema.csv_options());
    size_t checksum = 0;
    for (;;) {
      const mmoe::CsvStatus st = reader.next();
      if (st == mmoe::CsvStatus::end) break;
      if (st == mmoe::CsvStatus::bad) {
        checksum += reader.error().where().size();
        continue;
      }
      for (size_t i = 0; i < reader.size(); ++i) {
        float x;
        checksum += reader.field(i).size() + static_cast<size_t>(reader.column(i));
        if (mmoe::parse_float(reader.field(i), x)) ++checksum;
      }
    }
    if (checksum == 1) std::fputc(' ', stderr);  // keeps the loop from being optimised away
  } catch (const mmoe::Error&) {
  }

  // read_table and the feature pipeline on top, both bad-row policies.
  for (mmoe::BadRowPolicy policy : {mmoe::BadRowPolicy::error, mmoe::BadRowPolicy::skip}) {
    try {
      mmoe::ReadOptions options;
      options.on_bad_row = policy;
      const mmoe::RawTable table = mmoe::read_table(scratch_path(), schema, options);
      const mmoe::FeaturePipeline pipeline = mmoe::FeaturePipeline::fit(table, schema);
      const mmoe::Dataset ds = pipeline.transform(table);
      (void)mmoe::FeaturePipeline::from_json(pipeline.to_json());
      if (ds.rows != table.rows) __builtin_trap();
    } catch (const mmoe::Error&) {
    }
  }
  return 0;
}
