package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestTestnetRender renders both targets with testnet up's network flags
// and checks the files, the flags reaching them, and the usage errors.
func TestTestnetRender(t *testing.T) {
	dir := t.TempDir()
	faults := filepath.Join(dir, "faults.yaml")
	if err := os.WriteFile(faults, []byte("faults:\n  - kind: restart\n    targets: [shard-0]\n    at: 1m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	k8s := filepath.Join(dir, "k8s")
	var out bytes.Buffer
	if err := testApp(&out).Run([]string{"shardlab", "testnet", "render", "--target", "k8s", "--out", k8s, "--nodes", "2",
		"--shard-nodes", "1", "--validators", "16", "--shards", "8", "--slot-time", "3s", "--seed", "7",
		"--namespace", "lab", "--image", "reg.example/shardlab:v1", "--faults", faults}); err != nil {
		t.Fatalf("render k8s: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "kubectl apply -k "+k8s) {
		t.Errorf("output: %s", out.String())
	}
	for file, want := range map[string][]string{
		"kustomization.yaml":                     {"namespace: lab", "- beacon-0.yaml", "- beacon-1.yaml", "- shard-0.yaml"},
		"genesis.yaml":                           {"- --validators\n        - \"16\"", "- --slot-time\n        - \"3\"", "image: reg.example/shardlab:v1"},
		"beacon-1.yaml":                          {"- 8-15", "- shardlab/7/beacon-1", "/dns4/beacon-0/tcp/9000/p2p/"},
		"shard-0.yaml":                           {"- 0,1,2,3,4,5,6,7", "- 0-15"},
		"chaos/workflow.yaml":                    {"action: pod-kill", "deadline: 60s"},
		"chaos/kustomization.yaml":               {"namespace: lab"},
		"chaos/experiments/fault-0-restart.yaml": {"kind: PodChaos"},
	} {
		b, err := os.ReadFile(filepath.Join(k8s, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s lacks %q", file, w)
			}
		}
	}

	docker := filepath.Join(dir, "docker")
	out.Reset()
	if err := testApp(&out).Run([]string{"shardlab", "testnet", "render", "--target", "docker", "--out", docker, "--base-port", "21000"}); err != nil {
		t.Fatalf("render docker: %v\n%s", err, out.String())
	}
	b, err := os.ReadFile(filepath.Join(docker, "compose.yaml"))
	if err != nil || !strings.Contains(string(b), "http://127.0.0.1:21100") || !strings.Contains(string(b), "shard-3:") {
		t.Fatalf("compose.yaml: %v\n%s", err, b)
	}

	for name, args := range map[string][]string{
		"no target":         {"--out", filepath.Join(dir, "x")},
		"unknown target":    {"--target", "nomad", "--out", filepath.Join(dir, "x")},
		"existing files":    {"--target", "docker", "--out", docker},
		"missing faults":    {"--target", "k8s", "--out", filepath.Join(dir, "y"), "--faults", filepath.Join(dir, "none.yaml")},
		"faults on docker":  {"--target", "docker", "--out", filepath.Join(dir, "z"), "--faults", faults},
		"bad network":       {"--target", "k8s", "--out", filepath.Join(dir, "w"), "--nodes", "0"},
		"docker, free port": {"--target", "docker", "--out", filepath.Join(dir, "v"), "--base-port", "0"},
	} {
		out.Reset()
		err := testApp(&out).Run(append([]string{"shardlab", "testnet", "render"}, args...))
		var ec cli.ExitCoder
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if asExitCoder(err, &ec) && ec.ExitCode() == 0 {
			t.Errorf("%s: exit code 0", name)
		}
	}
	if err := testApp(&out).Run([]string{"shardlab", "testnet", "render", "--target", "docker", "--out", docker, "--base-port", "21000", "--force"}); err != nil {
		t.Errorf("--force: %v", err)
	}
}
