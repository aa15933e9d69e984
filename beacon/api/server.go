package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/shardlab/shardlab/beacon/types"
)

// ServerConfig configures the HTTP server.
type ServerConfig struct {
	// Addr is the listen address of ListenAndServe (host:port).
	Addr string
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout are the
	// http.Server timeouts. WriteTimeout must leave time to encode a state.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// ShutdownTimeout bounds the graceful shutdown once the context ends.
	ShutdownTimeout time.Duration
	// MaxBodyBytes caps request bodies; a larger body is answered with 413.
	MaxBodyBytes int64
	// AllowOrigin, when set, is sent as Access-Control-Allow-Origin so that
	// browser dashboards on another origin can read the API.
	AllowOrigin string
	// Observe, when set, is called after every request with its method,
	// its route pattern ("" when no route matched), its status and its
	// duration: the node hooks its request metrics here.
	Observe func(method, route string, status int, d time.Duration)
}

// DefaultServerConfig returns the defaults: 127.0.0.1:5052 (the Beacon API's
// customary port), 1 MiB request bodies, generous timeouts.
func DefaultServerConfig() ServerConfig {
	return ServerConfig{
		Addr:              "127.0.0.1:5052",
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ShutdownTimeout:   5 * time.Second,
		MaxBodyBytes:      1 << 20,
	}
}

// Validate checks the config.
func (c ServerConfig) Validate() error {
	if c.Addr == "" {
		return errors.New("validate api config: empty listen address")
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("validate api config: listen address %q: %w", c.Addr, err)
	}
	if c.MaxBodyBytes <= 0 {
		return fmt.Errorf("validate api config: max body bytes %d must be positive", c.MaxBodyBytes)
	}
	if c.ReadHeaderTimeout < 0 || c.ReadTimeout < 0 || c.WriteTimeout < 0 || c.IdleTimeout < 0 || c.ShutdownTimeout < 0 {
		return errors.New("validate api config: negative timeout")
	}
	return nil
}

// Server serves the beacon node's HTTP API. Its handlers run concurrently;
// everything they share is read-only or guarded.
type Server struct {
	cfg    ServerConfig
	be     Backend
	node   NodeBackend
	logger *slog.Logger
	router *Router

	genesisMu   sync.Mutex
	genesisFor  types.Root // the genesis block root genesisData is for
	genesisData genesisData
	genesisOK   bool
}

// NewServer returns a server of the beacon endpoints on be and node. A
// zero MaxBodyBytes means the default; logger nil means no logging.
func NewServer(cfg ServerConfig, be Backend, node NodeBackend, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultServerConfig().MaxBodyBytes
	}
	s := &Server{cfg: cfg, be: be, node: node, logger: logger, router: NewRouter(logger)}
	s.routes()
	return s
}

func (s *Server) routes() {
	h := func(pattern string, fn HandlerFunc) { s.router.Handle(pattern, JSONOnly(fn)) }
	ssz := s.router.Handle // endpoints that negotiate JSON or SSZ themselves
	// Node.
	h("GET /eth/v1/node/identity", s.nodeIdentity)
	h("GET /eth/v1/node/peers", s.nodePeers)
	h("GET /eth/v1/node/peers/{peer_id}", s.nodePeer)
	h("GET /eth/v1/node/peer_count", s.nodePeerCount)
	h("GET /eth/v1/node/syncing", s.nodeSyncing)
	s.router.Handle("GET /eth/v1/node/health", s.nodeHealth) // no body
	h("GET /eth/v1/node/version", s.nodeVersion)
	// Beacon.
	h("GET /eth/v1/beacon/genesis", s.beaconGenesis)
	h("GET /eth/v1/beacon/headers", s.beaconHeaders)
	h("GET /eth/v1/beacon/headers/{block_id}", s.beaconHeader)
	ssz("GET /eth/v1/beacon/blocks/{block_id}", s.beaconBlock)
	ssz("GET /eth/v2/beacon/blocks/{block_id}", s.beaconBlock)
	h("GET /eth/v1/beacon/blocks/{block_id}/root", s.beaconBlockRoot)
	h("GET /eth/v1/beacon/states/{state_id}/root", s.stateRoot)
	h("GET /eth/v1/beacon/states/{state_id}/fork", s.stateFork)
	h("GET /eth/v1/beacon/states/{state_id}/finality_checkpoints", s.stateFinality)
	h("GET /eth/v1/beacon/states/{state_id}/validators", s.stateValidators)
	h("POST /eth/v1/beacon/states/{state_id}/validators", s.stateValidatorsPost)
	h("GET /eth/v1/beacon/states/{state_id}/validators/{validator_id}", s.stateValidator)
	h("GET /eth/v1/beacon/states/{state_id}/validator_balances", s.stateBalances)
	h("POST /eth/v1/beacon/states/{state_id}/validator_balances", s.stateBalancesPost)
	h("GET /eth/v1/beacon/states/{state_id}/committees", s.stateCommittees)
	// Debug.
	ssz("GET /eth/v1/debug/beacon/states/{state_id}", s.debugState)
	ssz("GET /eth/v2/debug/beacon/states/{state_id}", s.debugState)
	// Config.
	h("GET /eth/v1/config/spec", s.configSpec)
	h("GET /eth/v1/config/fork_schedule", s.configForkSchedule)
}

// Mount adds a handler under pattern, such as the shard API's
// "/shardlab/v1/" subtree or "GET /metrics". Mount before serving; it
// panics on a pattern that conflicts with another.
func (s *Server) Mount(pattern string, h http.Handler) {
	s.router.Mount(pattern, h)
}

// Handler returns the server's handler: the routes and mounted handlers
// behind panic recovery, request logging (Debug), the body size cap, CORS
// and the Observe hook.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		if s.cfg.AllowOrigin != "" {
			sw.Header().Set("Access-Control-Allow-Origin", s.cfg.AllowOrigin)
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.logger.Error("api handler panicked", "method", r.Method, "path", r.URL.Path,
					"err", fmt.Sprint(p), "stack", string(debug.Stack()))
				if sw.status == 0 {
					WriteError(sw, http.StatusInternalServerError, "internal error")
				}
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			d := time.Since(start)
			s.logger.Debug("served request", "method", r.Method, "path", r.URL.Path, "status", status, "duration", d)
			if s.cfg.Observe != nil {
				s.cfg.Observe(r.Method, r.Pattern, status, d)
			}
		}()
		s.router.ServeHTTP(sw, r)
	})
}

// ListenAndServe listens on cfg.Addr and serves until ctx ends, then shuts
// down gracefully (in-flight requests get ShutdownTimeout to finish).
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends, then shuts down gracefully. It closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	s.logger.Info("serving http api", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve http api: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		<-errc
		return fmt.Errorf("shut down http api: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve http api: %w", err)
	}
	return nil
}

// statusWriter records the status of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (sw *statusWriter) WriteHeader(code int) {
	if sw.status == 0 {
		sw.status = code
	}
	sw.ResponseWriter.WriteHeader(code)
}

func (sw *statusWriter) Write(b []byte) (int, error) {
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	return sw.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (sw *statusWriter) Unwrap() http.ResponseWriter { return sw.ResponseWriter }
