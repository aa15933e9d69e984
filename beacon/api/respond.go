package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// Media types the API speaks.
const (
	MediaJSON = "application/json"
	MediaSSZ  = "application/octet-stream"
)

// VersionHeader names the fork of a block or state in a response, as the
// Beacon API's Eth-Consensus-Version header: "phase0" or "shard".
const VersionHeader = "Eth-Consensus-Version"

// Encoding is a body encoding: JSON or SSZ.
type Encoding int

// The encodings.
const (
	EncodingJSON Encoding = iota
	EncodingSSZ
)

// HandlerFunc is an endpoint: it writes its response, or returns an error
// that NewHandler answers with the error's status (see StatusOf).
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// NewHandler adapts fn to an http.Handler that answers fn's errors with
// WriteError, logging internal failures (status 500) on logger.
func NewHandler(logger *slog.Logger, fn HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			code := StatusOf(err)
			if code >= http.StatusInternalServerError && code != http.StatusServiceUnavailable {
				logger.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			WriteError(w, code, err.Error())
		}
	})
}

// WriteJSON writes v, encoded with EncodeJSON, with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	body, err := EncodeJSON(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", MediaJSON)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) // a write error means the client went away
	return nil
}

// dataEnvelope is the Beacon API's {"data": ...} response.
type dataEnvelope struct {
	Data any `json:"data"`
}

// WriteData writes {"data": v} with status 200.
func WriteData(w http.ResponseWriter, v any) error {
	return WriteJSON(w, http.StatusOK, dataEnvelope{Data: v})
}

// WriteError writes the Beacon API's error body {"code": ..., "message": ...}.
func WriteError(w http.ResponseWriter, code int, message string) {
	body, _ := json.Marshal(Error{Code: code, Message: message}) // cannot fail
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Content-Type", MediaJSON)
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// WriteSSZ writes SSZ bytes, with the fork version header when version is
// not empty.
func WriteSSZ(w http.ResponseWriter, version string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", MediaSSZ)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if version != "" {
		h.Set(VersionHeader, version)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// Negotiate picks the response encoding from the Accept header: JSON by
// default, SSZ when the endpoint offers it (ssz) and the client prefers
// application/octet-stream. An Accept header that allows neither is a 406.
func Negotiate(r *http.Request, ssz bool) (Encoding, error) {
	accept := r.Header.Values("Accept")
	if len(accept) == 0 {
		return EncodingJSON, nil
	}
	type choice struct {
		enc Encoding
		q   float64
	}
	var best *choice // the first of the highest quality
	for _, line := range accept {
		for part := range strings.SplitSeq(line, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			mt, params, err := mime.ParseMediaType(part)
			if err != nil {
				continue
			}
			q := 1.0
			if qs, ok := params["q"]; ok {
				if q, err = strconv.ParseFloat(qs, 64); err != nil || q < 0 || q > 1 {
					continue
				}
			}
			if q == 0 {
				continue
			}
			var encs []Encoding
			switch mt {
			case MediaJSON:
				encs = []Encoding{EncodingJSON}
			case MediaSSZ:
				if ssz {
					encs = []Encoding{EncodingSSZ}
				}
			case "*/*", "application/*":
				encs = []Encoding{EncodingJSON}
			}
			for _, enc := range encs {
				c := &choice{enc: enc, q: q}
				if best == nil || c.q > best.q {
					best = c
				}
			}
		}
	}
	if best == nil {
		offered := MediaJSON
		if ssz {
			offered += " or " + MediaSSZ
		}
		return 0, Errorf(http.StatusNotAcceptable, "cannot produce any media type of Accept %q: this endpoint serves %s",
			truncate(strings.Join(accept, ", ")), offered)
	}
	return best.enc, nil
}

// JSONOnly wraps an endpoint that answers only in JSON so that an Accept
// header excluding application/json is a 406.
func JSONOnly(fn HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if _, err := Negotiate(r, false); err != nil {
			return err
		}
		return fn(w, r)
	}
}

// RequestEncoding returns the encoding of a request body from its
// Content-Type: JSON (also when the header is absent) or, when the endpoint
// accepts it (ssz), SSZ. Anything else is a 415.
func RequestEncoding(r *http.Request, ssz bool) (Encoding, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return EncodingJSON, nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		switch {
		case mt == MediaJSON:
			return EncodingJSON, nil
		case mt == MediaSSZ && ssz:
			return EncodingSSZ, nil
		}
	}
	offered := MediaJSON
	if ssz {
		offered += " or " + MediaSSZ
	}
	return 0, Errorf(http.StatusUnsupportedMediaType, "unsupported Content-Type %q: send %s", truncate(ct), offered)
}

