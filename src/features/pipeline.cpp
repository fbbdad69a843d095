// FeaturePipeline: fit on the training table, transform any table with the same columns, save as JSON.
//
// Statistics are accumulated in double (a float sum over 200k census ages would already lose digits), and
// categorical columns are mapped dictionary-to-vocabulary once per table, not once per row: the per-row work
// in transform is one table lookup per categorical column.
#include <algorithm>
#include <cmath>
#include <limits>

#include "mmoe/features.h"

namespace mmoe {

namespace {
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
}

FeatureOptions FeatureOptions::from(const Schema& schema) {
  FeatureOptions o;
  o.scaling = schema.scaling;
  o.min_count = schema.min_count;
  o.hash_buckets = schema.hash_buckets;
  o.missing_flags = schema.missing_flags;
  return o;
}

FeaturePipeline FeaturePipeline::fit(const RawTable& train, const Schema& schema) {
  return fit(train, schema, FeatureOptions::from(schema));
}

FeaturePipeline FeaturePipeline::fit(const RawTable& train, const Schema& schema, const FeatureOptions& options) {
  MMOE_CHECK(options.min_count >= 1, "min_count must be >= 1");
  FeaturePipeline p;
  p.schema_ = schema;
  p.options_ = options;

  auto spec_of = [&](const std::string& name) -> const ColumnSpec* {
    for (const auto& c : schema.columns)
      if (c.name == name) return &c;
    return nullptr;
  };

  for (const RawColumn& col : train.columns) {
    const ColumnSpec* spec = spec_of(col.name);
    ColumnKind want = spec ? spec->kind : schema.default_kind;
    if (want != col.kind)
      throw Error(ErrorKind::input, "column '" + col.name + "' is " + to_string(col.kind) + " in the table but " +
                                        to_string(want) + " in the schema", train.path);
    switch (col.kind) {
      case ColumnKind::label:
      case ColumnKind::weight: break;  // handled below, in schema order
      case ColumnKind::ignore: p.inputs_.push_back({col.name, col.kind}); break;
      case ColumnKind::dense: {
        p.inputs_.push_back({col.name, col.kind});
        double sum = 0, sum2 = 0, lo = std::numeric_limits<double>::infinity(), hi = -lo;
        size_t n = 0;
        for (float v : col.values) {
          if (std::isnan(v)) continue;
          double x = v;
          sum += x;
          lo = std::min(lo, x);
          hi = std::max(hi, x);
          ++n;
        }
        const double mean = n ? sum / static_cast<double>(n) : 0.0;
        for (float v : col.values)
          if (!std::isnan(v)) sum2 += (v - mean) * (v - mean);
        // Population std (ddof = 0), as numpy / the torch peer use.
        const double sd = n ? std::sqrt(sum2 / static_cast<double>(n)) : 0.0;
        DenseFeature f;
        f.name = col.name;
        f.fill = mean;
        if (options.scaling == Scaling::standard) {
          f.center = mean;
          f.scale = sd > 0 ? sd : 1.0;
        } else if (options.scaling == Scaling::minmax && n > 0) {
          f.center = lo;
          f.scale = hi > lo ? hi - lo : 1.0;
        }
        f.flag = options.missing_flags && n < col.values.size();
        p.dense_.push_back(std::move(f));
        break;
      }
      case ColumnKind::categorical: {
        p.inputs_.push_back({col.name, col.kind});
        CatFeature f;
        f.name = col.name;
        const int64_t buckets = spec && spec->hash_buckets >= 0 ? spec->hash_buckets : options.hash_buckets;
        const int64_t min_count = spec && spec->min_count >= 1 ? spec->min_count : options.min_count;
        if (buckets > 0) {
          f.hash_buckets = buckets;
          f.cardinality = buckets + 1;
          f.missing_code = 0;
        } else {
          std::vector<int64_t> count(col.dictionary.size(), 0);
          int64_t n_missing = 0;
          for (int32_t c : col.codes) {
            if (c < 0) ++n_missing;
            else ++count[static_cast<size_t>(c)];
          }
          for (size_t k = 0; k < count.size(); ++k)
            if (count[k] >= min_count) f.vocab.push_back(col.dictionary[k]);
          std::sort(f.vocab.begin(), f.vocab.end());
          f.cardinality = static_cast<int64_t>(f.vocab.size()) + 1;
          if (n_missing > 0 && n_missing >= min_count) f.missing_code = static_cast<int32_t>(f.cardinality++);
        }
        p.cat_.push_back(std::move(f));
        break;
      }
    }
  }
  for (const auto& spec : schema.columns) {
    if (spec.kind != ColumnKind::label && spec.kind != ColumnKind::weight) continue;
    if (!train.find(spec.name))
      throw Error(ErrorKind::input, std::string(spec.kind == ColumnKind::label ? "label" : "weight") + " column '" + spec.name +
                                        "' is not in the training file", train.path);
    if (spec.kind == ColumnKind::label) p.tasks_.push_back({spec.name, spec.task, spec.loss_weight});
    else p.weight_ = spec.name;
  }
  MMOE_CHECK(!p.tasks_.empty(), "a validated schema has a label");
  return p;
}

size_t FeaturePipeline::n_dense() const {
  size_t n = dense_.size();
  for (const auto& f : dense_) n += f.flag ? 1 : 0;
  return n;
}

std::vector<int64_t> FeaturePipeline::cat_cardinality() const {
  std::vector<int64_t> out;
  for (const auto& f : cat_) out.push_back(f.cardinality);
  return out;
}

std::vector<std::string> FeaturePipeline::dense_names() const {
  std::vector<std::string> out;
  for (const auto& f : dense_) out.push_back(f.name);
  for (const auto& f : dense_)
    if (f.flag) out.push_back(f.name + ":missing");
  return out;
}

std::vector<std::string> FeaturePipeline::cat_names() const {
  std::vector<std::string> out;
  for (const auto& f : cat_) out.push_back(f.name);
  return out;
}

RawTable FeaturePipeline::read(const std::string& path, const ReadOptions& options) const {
  ReadOptions o = options;
  o.labels_optional = true;
  return read_table(path, schema_, o);
}

Dataset FeaturePipeline::transform(const RawTable& table) const {
  // The table must have exactly the training file's feature columns (order may differ in a headered file).
  for (const auto& in : inputs_) {
    const RawColumn* c = table.find(in.name);
    if (!c)
      throw Error(ErrorKind::input, "column '" + in.name + "' (" + to_string(in.kind) + ") of the training data is missing from this file",
                  table.path, "the file must have the columns the model was trained on");
    if (c->kind != in.kind)
      throw Error(ErrorKind::input, "column '" + in.name + "' is " + to_string(c->kind) + " here but was " + to_string(in.kind) +
                                        " in the training data", table.path);
  }
  for (const auto& c : table.columns) {
    if (c.kind == ColumnKind::label || c.kind == ColumnKind::weight) continue;
    bool known = std::any_of(inputs_.begin(), inputs_.end(), [&](const InputColumn& in) { return in.name == c.name; });
    if (!known)
      throw Error(ErrorKind::input, "column '" + c.name + "' (" + to_string(c.kind) + ") was not in the training data", table.path,
                  "the file must have the columns the model was trained on");
  }

  Dataset ds;
  const size_t rows = table.rows;
  ds.rows = rows;
  ds.n_dense = n_dense();
  ds.n_cat = cat_.size();
  ds.n_task = tasks_.size();
  ds.cat_cardinality = cat_cardinality();
  ds.dense_names = dense_names();
  ds.cat_names = cat_names();
  for (const auto& t : tasks_) ds.task_names.push_back(t.name);
  ds.dense.resize(rows * ds.n_dense);
  ds.cat.resize(rows * ds.n_cat);
  ds.labels.assign(rows * ds.n_task, kNaN);

  size_t flag_j = dense_.size();
  for (size_t j = 0; j < dense_.size(); ++j) {
    const DenseFeature& f = dense_[j];
    const std::vector<float>& v = table.find(f.name)->values;
    const double inv = 1.0 / f.scale;
    const float filled = static_cast<float>((f.fill - f.center) * inv);
    float* out = ds.dense.data() + j;
    float* flag = f.flag ? ds.dense.data() + flag_j : nullptr;
    for (size_t r = 0; r < rows; ++r) {
      const float x = v[r];
      const bool miss = std::isnan(x);
      out[r * ds.n_dense] = miss ? filled : static_cast<float>((x - f.center) * inv);
      if (flag) flag[r * ds.n_dense] = miss ? 1.0f : 0.0f;
    }
    if (f.flag) ++flag_j;
  }

  for (size_t j = 0; j < cat_.size(); ++j) {
    const CatFeature& f = cat_[j];
    const RawColumn& c = *table.find(f.name);
    // Dictionary code -> pipeline code, once per distinct value.
    std::vector<int32_t> map(c.dictionary.size());
    for (size_t k = 0; k < c.dictionary.size(); ++k) {
      const std::string& s = c.dictionary[k];
      if (f.hash_buckets > 0) {
        map[k] = static_cast<int32_t>(fnv1a64(s) % static_cast<uint64_t>(f.hash_buckets)) + 1;
      } else {
        auto it = std::lower_bound(f.vocab.begin(), f.vocab.end(), s);
        map[k] = (it != f.vocab.end() && *it == s) ? static_cast<int32_t>(it - f.vocab.begin()) + 1 : 0;
      }
    }
    int32_t* out = ds.cat.data() + j;
    for (size_t r = 0; r < rows; ++r) {
      const int32_t code = c.codes[r];
      out[r * ds.n_cat] = code < 0 ? f.missing_code : map[static_cast<size_t>(code)];
    }
  }

  for (size_t t = 0; t < tasks_.size(); ++t) {
    const RawColumn* c = table.find(tasks_[t].name);
    if (!c) continue;  // predict: no labels
    for (size_t r = 0; r < rows; ++r) ds.labels[r * ds.n_task + t] = c->values[r];
  }
  if (!weight_.empty()) {
    if (const RawColumn* c = table.find(weight_)) ds.weights = c->values;
  }
  return ds;
}

// ---- JSON ---------------------------------------------------------------------------------------------------

nlohmann::json FeaturePipeline::to_json() const {
  nlohmann::json j;
  j["version"] = 1;
  j["schema"] = schema_.to_json();
  j["options"] = {{"scaling", to_string(options_.scaling)},
                  {"min_count", options_.min_count},
                  {"hash_buckets", options_.hash_buckets},
                  {"missing_flags", options_.missing_flags}};
  nlohmann::json inputs = nlohmann::json::array();
  for (const auto& in : inputs_) inputs.push_back({{"name", in.name}, {"kind", to_string(in.kind)}});
  j["inputs"] = std::move(inputs);
  nlohmann::json dense = nlohmann::json::array();
  for (const auto& f : dense_)
    dense.push_back({{"name", f.name}, {"center", f.center}, {"scale", f.scale}, {"fill", f.fill}, {"flag", f.flag}});
  j["dense"] = std::move(dense);
  nlohmann::json cat = nlohmann::json::array();
  for (const auto& f : cat_)
    cat.push_back({{"name", f.name},
                   {"hash_buckets", f.hash_buckets},
                   {"vocab", f.vocab},
                   {"missing_code", f.missing_code},
                   {"cardinality", f.cardinality}});
  j["categorical"] = std::move(cat);
  nlohmann::json tasks = nlohmann::json::array();
  for (const auto& t : tasks_) tasks.push_back({{"name", t.name}, {"task", to_string(t.kind)}, {"loss_weight", t.loss_weight}});
  j["tasks"] = std::move(tasks);
  j["weight"] = weight_;
  return j;
}

FeaturePipeline FeaturePipeline::from_json(const nlohmann::json& j) {
  FeaturePipeline p;
  try {
    if (j.at("version").get<int>() != 1)
      throw Error(ErrorKind::format, "unsupported feature pipeline version " + j.at("version").dump(), "pipeline.version");
    p.schema_ = Schema::from_json(j.at("schema"));
    const auto& o = j.at("options");
    p.options_.scaling = parse_scaling(o.at("scaling").get<std::string>(), "pipeline.options.scaling");
    p.options_.min_count = o.at("min_count").get<int64_t>();
    p.options_.hash_buckets = o.at("hash_buckets").get<int64_t>();
    p.options_.missing_flags = o.at("missing_flags").get<bool>();
    for (const auto& in : j.at("inputs"))
      p.inputs_.push_back({in.at("name").get<std::string>(), parse_column_kind(in.at("kind").get<std::string>(), "pipeline.inputs")});
    for (const auto& d : j.at("dense")) {
      DenseFeature f;
      f.name = d.at("name").get<std::string>();
      f.center = d.at("center").get<double>();
      f.scale = d.at("scale").get<double>();
      f.fill = d.at("fill").get<double>();
      f.flag = d.at("flag").get<bool>();
      if (!(f.scale > 0) || !std::isfinite(f.center) || !std::isfinite(f.fill))
        throw Error(ErrorKind::format, "dense feature '" + f.name + "' has a bad scale or center", "pipeline.dense");
      p.dense_.push_back(std::move(f));
    }
    for (const auto& c : j.at("categorical")) {
      CatFeature f;
      f.name = c.at("name").get<std::string>();
      f.hash_buckets = c.at("hash_buckets").get<int64_t>();
      f.vocab = c.at("vocab").get<std::vector<std::string>>();
      f.missing_code = c.at("missing_code").get<int32_t>();
      f.cardinality = c.at("cardinality").get<int64_t>();
      const int64_t expect = f.hash_buckets > 0 ? f.hash_buckets + 1
                                                : static_cast<int64_t>(f.vocab.size()) + 1 + (f.missing_code > 0 ? 1 : 0);
      if (f.cardinality != expect || f.missing_code < 0 || f.missing_code >= f.cardinality ||
          !std::is_sorted(f.vocab.begin(), f.vocab.end()))
        throw Error(ErrorKind::format, "categorical feature '" + f.name + "' is inconsistent", "pipeline.categorical");
      p.cat_.push_back(std::move(f));
    }
    for (const auto& t : j.at("tasks"))
      p.tasks_.push_back({t.at("name").get<std::string>(), parse_task_kind(t.at("task").get<std::string>()),
                          t.at("loss_weight").get<float>()});
    p.weight_ = j.at("weight").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::format, std::string("malformed feature pipeline: ") + e.what(), "pipeline");
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::format) throw;
    throw Error(ErrorKind::format, "malformed feature pipeline: " + e.message(), e.where());
  }
  return p;
}

}  // namespace mmoe
