package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shardlab/shardlab/p2p"
)

// syncBuffer is a bytes.Buffer safe for the logger and the test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// runBeaconFor runs `shardlab beacon args...` until cond holds on its log
// (or the deadline), then stops it like SIGINT would, and returns the log.
func runBeaconFor(t *testing.T, args []string, cond func(log string) bool) string {
	t.Helper()
	var logs syncBuffer
	app := newApp()
	app.Writer, app.ErrWriter = &logs, &logs
	app.ExitErrHandler = func(*cli.Context, error) {}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.RunContext(ctx, append([]string{"shardlab"}, args...)) }()
	deadline := time.Now().Add(20 * time.Second)
	for !cond(logs.String()) && time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("beacon exited early: %v\n%s", err, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("beacon: %v\n%s", err, logs.String())
	}
	if !cond(logs.String()) {
		t.Fatalf("condition not reached:\n%s", logs.String())
	}
	return logs.String()
}

// TestBeaconCommand runs a one-node testnet with 1-second slots: the node
// prints its listen address, serves metrics, proposes, and restarts from
// its data dir.
func TestBeaconCommand(t *testing.T) {
	dir := t.TempDir()
	gen, data := filepath.Join(dir, "genesis"), filepath.Join(dir, "data")
	var out bytes.Buffer
	if err := testApp(&out).Run([]string{"shardlab", "genesis", "--validators", "64", "--shards", "8",
		"--slot-time", "1", "--genesis-delay", "0", "--fast-genesis", "--out", gen}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	metrics := freePort(t)
	args := []string{"--log-level", "info", "beacon", "--genesis", gen, "--datadir", data, "--validators", "0-63",
		"--p2p-host", "127.0.0.1", "--p2p-port", "0", "--metrics-port", strconv.Itoa(metrics)}
	var scraped string
	log := runBeaconFor(t, args, func(log string) bool {
		if strings.Count(log, `msg="proposed block"`) < 2 {
			return false
		}
		if scraped == "" {
			resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(metrics) + "/metrics")
			if err != nil {
				return false
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			scraped = string(b)
		}
		return true
	})
	if !regexp.MustCompile(`msg="p2p listening" .*addrs=/ip4/127\.0\.0\.1/tcp/\d+/p2p/\w+`).MatchString(log) {
		t.Fatalf("no parseable listen line:\n%s", log)
	}
	for _, m := range []string{"beacon_head_slot", "beacon_finalized_epoch", "beacon_validator_proposals_total", "libp2p_peers"} {
		if !strings.Contains(scraped, m) {
			t.Errorf("metrics lack %s", m)
		}
	}
	// Restart from the data dir.
	log = runBeaconFor(t, args, func(log string) bool { return strings.Contains(log, `msg="restored chain"`) })
	if strings.Contains(log, "level=ERROR") {
		t.Fatalf("errors after restart:\n%s", log)
	}
}

// TestTargetPeersFlag: --target-peers outside [0, --max-peers] is a usage
// error naming the flag, for every node command.
func TestTargetPeersFlag(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "genesis")
	var out bytes.Buffer
	if err := testApp(&out).Run([]string{"shardlab", "genesis", "--validators", "64", "--shards", "8",
		"--genesis-delay", "0", "--fast-genesis", "--out", gen}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	tests := []struct {
		name string
		args []string
	}{
		{name: "negative", args: []string{"--target-peers", "-1"}},
		{name: "above max peers", args: []string{"--target-peers", "9", "--max-peers", "8"}},
	}
	for _, tc := range tests {
		for _, cmd := range [][]string{{"beacon"}, {"shard", "--shards", "0"}} {
			t.Run(tc.name+"/"+cmd[0], func(t *testing.T) {
				var out bytes.Buffer
				args := append([]string{"shardlab"}, cmd...)
				args = append(args, "--genesis", gen, "--datadir", filepath.Join(dir, "data-"+cmd[0]), "--p2p-port", "0")
				err := testApp(&out).Run(append(args, tc.args...))
				if err == nil || !strings.Contains(err.Error(), "--target-peers") {
					t.Fatalf("got %v, want an error naming --target-peers\n%s", err, out.String())
				}
			})
		}
	}
}

// TestTargetPeersDefault: the default target follows a smaller
// --max-peers; an explicit --target-peers is taken as it is.
func TestTargetPeersDefault(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{name: "default", want: p2p.DefaultConfig().Discovery.TargetPeers},
		{name: "small max peers", args: []string{"--max-peers", "5"}, want: 5},
		{name: "explicit", args: []string{"--target-peers", "3", "--max-peers", "5"}, want: 3},
		{name: "off", args: []string{"--target-peers", "0"}, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got p2p.Config
			app := &cli.App{Flags: networkFlags("http"), Action: func(c *cli.Context) error {
				_, err := applyNetworkFlags(c, &got)
				return err
			}}
			if err := app.Run(append([]string{"x"}, tc.args...)); err != nil {
				t.Fatal(err)
			}
			if got.Discovery.TargetPeers != tc.want {
				t.Fatalf("target peers %d, want %d", got.Discovery.TargetPeers, tc.want)
			}
		})
	}
}
