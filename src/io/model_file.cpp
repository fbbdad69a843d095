// Model files and checkpoints on top of the container (container.cpp): the spec and optimizer config as
// JSON, the parameter arena as one f32 section, and the checks that tie a file's tensor table to the model
// its spec rebuilds. Everything read from the header is type-checked and named in errors ("spec.n_expert").
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

#include "mmoe/error.h"
#include "mmoe/model_file.h"

namespace mmoe {

using nlohmann::json;

namespace {

constexpr const char* kModelFormat = "mmoe-model";
constexpr const char* kCheckpointFormat = "mmoe-checkpoint";

// Reads the fields of one JSON object, each named by its path for errors; unknown keys can be refused.
class Fields {
 public:
  Fields(const json& object, std::string path) : j_(object), path_(std::move(path)) {
    if (!j_.is_object()) fail(path_, "expected an object, got " + describe(j_));
  }

  const json& get(const std::string& key) {
    seen_.insert(key);
    const auto it = j_.find(key);
    if (it == j_.end()) fail(name(key), "missing field");
    return *it;
  }
  int64_t integer(const std::string& key, int64_t lo, int64_t hi) { return integer_value(get(key), name(key), lo, hi); }
  double number(const std::string& key) {
    const json& v = get(key);
    if (!v.is_number()) fail(name(key), "expected a number, got " + describe(v));
    return v.get<double>();
  }
  bool boolean(const std::string& key) {
    const json& v = get(key);
    if (!v.is_boolean()) fail(name(key), "expected true or false, got " + describe(v));
    return v.get<bool>();
  }
  std::string string(const std::string& key) {
    const json& v = get(key);
    if (!v.is_string()) fail(name(key), "expected a string, got " + describe(v));
    return v.get<std::string>();
  }
  const json& array(const std::string& key) {
    const json& v = get(key);
    if (!v.is_array()) fail(name(key), "expected an array, got " + describe(v));
    return v;
  }
  // Refuses keys that were never asked for: a field this build does not know could change the model.
  void no_unknown() const {
    for (auto it = j_.begin(); it != j_.end(); ++it)
      if (!seen_.count(it.key())) fail(name(it.key()), "unknown field (written by another mmoe version?)");
  }
  std::string name(const std::string& key) const { return path_ + "." + key; }

