package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/shardlab/shardlab/beacon/api"
	"github.com/shardlab/shardlab/beacon/api/apitest"
)

var (
	chainOnce sync.Once
	chain     *apitest.Chain
	chainErr  error
)

// testChain returns the shared test chain (built once per test binary).
func testChain(tb testing.TB) *apitest.Chain {
	tb.Helper()
	chainOnce.Do(func() { chain, chainErr = apitest.NewChain(apitest.ChainOptions{}) })
	if chainErr != nil {
		tb.Fatalf("build test chain: %v", chainErr)
	}
	return chain
}

// newServer returns a server on a fresh backend of the shared chain.
func newServer(tb testing.TB) (*api.Server, *apitest.Backend) {
	tb.Helper()
	be := apitest.NewBackend(testChain(tb))
	return api.NewServer(api.DefaultServerConfig(), be, be, slog.New(slog.DiscardHandler)), be
}

type request struct {
	method string
	path   string
	header map[string]string
	body   string
}

// do runs a request through h.
func do(tb testing.TB, h http.Handler, rq request) *httptest.ResponseRecorder {
	tb.Helper()
	method := rq.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	req := httptest.NewRequest(method, rq.path, body)
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// get runs a GET and returns the recorder.
func get(tb testing.TB, h http.Handler, path string) *httptest.ResponseRecorder {
	tb.Helper()
	return do(tb, h, request{path: path})
}

// decode parses a JSON body.
func decode(tb testing.TB, rec *httptest.ResponseRecorder) map[string]any {
	tb.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		tb.Fatalf("decode body %q: %v", rec.Body.String(), err)
	}
	return m
}

// at walks a decoded JSON value by keys and indices ("data", "0", "root").
func at(tb testing.TB, v any, path ...string) any {
	tb.Helper()
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[p]; !ok {
				tb.Fatalf("no key %q in %v", p, x)
			}
		case []any:
			i := 0
			for _, c := range p {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				tb.Fatalf("index %d out of %d", i, len(x))
			}
			v = x[i]
		default:
			tb.Fatalf("cannot index %T with %q", v, p)
		}
	}
	return v
}

// str returns at(...) as a string.
func str(tb testing.TB, v any, path ...string) string {
	tb.Helper()
	s, ok := at(tb, v, path...).(string)
	if !ok {
		tb.Fatalf("%v at %v is not a string", at(tb, v, path...), path)
	}
	return s
}

// jsonDecode decodes a response body with encoding/json.
func jsonDecode(res *http.Response, v any) error {
	defer res.Body.Close()
	return json.NewDecoder(res.Body).Decode(v)
}
