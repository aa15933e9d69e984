package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shardlab/shardlab/beacon/api"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
)

func TestRoutingErrors(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	h := srv.Handler()
	tests := []struct {
		method, path string
		code         int
		allow        string
	}{
		{"GET", "/eth/v1/nope", 404, ""},
		{"GET", "/", 404, ""},
		{"GET", "/eth/v1/beacon/blocks/", 404, ""},
		{"POST", "/eth/v1/node/version", 405, "GET, HEAD"},
		{"DELETE", "/eth/v1/beacon/states/head/validators", 405, "GET, HEAD, POST"},
	}
	for _, tc := range tests {
		rec := do(t, h, request{method: tc.method, path: tc.path})
		if rec.Code != tc.code {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, rec.Code, tc.code)
			continue
		}
		checkError(t, rec, tc.code)
		if tc.allow != "" && rec.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, rec.Header().Get("Allow"), tc.allow)
		}
	}
	// HEAD works on GET routes.
	if rec := do(t, h, request{method: http.MethodHead, path: "/eth/v1/node/version"}); rec.Code != 200 {
		t.Errorf("HEAD: %d", rec.Code)
	}
}

// TestInternalErrors checks that backend failures are 500s with the error
// body, while not-found errors stay 404.
func TestInternalErrors(t *testing.T) {
	t.Parallel()
	srv, be := newServer(t)
	h := srv.Handler()
	be.SetFailure(errors.New("disk on fire"))
	for _, path := range []string{
		"/eth/v1/beacon/blocks/head", "/eth/v1/beacon/headers/9", "/eth/v1/beacon/states/head/root",
		"/eth/v1/beacon/states/9/validators", "/eth/v1/debug/beacon/states/finalized",
	} {
		rec := get(t, h, path)
		if rec.Code != 500 {
			t.Errorf("%s: %d, want 500", path, rec.Code)
			continue
		}
		checkError(t, rec, 500)
		if !strings.Contains(rec.Body.String(), "disk on fire") {
			t.Errorf("%s: %s", path, rec.Body)
		}
	}
	be.SetFailure(fmt.Errorf("pruned: %w", api.ErrNotFound))
	if rec := get(t, h, "/eth/v1/beacon/blocks/head"); rec.Code != 404 {
		t.Errorf("wrapped ErrNotFound: %d", rec.Code)
	}
	be.SetFailure(nil)
}

func TestStatusOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		code int
	}{
		{api.Errorf(418, "teapot"), 418},
		{fmt.Errorf("wrapped: %w", api.Errorf(406, "x")), 406},
		{fmt.Errorf("x: %w", api.ErrNotFound), 404},
		{fmt.Errorf("x: %w", api.ErrUnavailable), 503},
		{fmt.Errorf("x: %w", api.ErrBadRequest), 400},
		{fmt.Errorf("x: %w", api.ErrInvalidJSON), 400},
		{fmt.Errorf("x: %w", types.ErrInvalidSSZ), 400},
		{fmt.Errorf("x: %w", core.ErrInvalidSignature), 400},
		{errors.New("boom"), 500},
	}
	for _, tc := range tests {
		if got := api.StatusOf(tc.err); got != tc.code {
			t.Errorf("StatusOf(%v) = %d, want %d", tc.err, got, tc.code)
		}
	}
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	be := newBackendOnly(t)
	var mu sync.Mutex
	var observed []string
	cfg := api.DefaultServerConfig()
	cfg.AllowOrigin = "*"
	cfg.Observe = func(method, route string, status int, d time.Duration) {
		mu.Lock()
		observed = append(observed, fmt.Sprintf("%s %s %d", method, route, status))
		mu.Unlock()
	}
	srv := api.NewServer(cfg, be, be, slog.New(slog.DiscardHandler))
	srv.Mount("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "beacon_head_slot 43\n")
	}))
	srv.Mount("GET /panic", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("kaboom") }))
	h := srv.Handler()

	rec := get(t, h, "/metrics")
	if rec.Code != 200 || rec.Body.String() != "beacon_head_slot 43\n" || rec.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("metrics: %d %q %q", rec.Code, rec.Body, rec.Header().Get("Access-Control-Allow-Origin"))
	}
	rec = get(t, h, "/panic")
	if rec.Code != 500 {
		t.Fatalf("panic: %d", rec.Code)
	}
	checkError(t, rec, 500)
	get(t, h, "/eth/v1/beacon/headers/9")
	get(t, h, "/nowhere")
	mu.Lock()
	defer mu.Unlock()
	want := []string{"GET GET /metrics 200", "GET GET /panic 500", "GET GET /eth/v1/beacon/headers/{block_id} 200", "GET  404"}
	if strings.Join(observed, "|") != strings.Join(want, "|") {
		t.Errorf("observed %q, want %q", observed, want)
	}
}

