// tether-cnitool: a cnitool-compatible CNI driver built on Debian's libcni (golang-github-appc-cni-dev,
// 1.1.2), because Debian ships libcni but not the cnitool binary. Same CLI and environment as
// upstream cnitool: `tether-cnitool add|check|del|gc|status <net> [<netns>]`, NETCONFPATH, CNI_PATH,
// CNI_ARGS, CAP_ARGS, CNI_IFNAME, container ID "cnitool-" + 20 hex chars of sha512(netns path).
// add/check/del go through libcni unchanged (prevResult chaining, result cache, capability args).
// libcni 1.1.2 predates GC and STATUS; those follow libcni 1.3's rules: gc DELs every cached
// attachment of the network, then (conflist >= 1.1.0) sends GC with an empty valid-attachments list;
// status sends STATUS to each plugin (>= 1.1.0 only).
// Extensions for runtime emulation: CNI_CONTAINERID overrides the derived ID; an empty netns
// argument makes a netns-less call (the CRI's second DEL).
package main

import (
	"context"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/version"
)

const defaultNetDir = "/etc/cni/net.d"
const defaultCacheDir = "/var/lib/cni"

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "tether-cnitool: "+format+"\n", a...)
	os.Exit(1)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func cacheDir() string { return envOr("CNI_CACHE_DIR", defaultCacheDir) }

func runtimeConf(netns string) *libcni.RuntimeConf {
	sum := sha512.Sum512([]byte(netns))
	rt := &libcni.RuntimeConf{
		ContainerID: envOr("CNI_CONTAINERID", fmt.Sprintf("cnitool-%x", sum[:10])),
		NetNS:       netns,
		IfName:      envOr("CNI_IFNAME", "eth0"),
		CacheDir:    cacheDir(),
	}
	if args := os.Getenv("CNI_ARGS"); args != "" {
		for _, kv := range strings.Split(args, ";") {
			parts := strings.SplitN(kv, "=", 2)
			if len(parts) != 2 {
				die("invalid CNI_ARGS pair %q", kv)
			}
			rt.Args = append(rt.Args, [2]string{parts[0], parts[1]})
		}
	}
	if capArgs := os.Getenv("CAP_ARGS"); capArgs != "" {
		if err := json.Unmarshal([]byte(capArgs), &rt.CapabilityArgs); err != nil {
			die("invalid CAP_ARGS: %v", err)
		}
	}
	return rt
}

// cachedAttachment is the part of libcni's results cache file gc needs.
type cachedAttachment struct {
	ContainerID string `json:"containerId"`
	IfName      string `json:"ifName"`
	NetworkName string `json:"networkName"`
}

func gc(ctx context.Context, cni *libcni.CNIConfig, list *libcni.NetworkConfigList) error {
	files, _ := filepath.Glob(filepath.Join(cacheDir(), "results", list.Name+"-*"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var a cachedAttachment
		if json.Unmarshal(data, &a) != nil || a.NetworkName != list.Name {
			continue
		}
		rt := &libcni.RuntimeConf{ContainerID: a.ContainerID, IfName: a.IfName, CacheDir: cacheDir()}
		_, cachedRt, err := cni.GetNetworkListCachedConfig(list, rt)
		if err == nil && cachedRt != nil {
			rt = cachedRt
		}
		if err := cni.DelNetworkList(ctx, list, rt); err != nil {
			return fmt.Errorf("gc: DEL of cached attachment %s/%s: %w", a.ContainerID, a.IfName, err)
		}
	}
	return execVerb(ctx, cni, list, "GC", map[string]interface{}{
		"cni.dev/valid-attachments": []interface{}{},
		"cni.dev/attachments":       []interface{}{},
	})
}

// execVerb sends a 1.1.0-only verb to every plugin of the list (no netns, no container ID).
func execVerb(ctx context.Context, cni *libcni.CNIConfig, list *libcni.NetworkConfigList, verb string, extra map[string]interface{}) error {
	if gt, err := version.GreaterThanOrEqualTo(list.CNIVersion, "1.1.0"); err != nil || !gt {
		return nil // libcni skips GC/STATUS for older configs
	}
	for _, p := range list.Plugins {
		var conf map[string]interface{}
		if err := json.Unmarshal(p.Bytes, &conf); err != nil {
			return err
		}
		conf["name"] = list.Name
		conf["cniVersion"] = list.CNIVersion
		for k, v := range extra {
			conf[k] = v
		}
		stdin, _ := json.Marshal(conf)
		path, err := invoke.FindInPath(p.Network.Type, cni.Path)
		if err != nil {
			return err
		}
		args := &invoke.Args{Command: verb, Path: strings.Join(cni.Path, string(os.PathListSeparator))}
		if err := invoke.ExecPluginWithoutResult(ctx, path, stdin, args, nil); err != nil {
			return fmt.Errorf("%s %s: %w", verb, p.Network.Type, err)
		}
	}
	return nil
}

func main() {
	if len(os.Args) < 3 {
		die("usage: tether-cnitool add|check|del|gc|status <net> [<netns>]")
	}
	cmd, name := os.Args[1], os.Args[2]
	list, err := libcni.LoadConfList(envOr("NETCONFPATH", defaultNetDir), name)
	if err != nil {
		die("%v", err)
	}
	cni := libcni.NewCNIConfigWithCacheDir(filepath.SplitList(os.Getenv("CNI_PATH")), cacheDir(), nil)
	ctx := context.Background()
	netnsArg := func() string {
		if len(os.Args) < 4 {
			die("%s needs a netns path", cmd)
		}
		if os.Args[3] == "" {
			return "" // extension: a netns-less call, as the CRI's second DEL
		}
		p, err := filepath.Abs(os.Args[3])
		if err != nil {
			die("%v", err)
		}
		return p
	}
	switch cmd {
	case "add":
		res, err := cni.AddNetworkList(ctx, list, runtimeConf(netnsArg()))
		if err != nil {
			die("%v", err)
		}
		if err := res.Print(); err != nil {
			die("%v", err)
		}
	case "check":
		err = cni.CheckNetworkList(ctx, list, runtimeConf(netnsArg()))
	case "del":
		err = cni.DelNetworkList(ctx, list, runtimeConf(netnsArg()))
	case "gc":
		err = gc(ctx, cni, list)
	case "status":
		err = execVerb(ctx, cni, list, "STATUS", nil)
	default:
		die("unknown command %q", cmd)
	}
	if err != nil {
		die("%v", err)
	}
}
