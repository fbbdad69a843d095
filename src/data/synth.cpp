// The paper's synthetic data generator (Sec. 3.2) and its CSV writer. See mmoe/synth.h for the procedure.
#include "mmoe/synth.h"

#include <cerrno>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <unistd.h>

#include "mmoe/error.h"

namespace mmoe {

namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

void normalize(std::vector<double>& v) {
  const double norm = std::sqrt(dot(v, v));
  // A zero-norm N(0, I) draw in d >= 2 has probability 0; reaching it means the RNG is broken.
  MMOE_CHECK(norm > 0.0 && std::isfinite(norm), "degenerate Gram-Schmidt vector");
  for (double& x : v) x /= norm;
}

std::string quote_csv(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string out = "\"";
  for (char ch : field) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

[[noreturn]] void throw_io(const std::string& what, const std::string& path, int err) {
  throw Error(ErrorKind::io, what + " (" + std::strerror(err) + ")", path);
}

}  // namespace

void SynthConfig::validate() const {
  auto bad = [](const std::string& message, const char* key) { throw Error(ErrorKind::usage, message, key); };
  if (d < 2) bad("d must be >= 2 (two orthogonal directions are needed), got " + std::to_string(d), "d");
  if (!(std::fabs(correlation) <= 1.0))
    bad("correlation must be in [-1, 1], got " + std::to_string(correlation), "correlation");
  if (!(scale > 0.0) || !std::isfinite(scale)) bad("scale must be finite and > 0, got " + std::to_string(scale), "scale");
  if (n_sines < 0) bad("n_sines must be >= 0, got " + std::to_string(n_sines), "n_sines");
  if (!(noise_std >= 0.0) || !std::isfinite(noise_std))
    bad("noise_std must be finite and >= 0, got " + std::to_string(noise_std), "noise_std");
  if (rows == 0) bad("rows must be > 0", "rows");
  if (rows > std::numeric_limits<size_t>::max() / sizeof(float) / static_cast<size_t>(d))
    bad("rows * d is too large: " + std::to_string(rows) + " x " + std::to_string(d), "rows");
}

SynthTask make_synth_task(const SynthConfig& config, Rng& rng) {
  // rows is not used here (the caller picks split sizes), so a zero must not fail validation.
  SynthConfig checked = config;
  if (checked.rows == 0) checked.rows = 1;
  checked.validate();
  const size_t d = static_cast<size_t>(config.d);
  std::vector<double> u1(d), u2(d);
  for (double& x : u1) x = rng.normal();
  for (double& x : u2) x = rng.normal();
  normalize(u1);
  // Project twice ("twice is enough", Kahan/Parlett): one classical Gram-Schmidt step leaves an
  // u1.u2 residue proportional to the cancellation; the second brings it to rounding level, so
  // cos(w1, w2) = p holds to ~1e-16 instead of ~1e-14.
  for (int pass = 0; pass < 2; ++pass) {
    const double proj = dot(u2, u1);
    for (size_t i = 0; i < d; ++i) u2[i] -= proj * u1[i];
  }
  normalize(u2);

  const double c = config.scale;
  const double p = config.correlation;
  const double q = std::sqrt(std::max(0.0, 1.0 - p * p));
  SynthTask task;
  task.w1.resize(d);
  task.w2.resize(d);
  for (size_t i = 0; i < d; ++i) {
    task.w1[i] = c * u1[i];
    task.w2[i] = c * (p * u1[i] + q * u2[i]);
  }
  task.alpha.resize(static_cast<size_t>(config.n_sines));
  task.beta.resize(static_cast<size_t>(config.n_sines));
  for (double& a : task.alpha) a = rng.normal();
  for (double& b : task.beta) b = rng.normal();
  return task;
}

Dataset sample_synthetic(const SynthTask& task, const SynthConfig& config, size_t rows, Rng& rng) {
  const size_t d = task.w1.size();
  if (d == 0 || task.w2.size() != d || task.alpha.size() != task.beta.size())
    throw Error(ErrorKind::usage,
                "inconsistent synthetic task: |w1| = " + std::to_string(d) + ", |w2| = " + std::to_string(task.w2.size()) +
                    ", |alpha| = " + std::to_string(task.alpha.size()) + ", |beta| = " + std::to_string(task.beta.size()),
                "task");
  if (!(config.noise_std >= 0.0) || !std::isfinite(config.noise_std))
    throw Error(ErrorKind::usage, "noise_std must be finite and >= 0, got " + std::to_string(config.noise_std),
                "noise_std");
  if (rows > std::numeric_limits<size_t>::max() / sizeof(float) / d)
    throw Error(ErrorKind::usage, "rows * d is too large", "rows");

  Dataset ds;
  ds.rows = rows;
  ds.n_dense = d;
  ds.n_task = 2;
  ds.dense.resize(rows * d);
  ds.labels.resize(rows * 2);
  ds.task_names = {"y1", "y2"};
  ds.dense_names.reserve(d);
  for (size_t j = 0; j < d; ++j) ds.dense_names.push_back("x" + std::to_string(j));

  const std::vector<double>* w[2] = {&task.w1, &task.w2};
  const size_t m = task.alpha.size();
  for (size_t r = 0; r < rows; ++r) {
    float* x = ds.dense.data() + r * d;  // (d)
    double s[2] = {0.0, 0.0};            // w_k . x
    for (size_t j = 0; j < d; ++j) {
      // Round first: the label must be a function of the x that is stored (and written to CSV).
      const float xj = static_cast<float>(rng.normal());
      x[j] = xj;
      s[0] += (*w[0])[j] * xj;
      s[1] += (*w[1])[j] * xj;
    }
    for (int k = 0; k < 2; ++k) {
      double y = s[k];
      for (size_t i = 0; i < m; ++i) y += std::sin(task.alpha[i] * s[k] + task.beta[i]);
      y += config.noise_std * rng.normal();  // drawn even when noise_std = 0: x stays independent of it
      ds.labels[r * 2 + k] = static_cast<float>(y);
    }
  }
  return ds;
}

Dataset make_synthetic(const SynthConfig& config) {
  config.validate();
  Rng rng(config.seed);
  const SynthTask task = make_synth_task(config, rng);
  return sample_synthetic(task, config, config.rows, rng);
}

void write_synthetic_csv(const Dataset& data, const std::string& path) {
  if (data.n_cat != 0)
    throw Error(ErrorKind::usage, "write_synthetic_csv writes dense-only data sets; this one has " +
                                      std::to_string(data.n_cat) + " categorical columns", path);
  MMOE_CHECK(data.dense.size() == data.rows * data.n_dense && data.labels.size() == data.rows * data.n_task,
             "data set buffers do not match its shape");

  std::string header;
  for (size_t j = 0; j < data.n_dense; ++j) {
    if (j) header += ',';
    header += quote_csv(j < data.dense_names.size() ? data.dense_names[j] : "x" + std::to_string(j));
  }
  for (size_t k = 0; k < data.n_task; ++k) {
    if (data.n_dense || k) header += ',';
    header += quote_csv(k < data.task_names.size() ? data.task_names[k] : "y" + std::to_string(k + 1));
  }
  header += '\n';

  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw_io("cannot open for writing", path, errno);
  // On any failure: close, drop the partial temp file, report against the user's path.
  auto fail = [&](const char* what, int err) {
    std::fclose(f);
    std::remove(tmp.c_str());
    throw_io(what, path, err);
  };

  // Formatting dominates the cost, so floats go through std::to_chars (shortest round-trip form, no
  // locale) into one buffer that is flushed in ~1 MiB writes; iostreams are ~10x slower here.
  constexpr size_t kMaxField = 32;  // longest float text ("-1.1754944e-38") plus the separator, with slack
  const size_t row_max = (data.n_dense + data.n_task) * kMaxField + 1;
  std::vector<char> buf(std::max<size_t>(size_t{1} << 20, 2 * row_max));
  size_t pos = 0;
  auto flush = [&]() {
    if (pos && std::fwrite(buf.data(), 1, pos, f) != pos) fail("cannot write", errno);
    pos = 0;
  };
  if (std::fwrite(header.data(), 1, header.size(), f) != header.size()) fail("cannot write", errno);

  char* const end = buf.data() + buf.size();
  for (size_t r = 0; r < data.rows; ++r) {
    if (pos + row_max > buf.size()) flush();
    const float* x = data.dense.data() + r * data.n_dense;
    const float* y = data.labels.data() + r * data.n_task;
    for (size_t j = 0; j < data.n_dense; ++j) {
      if (j) buf[pos++] = ',';
      pos = std::to_chars(buf.data() + pos, end, x[j]).ptr - buf.data();
    }
    for (size_t k = 0; k < data.n_task; ++k) {
      if (data.n_dense || k) buf[pos++] = ',';
      if (!std::isnan(y[k])) pos = std::to_chars(buf.data() + pos, end, y[k]).ptr - buf.data();
    }
    buf[pos++] = '\n';
  }
  flush();
  if (std::fflush(f) != 0) fail("cannot write", errno);
  // fsync before rename: otherwise a crash can leave the new name pointing at an empty file.
  if (::fsync(::fileno(f)) != 0) fail("cannot sync", errno);
  if (std::fclose(f) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw_io("cannot close", path, err);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw_io("cannot rename " + tmp + " to it", path, err);
  }
}

}  // namespace mmoe
