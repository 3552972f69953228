"""The strict schema checker (k8s_schema.py) fails when it should: a checker that passes
everything would prove nothing about the manifests."""

import copy
import os
import unittest

import yaml

import k8s_schema
import manifest_sources


def _daemonset():
    with open(manifest_sources.static_manifest_path()) as f:
        manifest = yaml.safe_load(f)
    return next(item for item in manifest["items"] if item["kind"] == "DaemonSet")


class SchemaCheckerTest(unittest.TestCase):
    def assert_fails(self, obj, *fragments):
        problems = k8s_schema.check_objects([obj])
        self.assertTrue(problems, "the checker passed an invalid object")
        text = "\n".join(problems)
        for fragment in fragments:
            self.assertIn(fragment, text)

    def test_the_static_manifest_passes(self):
        with open(manifest_sources.static_manifest_path()) as f:
            self.assertEqual(k8s_schema.check_yaml_text(f.read()), [])

    def test_a_misspelled_field_fails(self):
        ds = _daemonset()
        spec = ds["spec"]["template"]["spec"]
        spec["priorityClassname"] = spec.pop("priorityClassName")
        self.assert_fails(ds, "spec.template.spec.priorityClassname: unknown field of V1PodSpec",
                          "did you mean priorityClassName?")

    def test_an_unknown_field_deep_in_a_container_fails(self):
        ds = _daemonset()
        ds["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["hots"] = "x"
        self.assert_fails(ds, "containers[0].readinessProbe.httpGet.hots: unknown field of "
                              "V1HTTPGetAction")

    def test_a_value_of_the_wrong_type_fails(self):
        ds = _daemonset()
        ds["spec"]["template"]["spec"]["hostNetwork"] = "true"
        self.assert_fails(ds, "spec.template.spec.hostNetwork: expected a boolean")
        ds = _daemonset()
        ds["spec"]["template"]["spec"]["containers"][0]["env"][1]["value"] = True  # unquoted
        self.assert_fails(ds, "env[1].value: expected a string, got bool True")
        ds = _daemonset()
        ds["spec"]["template"]["spec"]["containers"] = {"name": "weave"}
        self.assert_fails(ds, "spec.template.spec.containers: expected a list")

    def test_a_missing_required_field_fails(self):
        ds = _daemonset()
        del ds["spec"]["template"]["spec"]["containers"][0]["name"]
        self.assert_fails(ds, "V1Container: Invalid value for `name`, must not be `None`")
        ds = _daemonset()
        del ds["spec"]["selector"]
        self.assert_fails(ds, "V1DaemonSetSpec: Invalid value for `selector`")

    def test_an_unknown_kind_fails(self):
        self.assert_fails({"apiVersion": "apps/v1", "kind": "DaemonSett", "metadata": {}},
                          "unknown apiVersion/kind 'apps/v1'/'DaemonSett'")
        self.assert_fails({"apiVersion": "extensions/v1beta1", "kind": "DaemonSet"},
                          "unknown apiVersion/kind")

    def test_lists_are_walked(self):
        ds = _daemonset()
        ds["spec"]["updateStrategy"]["tpye"] = "RollingUpdate"
        self.assert_fails({"apiVersion": "v1", "kind": "List", "items": [ds]},
                          "[0].items[0](DaemonSet weave-net).spec.updateStrategy.tpye")
        self.assert_fails({"apiVersion": "v1", "kind": "List", "items": [], "extra": 1},
                          "extra: unknown field of List")

    def test_yaml_1_1_booleans_are_caught(self):
        # An unquoted `value: on` is a boolean to kubectl's YAML reader, not a string.
        ds = _daemonset()
        text = yaml.safe_dump(ds).replace("value: '1'", "value: on", 1)
        problems = k8s_schema.check_yaml_text(text)
        self.assertTrue(any("expected a string, got bool True" in p for p in problems), problems)

    def test_the_command_line_exits_1_on_a_problem(self):
        import subprocess
        import sys
        import tempfile
        ds = copy.deepcopy(_daemonset())
        ds["spec"]["template"]["spec"]["priorityClassname"] = "x"
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            yaml.safe_dump(ds, f)
            f.flush()
            result = subprocess.run([sys.executable, k8s_schema.__file__, f.name],
                                    capture_output=True, text=True)
        self.assertEqual(result.returncode, 1)
        self.assertIn("priorityClassname: unknown field of V1PodSpec", result.stdout)
        result = subprocess.run([sys.executable, k8s_schema.__file__,
                                 manifest_sources.static_manifest_path()],
                                capture_output=True, text=True)
        self.assertEqual((result.returncode, result.stdout), (0, ""))


if __name__ == "__main__":
    unittest.main()
