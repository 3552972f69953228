"""A strict offline schema check of Kubernetes objects, against the model classes of Debian's
python3-kubernetes (run with /usr/bin/python3).

Each model class lists its fields (`attribute_map`: Python name -> JSON name) and their types
(`openapi_types`: 'str', 'int', 'bool', 'object', 'list[V1Container]', 'dict(str, str)', a model
name). The checker walks every object against them and reports, with the field's path:
unknown fields (a misspelled `priorityClassname`), values of the wrong type, and required
fields that are missing (the models' constructors refuse those). The client's own
deserialisation silently drops unknown fields, which is why it is not used.

The models are of the client's Kubernetes version (1.22 for Debian's 22.6): fields added later
are unknown to it, which the Weave Net manifest does not use.

Usage: k8s_schema.py FILE... (YAML, several documents and `kind: List` allowed); exit 1 and one
line per problem when any is found.
"""

import difflib
import re
import sys

import kubernetes.client as models
import yaml

# (apiVersion, kind) -> model class name, for the kinds a manifest may hold.
_GROUPS = {"v1", "apps/v1", "rbac.authorization.k8s.io/v1", "networking.k8s.io/v1",
           "policy/v1", "scheduling.k8s.io/v1"}


def _model_for(api_version, kind):
    if api_version not in _GROUPS or not isinstance(kind, str):
        return None
    version = api_version.split("/")[-1]
    cls = getattr(models, version.capitalize() + kind, None)
    if cls is None or not hasattr(cls, "openapi_types") or "kind" not in cls.attribute_map:
        return None
    return cls


def _type_name(value):
    return type(value).__name__


class _Checker:
    def __init__(self):
        self.errors = []

    def error(self, path, message):
        self.errors.append(f"{path}: {message}")

    def value(self, value, type_name, path):
        """Checks `value` against an openapi type; returns the value to hand a constructor."""
        if type_name == "str":
            if not isinstance(value, str):
                self.error(path, f"expected a string, got {_type_name(value)} {value!r}")
            return value
        if type_name == "int":
            if not isinstance(value, int) or isinstance(value, bool):
                self.error(path, f"expected an integer, got {_type_name(value)} {value!r}")
            return value
        if type_name == "bool":
            if not isinstance(value, bool):
                self.error(path, f"expected a boolean, got {_type_name(value)} {value!r}")
            return value
        if type_name == "float":
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                self.error(path, f"expected a number, got {_type_name(value)} {value!r}")
            return value
        if type_name in ("datetime", "date"):
            if not isinstance(value, str):
                self.error(path, f"expected a timestamp string, got {_type_name(value)}")
            return value
        if type_name == "object":  # IntOrString, RawExtension, ...: any JSON value
            return value
        match = re.fullmatch(r"list\[(.+)\]", type_name)
        if match:
            if not isinstance(value, list):
                self.error(path, f"expected a list, got {_type_name(value)}")
                return value
            return [self.value(item, match.group(1), f"{path}[{i}]")
                    for i, item in enumerate(value)]
        match = re.fullmatch(r"dict\(str, (.+)\)", type_name)
        if match:
            if not isinstance(value, dict):
                self.error(path, f"expected a mapping, got {_type_name(value)}")
                return value
            for key in value:
                if not isinstance(key, str):
                    self.error(path, f"key {key!r} is not a string")
            return {key: self.value(item, match.group(1), f"{path}.{key}")
                    for key, item in value.items()}
        cls = getattr(models, type_name, None)
        if cls is None or not hasattr(cls, "openapi_types"):
            raise AssertionError(f"{path}: the client has no model {type_name}")
        return self.model(value, cls, path)

    def model(self, value, cls, path):
        if not isinstance(value, dict):
            self.error(path, f"expected a {cls.__name__} mapping, got {_type_name(value)}")
            return None
        by_json_name = {json_name: attr for attr, json_name in cls.attribute_map.items()}
        kwargs = {}
        for key, item in value.items():
            attr = by_json_name.get(key)
            if attr is None:
                close = difflib.get_close_matches(str(key), by_json_name, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                self.error(f"{path}.{key}", f"unknown field of {cls.__name__}{hint}")
                continue
            if item is None:
                continue  # an explicit null is the same as leaving the field out
            kwargs[attr] = self.value(item, cls.openapi_types[attr], f"{path}.{key}")
        try:
            return cls(**kwargs)
        except (ValueError, TypeError) as e:  # the constructor's check of required fields
            self.error(path, f"{cls.__name__}: {e}")
            return None

    def top_level(self, obj, path):
        if not isinstance(obj, dict):
            self.error(path, f"expected an object, got {_type_name(obj)}")
            return
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if api_version == "v1" and kind == "List":
            for key in obj:
                if key not in ("apiVersion", "kind", "items", "metadata"):
                    self.error(f"{path}.{key}", "unknown field of List")
            items = obj.get("items")
            if not isinstance(items, list):
                self.error(f"{path}.items", "a List needs a list of items")
                return
            for i, item in enumerate(items):
                self.top_level(item, f"{path}.items[{i}]")
            return
        cls = _model_for(api_version, kind)
        if cls is None:
            self.error(path, f"unknown apiVersion/kind {api_version!r}/{kind!r}")
            return
        name = (obj.get("metadata") or {}).get("name", "?")
        self.model(obj, cls, f"{path}({kind} {name})")


def check_objects(objects, where="object"):
    """Problems (strings) of the objects (each a dict, possibly a List); empty when all pass."""
    checker = _Checker()
    for i, obj in enumerate(objects):
        if obj is not None:  # an empty YAML document
            checker.top_level(obj, f"{where}[{i}]")
    return checker.errors


def check_yaml_text(text, where="document"):
    return check_objects(list(yaml.safe_load_all(text)), where)


def main(paths):
    problems = []
    for path in paths:
        with open(path) as f:
            problems += check_yaml_text(f.read(), path)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
