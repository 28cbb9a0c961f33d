// Transforms over the fields of a JSON object value. A value that is not a JSON
// object (a plain log line, a tombstone) passes through them unchanged.
#include "transforms/transform.hpp"

namespace ferry::transforms {

std::pair<nlohmann::json*, std::string> locate(nlohmann::json& root, const std::string& path,
                                               bool create) {
  nlohmann::json* at = &root;
  size_t start = 0;
  for (;;) {
    size_t dot = path.find('.', start);
    std::string name =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (dot == std::string::npos) return {at, name};
    auto it = at->find(name);
    if (it == at->end()) {
      if (!create) return {nullptr, {}};
      at = &(*at)[name];
      *at = nlohmann::json::object();
    } else if (it->is_object()) {
      at = &*it;
    } else {
      return {nullptr, {}};
    }
    start = dot + 1;
  }
}

nlohmann::json* find_field(nlohmann::json& root, const std::string& path) {
  auto [parent, name] = locate(root, path, false);
  if (parent == nullptr) return nullptr;
  auto it = parent->find(name);
  return it == parent->end() ? nullptr : &*it;
}

namespace {

class InsertField final : public Transform {
 public:
  InsertField(std::string field, nlohmann::json value)
      : field_(std::move(field)), value_(std::move(value)) {}
  bool apply(MutableRecord& r) override {
    auto* obj = r.object();
    if (obj == nullptr) return true;
    auto [parent, name] = locate(*obj, field_, true);
    if (parent == nullptr) return true;  // a step on the way is not an object
    (*parent)[name] = value_;
    r.object_changed();
    return true;
  }

 private:
  std::string field_;
  nlohmann::json value_;
};

class DropField final : public Transform {
 public:
  explicit DropField(std::vector<std::string> fields) : fields_(std::move(fields)) {}
  bool apply(MutableRecord& r) override {
    auto* obj = r.object();
    if (obj == nullptr) return true;
    for (const auto& f : fields_) {
      auto [parent, name] = locate(*obj, f, false);
      if (parent != nullptr && parent->erase(name) > 0) r.object_changed();
    }
    return true;
  }

 private:
  std::vector<std::string> fields_;
};

class RenameField final : public Transform {
 public:
  RenameField(std::string from, std::string to) : from_(std::move(from)), to_(std::move(to)) {}
  bool apply(MutableRecord& r) override {
    auto* obj = r.object();
    if (obj == nullptr) return true;
    auto [parent, name] = locate(*obj, from_, false);
    if (parent == nullptr) return true;
    auto it = parent->find(name);
    if (it == parent->end()) return true;
    nlohmann::json moved = std::move(*it);
    parent->erase(name);
    auto [to_parent, to_name] = locate(*obj, to_, true);
    if (to_parent != nullptr) (*to_parent)[to_name] = std::move(moved);
    r.object_changed();
    return true;
  }

 private:
  std::string from_, to_;
};

class MaskField final : public Transform {
 public:
  MaskField(std::vector<std::string> fields, std::string replacement)
      : fields_(std::move(fields)), replacement_(std::move(replacement)) {}
  bool apply(MutableRecord& r) override {
    auto* obj = r.object();
    if (obj == nullptr) return true;
    for (const auto& f : fields_) {
      if (nlohmann::json* field = find_field(*obj, f)) {
        *field = replacement_;
        r.object_changed();
      }
    }
    return true;
  }

 private:
  std::vector<std::string> fields_;
  std::string replacement_;
};

class ValueToKey final : public Transform {
 public:
  explicit ValueToKey(std::vector<std::string> fields) : fields_(std::move(fields)) {}
  bool apply(MutableRecord& r) override {
    auto* obj = r.object();
    if (obj == nullptr) return true;
    if (fields_.size() == 1) {
      const auto* v = find_field(*obj, fields_[0]);
      if (v == nullptr) {
        r.key.reset();
      } else {
        r.key = v->is_string() ? v->get<std::string>() : v->dump();
      }
      return true;
    }
    nlohmann::json key = nlohmann::json::object();
    for (const auto& f : fields_) {
      const auto* v = find_field(*obj, f);
      key[f] = v == nullptr ? nlohmann::json() : *v;
    }
    r.key = key.dump();
    return true;
  }

 private:
  std::vector<std::string> fields_;
};

}  // namespace

std::unique_ptr<Transform> make_insert_field(const config::Options& o, std::string& error) {
  nlohmann::json value = o.str("value");
  if (o.str("value_type") == "json") {
    value = nlohmann::json::parse(o.str("value"), nullptr, false);
    if (value.is_discarded()) {
      error = "value is not JSON (value_type = \"json\"): " + o.str("value");
      return nullptr;
    }
  }
  return std::make_unique<InsertField>(o.str("field"), std::move(value));
}

std::unique_ptr<Transform> make_drop_field(const config::Options& o, std::string&) {
  return std::make_unique<DropField>(o.list("fields"));
}

std::unique_ptr<Transform> make_rename_field(const config::Options& o, std::string&) {
  return std::make_unique<RenameField>(o.str("from"), o.str("to"));
}

std::unique_ptr<Transform> make_mask_field(const config::Options& o, std::string&) {
  return std::make_unique<MaskField>(o.list("fields"), o.str("replacement"));
}

std::unique_ptr<Transform> make_value_to_key(const config::Options& o, std::string& error) {
  if (o.list("fields").empty()) {
    error = "fields must name at least one field";
    return nullptr;
  }
  return std::make_unique<ValueToKey>(o.list("fields"));
}

}  // namespace ferry::transforms
