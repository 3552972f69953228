"""The Helm chart (charts/weave-net): it lints, renders exactly the generator's objects for every
row of the matrix (chart values <-> query parameters), refuses what the generator refuses, and
its renders pass the strict schema check and kubectl's dry run."""

import os
import re
import tempfile
import unittest

import yaml

import k8s_schema
import manifest_sources as sources
from fake_discovery import FakeDiscovery


def _project_version():
    with open(os.path.join(sources.charts_dir(), "..", "CMakeLists.txt")) as f:
        return re.search(r"project\(\S+ VERSION (\S+)", f.read()).group(1)


def _containers(objs):
    ds = next(o for o in objs.values() if o["kind"] == "DaemonSet")
    spec = ds["spec"]["template"]["spec"]
    return {c["name"]: c for c in spec["initContainers"] + spec["containers"]}


class ChartTest(unittest.TestCase):
    maxDiff = None  # show the whole difference between the chart's and the generator's object
    def test_helm_lint_strict(self):
        result = sources.run([sources.helm(), "lint", "--strict", sources.chart_path()])
        self.assertIn("1 chart(s) linted, 0 chart(s) failed", result.stdout)

    def test_chart_versions_follow_the_project(self):
        with open(os.path.join(sources.chart_path(), "Chart.yaml")) as f:
            chart = yaml.safe_load(f)
        self.assertEqual(chart["version"], _project_version())
        self.assertEqual(chart["appVersion"], _project_version())

    def test_chart_renders_the_generator_objects_for_every_row(self):
        for query, values, kube_version in sources.MATRIX:
            with self.subTest(query=query, values=values):
                chart = sources.objects(sources.render_chart(values, kube_version).stdout)
                generated = sources.objects(sources.generate(query))
                self.assertEqual(list(chart), list(generated))  # same objects, same order
                for key in generated:
                    self.assertEqual(chart[key], generated[key], key)

    def test_the_readme_helm_example_matches_its_generator_query(self):
        # charts/README.md: --set disableNpc=true --set-string 'env[0].name=WEAVE_MTU,...'
        result = sources.run([sources.helm(), "template", "weave-net", sources.chart_path(),
                              "--namespace", "kube-system", "--set", "disableNpc=true",
                              "--set-string", "env[0].name=WEAVE_MTU,env[0].value=1337"])
        self.assertEqual(sources.objects(result.stdout),
                         sources.objects(sources.generate("env.WEAVE_MTU=1337&disable-npc=true")))

    def test_chart_defaults_are_the_static_manifest(self):
        with open(sources.static_manifest_path()) as f:
            static = sources.objects(f.read())
        self.assertEqual(sources.objects(sources.render_chart({}).stdout), static)

    def test_chart_refuses_what_the_generator_refuses(self):
        for query, values, kube_version in sources.REFUSED:
            with self.subTest(query=query, values=values):
                self.assertNotEqual(sources.run([sources.generator(), query],
                                                check=False).returncode, 0)
                result = sources.render_chart(values, kube_version, check=False)
                self.assertNotEqual(result.returncode, 0, result.stdout)
                self.assertIn("Error:", result.stderr)

    def test_chart_schema_rejects_a_misspelled_value(self):
        result = sources.render_chart({"disableNPC": True}, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("Additional property disableNPC is not allowed", result.stderr)
        result = sources.render_chart({"env": [{"name": "WEAVE_MTU", "value": 1337}]}, check=False)
        self.assertIn("env.0.value: Invalid type. Expected: string", result.stderr)

    def test_guaranteed_qos_sets_requests_equal_to_limits_for_every_container(self):
        default = _containers(sources.objects(sources.render_chart({}).stdout))
        for name, container in default.items():
            self.assertEqual(container["resources"], {"requests": {"cpu": "10m"}}, name)

        qos = _containers(sources.objects(
            sources.render_chart({"guaranteedQoS": {"enabled": True}}).stdout))
        self.assertEqual(set(qos), {"weave-init", "weave", "weave-npc"})
        for name, container in qos.items():
            resources = container["resources"]
            self.assertEqual(resources["requests"], resources["limits"], name)
            self.assertEqual(set(resources["limits"]), {"cpu", "memory"}, name)
        self.assertEqual(qos["weave"]["resources"]["limits"], {"cpu": "500m", "memory": "256Mi"})

        custom = _containers(sources.objects(sources.render_chart({"guaranteedQoS": {
            "enabled": True, "resources": {
                "weave": {"cpu": "1", "memory": "1Gi"},
                "weaveNpc": {"cpu": "250m", "memory": "128Mi"},
                "weaveInit": {"cpu": "50m", "memory": "32Mi"}}}}).stdout))
        self.assertEqual(custom["weave"]["resources"],
                         {"requests": {"cpu": "1", "memory": "1Gi"},
                          "limits": {"cpu": "1", "memory": "1Gi"}})
        self.assertEqual(custom["weave-init"]["resources"]["limits"],
                         {"cpu": "50m", "memory": "32Mi"})
        # Everything else is as without it.
        for name in qos:
            del qos[name]["resources"], default[name]["resources"]
        self.assertEqual(qos, default)

    def test_every_render_passes_the_schema_check_and_kubectl(self):
        renders = [sources.render_chart(values, kube_version).stdout
                   for _, values, kube_version in sources.MATRIX]
        renders.append(sources.render_chart({"guaranteedQoS": {"enabled": True}}).stdout)
        for i, text in enumerate(renders):
            self.assertEqual(k8s_schema.check_yaml_text(text, f"render {i}"), [])
        with tempfile.TemporaryDirectory() as dir, FakeDiscovery() as discovery:
            for i, text in enumerate(renders):
                with open(os.path.join(dir, f"render-{i:02}.yaml"), "w") as f:
                    f.write(text)
            result = sources.run([sources.kubectl(), *discovery.kubectl_args(), "apply",
                                  "--dry-run=client", "--validate=false", "-f", dir], check=False)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stdout.count("daemonset.apps/weave-net created (dry run)"),
                             len(renders))


if __name__ == "__main__":
    unittest.main()
