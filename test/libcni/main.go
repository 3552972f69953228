// libcni-runner: drives CNI plugins through libcni, the library container runtimes (containerd,
// CRI-O, podman) link to call them, so that kernel tests see our plugin exactly as a runtime does.
// One operation per run, like a runtime's separate calls; results persist in -cache between runs,
// which is where libcni takes CHECK's and DEL's prevResult from.
//
//	libcni-runner version  -type weave-net
//	libcni-runner validate -conf FILE
//	libcni-runner add|check|del -conf FILE -netns PATH -id ID [-ifname eth0] -cache DIR
//	              [-port-mappings JSON] [-args K=V;K=V]
//	libcni-runner gc -conf FILE -valid ID/IFNAME,...      (CNI 1.1.0, see below)
//	libcni-runner status -conf FILE                        (CNI 1.1.0, see below)
//
// -conf is a network configuration list (ConfListFromBytes) or a single network configuration
// (ConfFromBytes, then ConfListFromConf); either way the *NetworkList calls run it. Plugins are
// looked up in CNI_PATH, which is also what they get as CNI_PATH. The rest of this process's
// environment reaches them too (libcni passes it on), e.g. WEAVE_SOCKET.
//
// Prints: add, the result as libcni parsed it (JSON); version, the plugin's VERSION answer as
// libcni parsed it and the spec version libcni implements ("libcni"); validate, the
// capabilities. Exit 0 on success. On error, exit 1 with "libcni-runner: <op>: <error>" on
// stderr, and the CNI error (code, msg) as JSON on stdout when a plugin returned one.
//
// Built offline from Debian's golang-go and golang-github-appc-cni-dev (libcni 1.1.2), in GOPATH
// mode so that no module is fetched; test/CMakeLists.txt does this, by hand from the repository
// root (GOPATH mode takes a relative package path only):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOENV=off GOFLAGS= \
//	  GOCACHE=$(mktemp -d) CGO_ENABLED=0 go build -buildvcs=false -o /tmp/libcni-runner ./test/libcni
//
// libcni 1.1.2 implements the CNI spec up to 1.0.0: it cannot parse a result whose cniVersion is
// 1.1.0, and it has no GC or STATUS call (GCNetworkList and GetStatusNetworkList came in libcni
// 1.2). gc and status therefore do what those calls do for each plugin of the list, with this
// libcni's own pieces: InjectConf adds name, cniVersion (and for GC "cni.dev/valid-attachments")
// and invoke runs the plugin. gc leaves out GCNetworkList's first step, a DEL of every cached
// attachment missing from the valid list, so that what goes is what the plugin's GC removed.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage", errors.New("libcni-runner version|validate|add|check|del [flags]"))
	}
	op := os.Args[1]
	flags := flag.NewFlagSet(op, flag.ExitOnError)
	confPath := flags.String("conf", "", "network configuration (list) file")
	pluginType := flags.String("type", "weave-net", "plugin for version")
	netns := flags.String("netns", "", "network namespace path")
	containerID := flags.String("id", "", "container ID")
	ifname := flags.String("ifname", "eth0", "interface name")
	cacheDir := flags.String("cache", "", "libcni's result cache directory")
	portMappings := flags.String("port-mappings", "", "runtimeConfig portMappings (JSON array)")
	cniArgs := flags.String("args", "", "CNI_ARGS as K=V;K=V")
	valid := flags.String("valid", "", "gc: valid attachments as ID/IFNAME,ID/IFNAME")
	flags.Parse(os.Args[2:])

	cni := libcni.NewCNIConfigWithCacheDir(filepath.SplitList(os.Getenv("CNI_PATH")), *cacheDir, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	if op == "version" {
		info, err := cni.GetVersionInfo(ctx, *pluginType)
		if err != nil {
			fail(op, err)
		}
		printJSON(map[string]interface{}{
			"supportedVersions": info.SupportedVersions(),
			"libcni":            version.Current(),
		})
		return
	}

	list, err := loadConf(*confPath)
	if err != nil {
		fail("loading "+*confPath, err)
	}
	if op == "validate" {
		caps, err := cni.ValidateNetworkList(ctx, list)
		if err != nil {
			fail(op, err)
		}
		printJSON(map[string]interface{}{"capabilities": caps})
		return
	}

	switch op {
	case "gc":
		attachments := []map[string]string{}
		for _, entry := range strings.Split(*valid, ",") {
			if id, ifname, ok := strings.Cut(entry, "/"); ok {
				attachments = append(attachments, map[string]string{"containerID": id, "ifname": ifname})
			}
		}
		invokeEach(ctx, "GC", list, map[string]interface{}{"cni.dev/valid-attachments": attachments})
		return
	case "status":
		invokeEach(ctx, "STATUS", list, map[string]interface{}{})
		return
	}

	rt := &libcni.RuntimeConf{ContainerID: *containerID, NetNS: *netns, IfName: *ifname}
	for _, pair := range strings.Split(*cniArgs, ";") {
		if k, v, ok := strings.Cut(pair, "="); ok {
			rt.Args = append(rt.Args, [2]string{k, v})
		}
	}
	if *portMappings != "" {
		var mappings []map[string]interface{}
		if err := json.Unmarshal([]byte(*portMappings), &mappings); err != nil {
			fail("parsing -port-mappings", err)
		}
		rt.CapabilityArgs = map[string]interface{}{"portMappings": mappings}
	}

	switch op {
	case "add":
		result, err := cni.AddNetworkList(ctx, list, rt)
		if err != nil {
			fail(op, err)
		}
		if err := result.PrintTo(os.Stdout); err != nil {
			fail("printing the result", err)
		}
	case "check":
		if err := cni.CheckNetworkList(ctx, list, rt); err != nil {
			fail(op, err)
		}
	case "del":
		if err := cni.DelNetworkList(ctx, list, rt); err != nil {
			fail(op, err)
		}
	default:
		fail("usage", fmt.Errorf("unknown operation %q", op))
	}
}

