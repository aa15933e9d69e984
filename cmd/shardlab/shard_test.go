package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	bt "github.com/shardlab/shardlab/beacon/types"
)

func TestParseShards(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []bt.Shard
		ok   bool
	}{
		{"0,1", []bt.Shard{0, 1}, true},
		{"4-7", []bt.Shard{4, 5, 6, 7}, true},
		{" 3, 0-1 ,1", []bt.Shard{0, 1, 3}, true},
		{"8", nil, false},
		{"2-1", nil, false},
		{"a", nil, false},
		{"", nil, false},
	}
	for _, tc := range tests {
		got, err := parseShards(tc.in, 8)
		if (err == nil) != tc.ok || !slicesEqual(got, tc.want) {
			t.Errorf("parseShards(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func slicesEqual(a, b []bt.Shard) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// runFor runs `shardlab args...` until cond holds on its log (or the
// deadline), stops it like SIGINT would, and returns the log.
func runFor(t *testing.T, args []string, cond func(log string) bool) string {
	t.Helper()
	var logs syncBuffer
	app := newApp()
	app.Writer, app.ErrWriter = &logs, &logs
	app.ExitErrHandler = func(*cli.Context, error) {}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.RunContext(ctx, append([]string{"shardlab"}, args...)) }()
	deadline := time.Now().Add(30 * time.Second)
	for !cond(logs.String()) && time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("%s exited early: %v\n%s", args[2], err, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("%v: %v\n%s", args, err, logs.String())
	}
	if !cond(logs.String()) {
		t.Fatalf("condition not reached:\n%s", logs.String())
	}
	return logs.String()
}

// writeShardGenesis writes a 64-validator, 8-shard genesis with 1-second slots.
func writeShardGenesis(t *testing.T, dir string) {
	t.Helper()
	var out bytes.Buffer
	if err := testApp(&out).Run([]string{"shardlab", "genesis", "--validators", "64", "--shards", "8",
		"--slot-time", "1", "--genesis-delay", "0", "--fast-genesis", "--out", dir}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
}

// TestNodeCommand runs a one-process testnet (shardlab node with every
// validator and shard, 1-second slots): it logs its listen address,
// proposes beacon and shard blocks, serves metrics and the shard API, and
// restarts from its data dir.
func TestNodeCommand(t *testing.T) {
	dir := t.TempDir()
	gen, data := filepath.Join(dir, "genesis"), filepath.Join(dir, "data")
	writeShardGenesis(t, gen)
	metrics, httpPort := freePort(t), freePort(t)
	args := []string{"--log-level", "info", "node", "--genesis", gen, "--datadir", data, "--validators", "0-63",
		"--shards", "0-7", "--p2p-host", "127.0.0.1", "--p2p-port", "0", "--metrics-port", strconv.Itoa(metrics),
		"--http-port", strconv.Itoa(httpPort)}
	get := func(port int, path string) (int, string) {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + path)
		if err != nil {
			return 0, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var scraped, shards string
	log := runFor(t, args, func(log string) bool {
		if strings.Count(log, `msg="proposed shard block"`) < 8 || !strings.Contains(log, `msg="proposed block"`) {
			return false
		}
		if scraped == "" {
			if code, body := get(metrics, "/metrics"); code == http.StatusOK {
				scraped = body
			}
		}
		if shards == "" {
			if code, body := get(httpPort, "/shardlab/v1/shards"); code == http.StatusOK {
				shards = body
			}
		}
		return scraped != "" && shards != ""
	})
	if !regexp.MustCompile(`msg="p2p listening" .*addrs=/ip4/127\.0\.0\.1/tcp/\d+/p2p/\w+`).MatchString(log) {
		t.Fatalf("no parseable listen line:\n%s", log)
	}
	for _, m := range []string{"shard_head_slot", "shard_tx_pool_size", "beacon_head_slot", "libp2p_peers"} {
		if !strings.Contains(scraped, m) {
			t.Errorf("metrics lack %s", m)
		}
	}
	if !strings.Contains(shards, `"shard":"7"`) {
		t.Errorf("shards endpoint: %s", shards)
	}
	log = runFor(t, args, func(log string) bool { return strings.Count(log, `msg="restored shard chain"`) == 8 })
	if strings.Contains(log, "level=ERROR") {
		t.Fatalf("errors after restart:\n%s", log)
	}
}

// TestShardCommand starts a shard node without keys next to nothing: it
// comes up, logs its listen address and stops cleanly; a genesis without
// the shard fork is a usage error.
func TestShardCommand(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "genesis")
	writeShardGenesis(t, gen)
	args := []string{"shard", "--genesis", gen, "--datadir", filepath.Join(dir, "data"), "--shards", "2,3",
		"--p2p-host", "127.0.0.1", "--p2p-port", "0"}
	log := runFor(t, args, func(log string) bool { return strings.Contains(log, `msg="p2p listening"`) })
	if !strings.Contains(log, `msg="shard node ready"`) || !strings.Contains(log, "shards=2,3") {
		t.Fatalf("no ready line:\n%s", log)
	}

	phase0 := filepath.Join(dir, "phase0")
	var out bytes.Buffer
	if err := testApp(&out).Run([]string{"shardlab", "genesis", "--validators", "64", "--genesis-delay", "0",
		"--fast-genesis", "--out", phase0}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	out.Reset()
	err := testApp(&out).Run([]string{"shardlab", "shard", "--genesis", phase0, "--datadir", filepath.Join(dir, "d2"), "--shards", "0"})
	if ec, ok := err.(cli.ExitCoder); !ok || ec.ExitCode() != 2 || !strings.Contains(err.Error(), "no shard fork") {
		t.Fatalf("phase 0 genesis: %v", err)
	}
}