// ReadBody reads a request body of at most limit bytes; a longer one is a
// 413.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, Errorf(http.StatusRequestEntityTooLarge, "request body exceeds %d bytes", limit)
		}
		return nil, Errorf(http.StatusBadRequest, "read request body: %v", err)
	}
	return body, nil
}

// QueryValues returns the values of a query parameter given repeated
// (?id=1&id=2), comma-separated (?id=1,2) or both, without empty items.
func QueryValues(r *http.Request, key string) []string {
	var out []string
	for _, v := range r.URL.Query()[key] {
		for item := range strings.SplitSeq(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// QueryUint parses an optional unsigned query parameter; ok is false when
// it is absent. A malformed or repeated value is a 400.
func QueryUint(r *http.Request, key string) (v uint64, ok bool, err error) {
	vals := r.URL.Query()[key]
	switch len(vals) {
	case 0:
		return 0, false, nil
	case 1:
	default:
		return 0, false, Errorf(http.StatusBadRequest, "query parameter %s given %d times", key, len(vals))
	}
	v, err = strconv.ParseUint(vals[0], 10, 64)
	if err != nil {
		return 0, false, Errorf(http.StatusBadRequest, "invalid %s %q: want a decimal unsigned integer", key, truncate(vals[0]))
	}
	return v, true, nil
}

// Router is a ServeMux of HandlerFuncs that answers unknown paths (404)
// and wrong methods (405) with JSON error bodies. The shard API uses it too.
type Router struct {
	mux    *http.ServeMux
	logger *slog.Logger
}

// NewRouter returns an empty Router logging internal failures on logger.
func NewRouter(logger *slog.Logger) *Router {
	return &Router{mux: http.NewServeMux(), logger: logger}
}

// Handle registers fn for a ServeMux pattern ("GET /eth/v1/node/version").
// Like http.ServeMux.Handle, it panics on a conflicting pattern.
func (rt *Router) Handle(pattern string, fn HandlerFunc) {
	rt.mux.Handle(pattern, NewHandler(rt.logger, fn))
}

// Mount registers a plain http.Handler for a pattern (a subtree such as
// "/shardlab/v1/", or "GET /metrics"). It panics on a conflicting pattern.
func (rt *Router) Mount(pattern string, h http.Handler) {
	rt.mux.Handle(pattern, h)
}

// ServeHTTP dispatches r.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := rt.mux.Handler(r); pattern != "" {
		rt.mux.ServeHTTP(w, r)
		return
	}
	// No route: let the mux answer (404, 405 with Allow, or a redirect to
	// the clean path) and turn its plain-text errors into JSON.
	iw := &interceptWriter{ResponseWriter: w}
	rt.mux.ServeHTTP(iw, r)
	if iw.intercepted != 0 {
		msg := fmt.Sprintf("no endpoint %s %s", r.Method, truncate(r.URL.Path))
		if iw.intercepted == http.StatusMethodNotAllowed {
			msg = fmt.Sprintf("method %s not allowed on %s (allowed: %s)", r.Method, truncate(r.URL.Path), w.Header().Get("Allow"))
		}
		w.Header().Del("X-Content-Type-Options")
		WriteError(w, iw.intercepted, msg)
	}
}

// interceptWriter swallows a 404 or 405 and its plain-text body.
type interceptWriter struct {
	http.ResponseWriter
	intercepted int
}

func (iw *interceptWriter) WriteHeader(code int) {
	if code == http.StatusNotFound || code == http.StatusMethodNotAllowed {
		iw.intercepted = code
		return
	}
	iw.ResponseWriter.WriteHeader(code)
}

func (iw *interceptWriter) Write(b []byte) (int, error) {
	if iw.intercepted != 0 {
		return len(b), nil
	}
	return iw.ResponseWriter.Write(b)
}