// loadConf reads a conflist, or a single configuration wrapped into a list of one.
func loadConf(path string) (*libcni.NetworkConfigList, error) {
	data, err := ioutil.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, err
	}
	if _, isList := probe["plugins"]; isList {
		return libcni.ConfListFromBytes(data)
	}
	conf, err := libcni.ConfFromBytes(data)
	if err != nil {
		return nil, err
	}
	return libcni.ConfListFromConf(conf)
}

// invokeEach runs `command` on every plugin of the list in order, as libcni 1.2's
// GCNetworkList and GetStatusNetworkList do, stopping at the first error.
func invokeEach(ctx context.Context, command string, list *libcni.NetworkConfigList,
	inject map[string]interface{}) {
	inject["name"] = list.Name
	inject["cniVersion"] = list.CNIVersion
	path := os.Getenv("CNI_PATH")
	for _, plugin := range list.Plugins {
		conf, err := libcni.InjectConf(plugin, inject)
		if err != nil {
			fail(command, err)
		}
		pluginPath, err := invoke.FindInPath(plugin.Network.Type, filepath.SplitList(path))
		if err != nil {
			fail(command, err)
		}
		args := &invoke.Args{Command: command, Path: path}
		if err := invoke.ExecPluginWithoutResult(ctx, pluginPath, conf.Bytes, args, nil); err != nil {
			fail(command+" "+plugin.Network.Type, err)
		}
	}
}

func printJSON(value interface{}) {
	data, err := json.MarshalIndent(value, "", "  ")
	if err != nil {
		fail("printing", err)
	}
	fmt.Println(string(data))
}

func fail(op string, err error) {
	var cniErr *types.Error
	if errors.As(err, &cniErr) {
		printJSON(cniErr)
	}
	fmt.Fprintf(os.Stderr, "libcni-runner: %s: %v\n", op, err)
	os.Exit(1)
}