func newBackendOnly(t *testing.T) interface {
	api.Backend
	api.NodeBackend
} {
	_, be := newServer(t)
	return be
}

func TestServerConfigValidate(t *testing.T) {
	t.Parallel()
	if err := api.DefaultServerConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*api.ServerConfig){
		"no addr":       func(c *api.ServerConfig) { c.Addr = "" },
		"bad addr":      func(c *api.ServerConfig) { c.Addr = "localhost" },
		"no body":       func(c *api.ServerConfig) { c.MaxBodyBytes = 0 },
		"negative time": func(c *api.ServerConfig) { c.WriteTimeout = -1 },
	} {
		c := api.DefaultServerConfig()
		mut(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: valid", name)
		}
	}
}

// TestServeShutdown serves on a real listener and checks that cancelling
// the context shuts down gracefully, letting an in-flight request finish.
func TestServeShutdown(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	release := make(chan struct{})
	entered := make(chan struct{})
	srv.Mount("GET /slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "done")
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()

	res, err := http.Get(base + "/eth/v1/node/version")
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("version: %d", res.StatusCode)
	}
	slow := make(chan string, 1)
	go func() {
		res, err := http.Get(base + "/slow")
		if err != nil {
			slow <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		slow <- string(b)
	}()
	<-entered
	cancel()
	close(release)
	if got := <-slow; got != "done" {
		t.Errorf("in-flight request got %q", got)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := http.Get(base + "/eth/v1/node/version"); err == nil {
		t.Error("still serving after shutdown")
	}

	// ListenAndServe reports a bad address.
	cfg := api.DefaultServerConfig()
	cfg.Addr = "256.0.0.1:http"
	be := newBackendOnly(t)
	if err := api.NewServer(cfg, be, be, nil).ListenAndServe(context.Background()); err == nil {
		t.Error("ListenAndServe on a bad address succeeded")
	}
}

// TestConcurrentRequests hits one server from many goroutines (run with
// -race): every answer must equal the one a lone request gets.
func TestConcurrentRequests(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	c := testChain(t)
	paths := []string{
		"/eth/v1/beacon/genesis",
		"/eth/v1/beacon/headers/head",
		"/eth/v1/beacon/headers/12",
		"/eth/v1/beacon/blocks/finalized",
		"/eth/v1/beacon/states/5/root",         // advances a copy through a skipped slot
		"/eth/v1/beacon/states/justified/root", // advances to an epoch start
		"/eth/v1/beacon/states/" + c.Blocks[c.Canonical[30]].GetStateRoot().String() + "/root",
		"/eth/v1/beacon/states/head/validators?status=active",
		"/eth/v1/beacon/states/head/committees",
		"/eth/v1/beacon/states/finalized/committees",
		"/eth/v1/debug/beacon/states/head",
		"/eth/v1/node/syncing",
		"/eth/v1/config/spec",
	}
	want := make(map[string][]byte, len(paths))
	fetch := func(path string) ([]byte, error) {
		res, err := ts.Client().Get(ts.URL + path)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err == nil && res.StatusCode != 200 {
			err = fmt.Errorf("%s: status %d: %s", path, res.StatusCode, b)
		}
		return b, err
	}
	for _, p := range paths {
		b, err := fetch(p)
		if err != nil {
			t.Fatal(err)
		}
		want[p] = b
	}
	var wg sync.WaitGroup
	var failures atomic.Int32
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 3 * len(paths) {
				p := paths[(g+i)%len(paths)]
				b, err := fetch(p)
				if err != nil || !bytes.Equal(b, want[p]) {
					if failures.Add(1) < 5 {
						t.Errorf("%s: %v (body equal: %v)", p, err, bytes.Equal(b, want[p]))
					}
				}
			}
		}()
	}
	wg.Wait()
}

// TestWithoutNodeBackend: a server without a NodeBackend answers the node
// endpoints with 503 (health: not ready) and a default version.
func TestWithoutNodeBackend(t *testing.T) {
	t.Parallel()
	be := newBackendOnly(t)
	h := api.NewServer(api.DefaultServerConfig(), be, nil, nil).Handler()
	for path, code := range map[string]int{
		"/eth/v1/node/identity": 503, "/eth/v1/node/peers": 503, "/eth/v1/node/syncing": 503,
		"/eth/v1/node/health": 503, "/eth/v1/node/version": 200, "/eth/v1/beacon/headers/head": 200,
	} {
		if rec := get(t, h, path); rec.Code != code {
			t.Errorf("%s: %d, want %d", path, rec.Code, code)
		}
	}
	m := decode(t, get(t, h, "/eth/v1/node/version"))
	if !strings.HasPrefix(str(t, m, "data", "version"), "shardlab/dev/") {
		t.Errorf("default version %v", m)
	}
}
