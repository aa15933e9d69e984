package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/p2p"
)

// TestBeaconWaitsForGenesis starts a beacon node before its genesis exists
// (as a container does while the genesis job runs), with a derived p2p key
// and the HTTP API on 127.0.0.2: the node waits, then listens under the
// derived peer ID and serves the API on that address.
func TestBeaconWaitsForGenesis(t *testing.T) {
	dir := t.TempDir()
	gen, data := filepath.Join(dir, "genesis"), filepath.Join(dir, "data")
	const seed = "shardlab/1/beacon-0"
	k, err := p2p.DeriveKey(seed)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	httpPort := freePort(t)
	args := []string{"--log-level", "info", "beacon", "--genesis", gen, "--genesis-wait", "60s", "--datadir", data,
		"--p2p-host", "127.0.0.1", "--p2p-port", "0", "--p2p-key-seed", seed,
		"--http-host", "127.0.0.2", "--http-port", strconv.Itoa(httpPort)}
	// Write the genesis aside first (the apps share slog's default logger:
	// running the genesis command later would take over the node's log),
	// and move it into place while the node waits.
	aside := filepath.Join(dir, "aside")
	var out bytes.Buffer
	if err := testApp(&out).Run([]string{"shardlab", "genesis", "--validators", "64", "--slot-time", "1",
		"--genesis-delay", "2", "--fast-genesis", "--out", aside}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	wrote := make(chan error, 1)
	go func() {
		time.Sleep(time.Second) // the node is waiting by then
		wrote <- os.Rename(aside, gen)
	}()
	served := false
	log := runBeaconFor(t, args, func(log string) bool {
		if served || !strings.Contains(log, "/p2p/"+id.String()) {
			return served
		}
		resp, err := http.Get("http://127.0.0.2:" + strconv.Itoa(httpPort) + "/eth/v1/node/version")
		if err != nil {
			return false
		}
		resp.Body.Close()
		served = resp.StatusCode == http.StatusOK
		return served
	})
	if err := <-wrote; err != nil {
		t.Fatalf("write genesis: %v", err)
	}
	if !served || !strings.Contains(log, `msg="p2p listening"`) {
		t.Fatalf("no listen line or API:\n%s", log)
	}
}

// TestGenesisWaitGivesUp checks that a node without a genesis fails after
// --genesis-wait with a clear error, and at once without it.
func TestGenesisWaitGivesUp(t *testing.T) {
	tests := []struct {
		name, wait string
		want       string
		min        time.Duration
	}{
		{name: "no wait", wait: "0s", want: "load genesis"},
		{name: "wait", wait: "700ms", want: "after waiting 700ms", min: 700 * time.Millisecond},
		{name: "negative", wait: "-1s", want: "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var out bytes.Buffer
			start := time.Now()
			err := testApp(&out).Run([]string{"shardlab", "beacon", "--genesis", filepath.Join(dir, "none"),
				"--genesis-wait", tc.wait, "--datadir", filepath.Join(dir, "data")})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one containing %q", err, tc.want)
			}
			if d := time.Since(start); d < tc.min {
				t.Fatalf("gave up after %v, before %v", d, tc.min)
			}
		})
	}
}
