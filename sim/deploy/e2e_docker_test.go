package deploy

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shardlab/shardlab/sim/testnet"
)

// e2eProject is the Compose project of TestE2EDocker (e2e-docker.sh removes
// whatever carries its label).
const e2eProject = "shardlab-e2e"

// TestE2EDocker runs the 4 + 4 node testnet of `make run` (64 validators,
// 8 shards, 2-second slots) as containers of the rendered Compose project,
// drives the workload and watches it for 8 epochs through the nodes' HTTP
// APIs like testnet up does (testnet.Attach), and fails unless it
// finalizes, the finalized checkpoints agree, every shard is crosslinked
// with shard blocks and cross-shard receipts are claimed. It needs a Docker
// daemon, a Compose command and the image: `make e2e-docker` provides them
// (SHARDLAB_E2E_DOCKER=1, SHARDLAB_IMAGE, SHARDLAB_COMPOSE).
func TestE2EDocker(t *testing.T) {
	if os.Getenv("SHARDLAB_E2E_DOCKER") == "" {
		t.Skip("needs Docker: run make e2e-docker (SHARDLAB_E2E_DOCKER=1)")
	}
	image := os.Getenv("SHARDLAB_IMAGE")
	compose := strings.Fields(os.Getenv("SHARDLAB_COMPOSE"))
	if image == "" || len(compose) == 0 {
		t.Fatal("SHARDLAB_IMAGE and SHARDLAB_COMPOSE must be set")
	}
	cfg := DefaultConfig()
	cfg.Image = image
	cfg.Testnet.BasePort = 23000 // away from testnet up's 19000
	if p := os.Getenv("SHARDLAB_E2E_BASE_PORT"); p != "" {
		var err error
		if cfg.Testnet.BasePort, err = strconv.Atoi(p); err != nil {
			t.Fatalf("SHARDLAB_E2E_BASE_PORT: %v", err)
		}
	}
	files, err := Render(cfg, TargetDocker)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Write(filepath.Join(dir, "deploy"), files, false); err != nil {
		t.Fatal(err)
	}
	composeFile := filepath.Join(dir, "deploy", ComposeFile)
	run := func(name string, args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		var out bytes.Buffer
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	composeArgs := func(args ...string) []string {
		return append(append(compose[1:], "-p", e2eProject, "-f", composeFile), args...)
	}

	start := time.Now()
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := run(compose[0], composeArgs("logs", "--no-color", "--tail", "30")...)
			t.Logf("container logs:\n%s", out)
		}
		if out, err := run(compose[0], composeArgs("down", "-v", "--remove-orphans", "--timeout", "20")...); err != nil {
			t.Errorf("compose down: %v\n%s", err, out)
		}
	})
	if out, err := run(compose[0], composeArgs("up", "-d")...); err != nil {
		t.Fatalf("compose up: %v\n%s", err, out)
	}
	t.Logf("compose up: %d nodes and the genesis in %.1fs", len(cfg.Testnet.NodeSpecs()), time.Since(start).Seconds())

	// The genesis the containers run, for the watcher's clock and config.
	id, err := run(compose[0], composeArgs("ps", "-q", "beacon-0")...)
	if err != nil || strings.TrimSpace(id) == "" {
		t.Fatalf("compose ps beacon-0: %v %q", err, id)
	}
	gen := filepath.Join(dir, "genesis")
	if out, err := run("docker", "cp", strings.TrimSpace(id)+":"+GenesisPath, gen); err != nil {
		t.Fatalf("docker cp genesis: %v\n%s", err, out)
	}

	tc := cfg.Testnet
	tc.Dir, tc.Epochs, tc.Out = filepath.Join(dir, "run"), 8, testWriter{t}
	tn, err := testnet.Attach(tc, gen, tc.NodeSpecs(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	statsAt := tn.GenesisTime().Add(time.Duration(6*8*2) * time.Second)
	statsDone := make(chan string, 1)
	go func() {
		select {
		case <-time.After(time.Until(statsAt)):
		case <-ctx.Done():
		}
		out, _ := run("docker", "stats", "--no-stream", "--format", "{{.Name}} cpu {{.CPUPerc}} mem {{.MemUsage}}")
		statsDone <- out
	}()
	sum, err := tn.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	sum.Write(&b)
	t.Logf("resources at epoch 6:\n%s", <-statsDone)
	t.Logf("summary (%.0fs after compose up):\n%s", time.Since(start).Seconds(), b.String())
	if !sum.OK() {
		t.Fatalf("the containerised testnet failed: %v", sum.Failures)
	}
}

// testWriter sends testnet progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
