// mmoe synth: the paper's synthetic data (Sec. 3.2) as a CSV with header x0..x{d-1},y1,y2.
#include <CLI/CLI.hpp>
#include <iostream>

#include "commands.h"
#include "mmoe/synth.h"
#include "settings_setup.h"

namespace mmoe::cli {

Action register_synth(CLI::App& app) {
  auto args = std::make_shared<CommonArgs>();
  auto out = std::make_shared<std::string>();
  app.add_option("--out,-o", *out, "output CSV path")->required();
  app.add_option("--config", args->config, "TOML file with a [synth] table");
  app.add_flag("--quiet,-q", args->quiet, "print nothing on success");
  add_flags(app, "synth", args->raw, args->raw_lists);
  return [args, out]() {
    ResolvedConfig rc = resolve_config("synth", *args);
    const Settings& s = rc.settings;
    SynthConfig cfg;
    cfg.rows = static_cast<size_t>(s.integer("synth.rows"));
    cfg.d = static_cast<int>(s.integer("synth.dim"));
    cfg.correlation = s.number("synth.correlation");
    cfg.scale = s.number("synth.scale");
    cfg.n_sines = static_cast<int>(s.integer("synth.sines"));
    cfg.noise_std = s.number("synth.noise");
    cfg.seed = static_cast<uint64_t>(std::stoull(s.text("synth.seed")));
    cfg.validate();
    const Dataset data = make_synthetic(cfg);
    write_synthetic_csv(data, *out);
    if (!args->quiet)
      std::cout << "wrote " << data.rows << " rows x " << cfg.d << " features, labels y1,y2 (correlation "
                << cfg.correlation << ") to " << *out << "\n";
    return 0;
  };
}

}  // namespace mmoe::cli