  static int64_t integer_value(const json& v, const std::string& field, int64_t lo, int64_t hi) {
    if (!v.is_number_integer()) fail(field, "expected an integer, got " + describe(v));
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail(field, "integer out of range");
    const int64_t x = v.get<int64_t>();
    if (x < lo || x > hi)
      fail(field, std::to_string(x) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return x;
  }
  [[noreturn]] static void fail(const std::string& field, const std::string& message) {
    throw Error(ErrorKind::format, message, "field '" + field + "'");
  }
  static std::string describe(const json& v) {
    std::string text = v.dump();
    if (text.size() > 40) text = text.substr(0, 37) + "...";
    return std::string(v.type_name()) + " " + text;
  }

 private:
  const json& j_;
  std::string path_;
  std::set<std::string> seen_;
};

constexpr int64_t kIntMax = std::numeric_limits<int>::max();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// Field errors from spec_from_json & co. carry where = "field 'x'"; inside a file, say which file too.
[[noreturn]] void rethrow_in_file(const Error& e, const Container& c) {
  throw Error(ErrorKind::format, (e.where().empty() ? "" : e.where() + ": ") + e.message(),
              c.where(c.header_offset(), "header"), e.hint());
}

json tensor_table(const Model& model) {
  json table = json::array();
  for (const ParamTensor& t : model.tensors())
    table.push_back({{"name", t.name}, {"shape", t.shape}, {"offset", t.offset}, {"size", t.size}});
  return table;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + ")";
}

// A lower bound on the floats the spec's model holds (its weight matrices only), in double so that absurd
// widths cannot overflow. Compared with the params section before the Model is built, so a crafted spec
// cannot make the loader allocate more than the file's own size.
double spec_min_floats(const ModelSpec& spec) {
  const double bank = spec.bank_size(), n_task = spec.n_task();
  const double n_first = bank * spec.expert_units[0] + static_cast<double>(spec.n_gate()) * bank;
  double n = static_cast<double>(spec.gemm_input_width()) * n_first;
  const double cats = static_cast<double>(spec.total_categories());
  n += cats * (spec.cat_encoding == CatEncoding::onehot ? n_first : static_cast<double>(spec.embedding_dim));
  for (size_t l = 1; l < spec.expert_units.size(); ++l)
    n += bank * spec.expert_units[l - 1] * static_cast<double>(spec.expert_units[l]);
  double in = spec.expert_units.back();
  for (int units : spec.tower_units) {
    n += n_task * in * units;
    in = units;
  }
  return n + n_task * in;
}

// Rebuilds the model from a container's spec and fills it from section "params" (shared by both kinds).
LoadedModel load_model_part(const Container& c, const char* format) {
  const json& h = c.header;
  const std::string header_where = c.where(c.header_offset(), "header");
  const auto fmt = h.find("format");
  if (fmt == h.end() || !fmt->is_string() || fmt->get<std::string>() != format)
    throw Error(ErrorKind::format,
                std::string("header field 'format' should be \"") + format + "\", got " +
                    (fmt == h.end() ? std::string("nothing") : fmt->dump()),
                header_where);
  for (const char* key : {"spec", "pipeline", "meta", "tensors"})
    if (!h.contains(key)) throw Error(ErrorKind::format, std::string("the header has no \"") + key + "\"", header_where);

  ModelSpec spec;
  try {
    spec = spec_from_json(h["spec"]);
  } catch (const Error& e) {
    rethrow_in_file(e, c);
  }
  const Section& params = c.section("params", DType::f32);
  const double need = spec_min_floats(spec);
  if (need > static_cast<double>(params.count))
    throw Error(ErrorKind::format,
                "the spec describes a model of at least " + std::to_string(static_cast<uint64_t>(need)) +
                    " parameters, but section 'params' holds " + std::to_string(params.count),
                c.where(params.offset, "section params"));

  LoadedModel out;
  out.model = std::make_unique<Model>(spec);
  Model& model = *out.model;

  // The tensor table must match the rebuilt model's exactly: same names, shapes and places in the arena.
  const json& table = h["tensors"];
  const std::vector<ParamTensor>& tensors = model.tensors();
  if (!table.is_array() || table.size() != tensors.size())
    throw Error(ErrorKind::format,
                "the tensor table lists " + (table.is_array() ? std::to_string(table.size()) : std::string("no")) +
                    " tensors, the model the spec describes has " + std::to_string(tensors.size()),
                header_where);
  for (size_t i = 0; i < tensors.size(); ++i) {
    const ParamTensor& t = tensors[i];
    const json& e = table[i];
    bool same = false;
    std::string got = e.dump();
    if (e.is_object() && e.contains("name") && e["name"].is_string() && e.contains("shape") && e["shape"].is_array() &&
        e.contains("offset") && e["offset"].is_number_unsigned() && e.contains("size") &&
        e["size"].is_number_unsigned()) {
      std::vector<int64_t> shape;
      bool ints = true;
      for (const json& d : e["shape"]) {
        ints = ints && d.is_number_integer();
        if (ints) shape.push_back(d.get<int64_t>());
      }
      same = ints && e["name"].get<std::string>() == t.name && shape == t.shape &&
             e["offset"].get<uint64_t>() == t.offset && e["size"].get<uint64_t>() == t.size;
      if (ints) got = "'" + e["name"].get<std::string>() + "' " + shape_text(shape);
    }
    if (!same)
      throw Error(ErrorKind::format,
                  "tensor #" + std::to_string(i) + " is " + got + " in the file's tensor table, but '" + t.name +
                      "' " + shape_text(t.shape) + " at offset " + std::to_string(t.offset) +
                      " in the model its spec describes",
                  header_where, "the file was written by an mmoe with another parameter layout");
  }
  c.copy_f32("params", model.params());
  out.pipeline = h["pipeline"];
  out.meta = h["meta"];
  return out;
}

json model_header(const Model& model, const char* format, const json& pipeline, const json& meta) {
  return json{{"format", format},          {"spec", spec_to_json(model.spec())}, {"pipeline", pipeline},
              {"meta", meta},              {"tensors", tensor_table(model)}};
}

}  // namespace

// ---- spec / optimizer config -------------------------------------------------------------------------------

json spec_to_json(const ModelSpec& spec) {
  json tasks = json::array();
  for (const TaskSpec& t : spec.tasks)
    tasks.push_back({{"name", t.name}, {"kind", to_string(t.kind)}, {"loss_weight", t.loss_weight}});
  return json{{"arch", to_string(spec.arch)},
              {"n_expert", spec.n_expert},
              {"expert_units", spec.expert_units},
              {"tower_units", spec.tower_units},
              {"tasks", tasks},
              {"n_dense", spec.n_dense},
              {"cat_cardinality", spec.cat_cardinality},
              {"cat_encoding", to_string(spec.cat_encoding)},
              {"embedding_dim", spec.embedding_dim},
              {"init", to_string(spec.init)}};
}

ModelSpec spec_from_json(const json& j) {
  Fields f(j, "spec");
  ModelSpec spec;
  // The enum parsers throw usage errors; in a file they are format errors naming the field.
  const auto parse = [&](const std::string& key, auto parser) {
    const std::string text = f.string(key);
    try {
      return parser(text);
    } catch (const Error& e) {
      Fields::fail(f.name(key), e.message());
    }
  };
  spec.arch = parse("arch", parse_arch);
  spec.n_expert = static_cast<int>(f.integer("n_expert", 0, kIntMax));
  const auto int_list = [&](const std::string& key) {
    std::vector<int> out;
    const json& a = f.array(key);
    for (size_t i = 0; i < a.size(); ++i)
      out.push_back(static_cast<int>(Fields::integer_value(a[i], f.name(key) + "[" + std::to_string(i) + "]", 1, kIntMax)));
    return out;
  };
  spec.expert_units = int_list("expert_units");
  spec.tower_units = int_list("tower_units");
  const json& tasks = f.array("tasks");
  for (size_t i = 0; i < tasks.size(); ++i) {
    Fields t(tasks[i], "spec.tasks[" + std::to_string(i) + "]");
    TaskSpec task;
    task.name = t.string("name");
    const std::string kind = t.string("kind");
    try {
      task.kind = parse_task_kind(kind);
    } catch (const Error& e) {
      Fields::fail(t.name("kind"), e.message());
    }
    const double w = t.number("loss_weight");
    if (!std::isfinite(w) || w < 0.0) Fields::fail(t.name("loss_weight"), "a loss weight must be finite and >= 0");
    task.loss_weight = static_cast<float>(w);
    t.no_unknown();
    spec.tasks.push_back(std::move(task));
  }
  spec.n_dense = f.integer("n_dense", 0, kInt64Max);
  const json& cards = f.array("cat_cardinality");
  for (size_t i = 0; i < cards.size(); ++i)
    spec.cat_cardinality.push_back(
        Fields::integer_value(cards[i], f.name("cat_cardinality") + "[" + std::to_string(i) + "]", 1, kInt64Max));
  spec.cat_encoding = parse("cat_encoding", parse_cat_encoding);
  spec.embedding_dim = static_cast<int>(f.integer("embedding_dim", 0, kIntMax));
  spec.init = parse("init", parse_init);
  f.no_unknown();
  try {
    spec.validate();
  } catch (const Error& e) {
    throw Error(ErrorKind::format, "invalid spec: " + e.message() + " (" + e.where() + ")", "field 'spec'");
  }
  // Sums that the model builder multiplies must stay far from overflow; a real model is nowhere near.
  double total = 0.0;
  for (int64_t c : spec.cat_cardinality) total += static_cast<double>(c);
  if (total > 9e15 || static_cast<double>(spec.n_dense) > 9e15)
    Fields::fail("spec.cat_cardinality", "the input is too wide to be a real model");
  return spec;
}

json optim_to_json(const OptimConfig& c) {
  return json{{"kind", to_string(c.kind)}, {"lr", c.lr},
              {"beta1", c.beta1},          {"beta2", c.beta2},
              {"eps", c.eps},              {"momentum", c.momentum},
              {"nesterov", c.nesterov},    {"weight_decay", c.weight_decay},
              {"decoupled", c.decoupled},  {"lazy_sparse", c.lazy_sparse}};
}

OptimConfig optim_from_json(const json& j) {
  Fields f(j, "optim");
  OptimConfig c;
  const std::string kind = f.string("kind");
  try {
    c.kind = parse_optim_kind(kind);
  } catch (const Error& e) {
    Fields::fail(f.name("kind"), e.message());
  }
  c.lr = f.number("lr");
  c.beta1 = f.number("beta1");
  c.beta2 = f.number("beta2");
  c.eps = f.number("eps");
  c.momentum = f.number("momentum");
  c.nesterov = f.boolean("nesterov");
  c.weight_decay = f.number("weight_decay");
  c.decoupled = f.boolean("decoupled");
  c.lazy_sparse = f.boolean("lazy_sparse");
  f.no_unknown();
  return c;
}

// ---- model files -------------------------------------------------------------------------------------------

void save_model(const std::string& path, const Model& model, const json& pipeline, const json& meta) {
  const std::span<const float> params = model.params();
  write_container(path, FileKind::model, model_header(model, kModelFormat, pipeline, meta),
                  {{"params", DType::f32, params.data(), params.size()}});
}

LoadedModel load_model(const std::string& path) {
  const Container c = read_container(path, FileKind::model);
  return load_model_part(c, kModelFormat);
}

LoadedModel load_model_bytes(std::vector<uint8_t> bytes, const std::string& name) {
  const Container c = read_container_bytes(std::move(bytes), name, FileKind::model);
  return load_model_part(c, kModelFormat);
}

// ---- checkpoints -------------------------------------------------------------------------------------------

void save_checkpoint(const std::string& path, const Model& model, const Optimizer& opt, const json& pipeline,
                     const json& trainer_state,
                     const std::vector<std::pair<std::string, std::span<const float>>>& extra_f32) {
  const std::span<const float> params = model.params(), m = opt.m(), v = opt.v();
  MMOE_CHECK(m.size() == params.size(), "the optimizer does not belong to this model (m has another size)");
  MMOE_CHECK(v.empty() || v.size() == params.size(), "the optimizer does not belong to this model (v has another size)");
  json header = model_header(model, kCheckpointFormat, pipeline, json::object());
  header["optim"] = optim_to_json(opt.config());
  header["optim_steps"] = opt.steps();
  header["trainer_state"] = trainer_state;
  json names = json::array();
  std::vector<SectionData> sections = {{"params", DType::f32, params.data(), params.size()},
                                       {"optim.m", DType::f32, m.data(), m.size()},
                                       {"optim.v", DType::f32, v.data(), v.size()}};
  for (const auto& [name, data] : extra_f32) {
    if (name.empty() || name.size() > kMaxSectionName - 6)
      throw Error(ErrorKind::usage, "a checkpoint's extra array needs a name of 1.." +
                                        std::to_string(kMaxSectionName - 6) + " bytes", path);
    for (const json& seen : names)
      if (seen.get<std::string>() == name)
        throw Error(ErrorKind::usage, "two extra arrays are named '" + name + "'", path);
    names.push_back(name);
    sections.push_back({"extra." + name, DType::f32, data.data(), data.size()});
  }
  header["extra"] = names;
  write_container(path, FileKind::checkpoint, header, sections);
}

LoadedCheckpoint load_checkpoint(const std::string& path) {
  const Container c = read_container(path, FileKind::checkpoint);
  LoadedCheckpoint out;
  out.model = load_model_part(c, kCheckpointFormat);
  const json& h = c.header;
  const std::string header_where = c.where(c.header_offset(), "header");
  for (const char* key : {"optim", "optim_steps", "trainer_state", "extra"})
    if (!h.contains(key)) throw Error(ErrorKind::format, std::string("the header has no \"") + key + "\"", header_where);
  try {
    out.optim = optim_from_json(h["optim"]);
    out.optim_steps = Fields::integer_value(h["optim_steps"], "optim_steps", 0, kInt64Max);
  } catch (const Error& e) {
    rethrow_in_file(e, c);
  }
  const size_t arena = out.model.model->arena_size();
  out.m.resize(arena);
  c.copy_f32("optim.m", out.m);
  const Section& v = c.section("optim.v", DType::f32);
  const size_t v_size = out.optim.kind == OptimKind::adam ? arena : 0;
  if (v.count != v_size)
    throw Error(ErrorKind::format,
                "section 'optim.v' holds " + std::to_string(v.count) + " floats; a " + to_string(out.optim.kind) +
                    " optimizer for this model has " + std::to_string(v_size),
                c.where(v.offset, "section optim.v"));
  out.v = c.read_f32("optim.v");
  out.trainer_state = h["trainer_state"];
  const json& names = h["extra"];
  if (!names.is_array()) throw Error(ErrorKind::format, "header field 'extra' is not an array", header_where);
  for (const json& name : names) {
    if (!name.is_string()) throw Error(ErrorKind::format, "header field 'extra' holds a non-string", header_where);
    const std::string key = name.get<std::string>();
    if (out.extra.count(key)) throw Error(ErrorKind::format, "extra array '" + key + "' is listed twice", header_where);
    out.extra[key] = c.read_f32("extra." + key);
  }
  return out;
}

void restore_optimizer(Optimizer& opt, const LoadedCheckpoint& ck) {
  if (opt.config().kind != ck.optim.kind || opt.m().size() != ck.m.size() || opt.v().size() != ck.v.size())
    throw Error(ErrorKind::usage,
                std::string("the checkpoint's optimizer state (") + to_string(ck.optim.kind) + ", " +
                    std::to_string(ck.m.size()) + " parameters) does not fit this optimizer (" +
                    to_string(opt.config().kind) + ", " + std::to_string(opt.m().size()) + ")",
                "optimizer", "build the optimizer from the checkpoint's model and config: Optimizer(model, ck.optim)");
  if (!ck.m.empty()) std::memcpy(opt.m().data(), ck.m.data(), ck.m.size() * sizeof(float));
  if (!ck.v.empty()) std::memcpy(opt.v().data(), ck.v.data(), ck.v.size() * sizeof(float));
  opt.set_steps(ck.optim_steps);
}

}  // namespace mmoe
