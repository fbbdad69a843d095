// libFuzzer target: the TOML readers: a schema file, a config's [schema]/[data] tables, and the CLI's
// settings table ([model], [train], [synth]) for every subcommand. Any mmoe::Error is a correct outcome
// (it must carry a key or a file position); anything else is a finding.
#include <cstdint>
#include <string>

#include "mmoe/error.h"
#include "mmoe/schema.h"
#include "params.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const mmoe::Schema schema = mmoe::Schema::from_toml(text, "fuzz.toml");
    // A schema that parsed must survive the model file's JSON round trip.
    (void)mmoe::Schema::from_json(schema.to_json());
    (void)schema.tasks();
  } catch (const mmoe::Error& e) {
    if (e.where().empty()) __builtin_trap();  // every schema error names a key or a position
  }
  try {
    (void)mmoe::parse_data_config(text, "fuzz.toml");
  } catch (const mmoe::Error& e) {
    if (e.where().empty()) __builtin_trap();
  }
  for (const char* command : {"train", "eval", "predict", "synth"}) {
    try {
      mmoe::cli::Settings settings(command);
      settings.apply_toml(text, "fuzz.toml");
    } catch (const mmoe::Error& e) {
      if (e.where().empty()) __builtin_trap();
    }
  }
  return 0;
}
