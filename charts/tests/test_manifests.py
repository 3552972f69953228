"""The manifest as users get it: the static file and the generator, on the command line and over
HTTP. Every output passes the strict schema check and `kubectl apply --dry-run=client` against
a fake discovery server, including the spec's install command word for word (host aside)."""

import os
import re
import subprocess
import tempfile
import unittest

import k8s_schema
import manifest_sources as sources
from fake_discovery import FakeDiscovery


class GeneratorServer:
    """weave-manifest --serve 127.0.0.1:0, for the duration of a `with`."""

    def __enter__(self):
        self.process = subprocess.Popen([sources.generator(), "--serve", "127.0.0.1:0"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        match = re.search(r"serving GET /k8s/net on 127\.0\.0\.1:(\d+)", line)
        if not match:
            self.process.kill()
            raise AssertionError(f"weave-manifest --serve printed {line!r}, "
                                 f"stderr {self.process.stderr.read()!r}")
        self.url = f"http://127.0.0.1:{match.group(1)}/k8s/net"
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process.stdout.close()
        self.process.stderr.close()
        return False


class ManifestTest(unittest.TestCase):
    def kubectl_apply(self, discovery, source):
        result = sources.run([sources.kubectl(), *discovery.kubectl_args(), "apply",
                              "--dry-run=client", "--validate=false", "-f", source], check=False)
        self.assertEqual(result.returncode, 0, f"kubectl apply -f {source}:\n{result.stderr}")
        return result.stdout

    def test_static_manifest_is_the_default_output(self):
        with open(sources.static_manifest_path()) as f:
            self.assertEqual(f.read(), sources.generate(""),
                             "regenerate: build/charts/generator/weave-manifest > "
                             "charts/weave-daemonset-k8s.yaml")

    def test_every_generator_output_passes_the_schema_check(self):
        for query, _, _ in sources.MATRIX:
            with self.subTest(query=query):
                self.assertEqual(k8s_schema.check_yaml_text(sources.generate(query), query), [])

    def test_every_output_passes_kubectl_dry_run(self):
        with tempfile.TemporaryDirectory() as dir, FakeDiscovery() as discovery:
            for i, (query, _, _) in enumerate(sources.MATRIX):
                with open(os.path.join(dir, f"generated-{i:02}.yaml"), "w") as f:
                    f.write(sources.generate(query))
            out = self.kubectl_apply(discovery, dir)
            self.assertEqual(out.count("daemonset.apps/weave-net created (dry run)"),
                             len(sources.MATRIX))
            out = self.kubectl_apply(discovery, sources.static_manifest_path())
            self.assertEqual(out.splitlines(), [
                "serviceaccount/weave-net created (dry run)",
                "clusterrole.rbac.authorization.k8s.io/weave-net created (dry run)",
                "clusterrolebinding.rbac.authorization.k8s.io/weave-net created (dry run)",
                "role.rbac.authorization.k8s.io/weave-net created (dry run)",
                "rolebinding.rbac.authorization.k8s.io/weave-net created (dry run)",
                "daemonset.apps/weave-net created (dry run)",
            ])

    def test_kubectl_dry_run_fails_on_a_broken_manifest(self):
        # The fake server is no rubber stamp: a kind the API does not have, or bad YAML, fails.
        text = sources.generate("").replace("kind: DaemonSet", "kind: DaemonSett")
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f, FakeDiscovery() as discovery:
            f.write(text)
            f.flush()
            result = sources.run([sources.kubectl(), *discovery.kubectl_args(), "apply",
                                  "--dry-run=client", "--validate=false", "-f", f.name],
                                 check=False)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("DaemonSett", result.stderr)

    def test_the_spec_install_command_works_against_the_served_generator(self):
        # The spec's command with cloud.weave.works replaced by our server; kubectl version
        # asks the discovery (Server Version: v1.29.0), kubectl fetches the URL itself.
        with GeneratorServer() as server, FakeDiscovery() as discovery:
            kubectl = " ".join([sources.kubectl(), *discovery.kubectl_args()])
            command = (f'{kubectl} apply --dry-run=client --validate=false -f '
                       f'"{server.url}?k8s-version=$({kubectl} version | base64 | tr -d '
                       f"'\\n')&env.WEAVE_MTU=1337\"")
            result = subprocess.run(["bash", "-c", command], capture_output=True, text=True,
                                    timeout=60)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("daemonset.apps/weave-net created (dry run)", result.stdout)
            # The same through curl, as the spec's note on saving the YAML does.
            saved = subprocess.run(["curl", "-fsS", f"{server.url}?env.WEAVE_MTU=1337"],
                                   capture_output=True, text=True, timeout=30)
            self.assertEqual(saved.stdout, sources.generate("env.WEAVE_MTU=1337"))
            self.assertIn("                - name: WEAVE_MTU\n                  value: '1337'\n",
                          saved.stdout)

    def test_the_readme_command_line_form_works(self):
        # charts/README.md: weave-manifest "k8s-version=$(kubectl version | base64 | tr -d '\n')"
        # | kubectl apply -f -   (here with --dry-run against the discovery).
        with FakeDiscovery() as discovery:
            kubectl = " ".join([sources.kubectl(), *discovery.kubectl_args()])
            command = (f'{sources.generator()} "k8s-version=$({kubectl} version | base64 | '
                       f"tr -d '\\n')\" | {kubectl} apply --dry-run=client --validate=false "
                       f"-f -")
            result = subprocess.run(["bash", "-o", "pipefail", "-c", command],
                                    capture_output=True, text=True, timeout=60)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("daemonset.apps/weave-net created (dry run)", result.stdout)

    def test_bad_parameters_are_a_one_line_400_or_exit_2(self):
        result = sources.run([sources.generator(), "disable-npc=maybe"], check=False)
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stdout, "")
        self.assertEqual(result.stderr,
                         'weave-manifest: disable-npc: "maybe" is not valid: expected true or '
                         "false\n")
        with GeneratorServer() as server:
            for query, _, _ in sources.REFUSED:
                with self.subTest(query=query):
                    answer = subprocess.run(
                        ["curl", "-sS", "-o", "/dev/stdout", "-w", "\n%{http_code}",
                         f"{server.url}?{query}"], capture_output=True, text=True, timeout=30)
                    body, _, code = answer.stdout.rpartition("\n")
                    self.assertEqual(code, "400")
                    self.assertEqual(body.count("\n"), 1, body)  # one line
                    cli = sources.run([sources.generator(), query], check=False)
                    self.assertEqual(cli.returncode, 2)
                    self.assertEqual(cli.stderr, "weave-manifest: " + body)


if __name__ == "__main__":
    unittest.main()
