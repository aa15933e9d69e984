package bench

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardlab/shardlab/sim/testnet"
)

// TestProfilerCollects: the profiler asks every node with a pprof port for
// a CPU profile of the window (in whole seconds), writes each into the
// directory with the benchmark's own, and notes the nodes it could not
// profile.
func TestProfilerCollects(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.Path+"?"+r.URL.RawQuery)
		mu.Unlock()
		w.Write([]byte("profile of " + r.URL.Path))
	}))
	defer srv.Close()
	pp := srv.Listener.Addr().(*net.TCPAddr).Port
	p := func(name string, port int) *testnet.Process {
		return &testnet.Process{Spec: testnet.NodeSpec{Name: name, PprofPort: port}}
	}
	dir := filepath.Join(t.TempDir(), "prof")
	pr, err := newProfiler(dir)
	if err != nil {
		t.Fatal(err)
	}
	pr.start(context.Background(), []*testnet.Process{p("shard-0", pp), p("beacon-0", 0)}, 1500*time.Millisecond)
	got, notes := pr.stop()
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 1 || asked[0] != "/debug/pprof/profile?seconds=2" {
		t.Fatalf("asked %v", asked)
	}
	if len(got) != 2 || got[0].Name != "bench" || got[1].Name != "shard-0" {
		t.Fatalf("profiles %+v", got)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "shard-0.pprof")); err != nil || string(b) != "profile of /debug/pprof/profile" {
		t.Fatalf("shard-0.pprof: %q %v", b, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "bench.pprof")); err != nil || fi.Size() == 0 {
		t.Fatalf("bench.pprof: %v %v", fi, err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "beacon-0: no pprof endpoint") {
		t.Fatalf("notes %q", notes)
	}
}

// TestProfilerNodeError: a node answering an error is noted, not written.
func TestProfilerNodeError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "profiling busy", http.StatusInternalServerError)
	}))
	defer srv.Close()
	u := srv.Listener.Addr().(*net.TCPAddr)
	pr, err := newProfiler(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pr.start(context.Background(), []*testnet.Process{{Spec: testnet.NodeSpec{Name: "shard-1", PprofPort: u.Port}}}, time.Second)
	got, notes := pr.stop()
	if len(got) != 1 || len(notes) != 1 || !strings.Contains(notes[0], "shard-1") || !strings.Contains(notes[0], "profiling busy") {
		t.Fatalf("profiles %+v, notes %q", got, notes)
	}
}

func TestClaimShards(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                string
		chain, loaded, want uint64
	}{
		{"all loaded", 8, 0, 8},
		{"one of two loaded", 2, 1, 1},
		{"single-shard chain", 1, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := claimShards(tc.chain, tc.loaded); got != tc.want {
				t.Fatalf("claimShards(%d, %d) = %d, want %d", tc.chain, tc.loaded, got, tc.want)
			}
		})
	}
}
