package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"
)

// PprofPrefix is the path under which the profiling endpoint serves Go's
// net/http/pprof handlers (PprofPrefix+"profile?seconds=N" is a CPU
// profile of the next N seconds).
const PprofPrefix = "/debug/pprof/"

// validatePprofAddr checks Config.PprofAddr: empty, or host:port.
func validatePprofAddr(addr string) error {
	if addr == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: pprof address %q: %w", ErrInvalidConfig, addr, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("%w: pprof address %q: port %q", ErrInvalidConfig, addr, port)
	}
	if host != "" && net.ParseIP(host) == nil && host != "localhost" {
		return fmt.Errorf("%w: pprof address %q: host %q is not an IP address", ErrInvalidConfig, addr, host)
	}
	return nil
}

// pprofHandler serves the pprof index, the CPU profile, the trace, the
// symbol lookup and every named runtime profile (heap, goroutine, ...).
func pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(PprofPrefix, pprof.Index)
	mux.HandleFunc(PprofPrefix+"cmdline", pprof.Cmdline)
	mux.HandleFunc(PprofPrefix+"profile", pprof.Profile)
	mux.HandleFunc(PprofPrefix+"symbol", pprof.Symbol)
	mux.HandleFunc(PprofPrefix+"trace", pprof.Trace)
	return mux
}

// startPprof listens on Config.PprofAddr (host 127.0.0.1 when empty) and
// serves the profiling endpoint until the returned stop is called or the
// node is closed. Without a PprofAddr it does nothing.
func (n *Node) startPprof() (stop func(), err error) {
	addr := n.cfg.PprofAddr
	if addr == "" {
		return func() {}, nil
	}
	if host, port, _ := net.SplitHostPort(addr); host == "" {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof endpoint: %w", err)
	}
	a := ln.Addr()
	n.pprofAddr.Store(&a)
	// No write timeout: a CPU profile answers after its seconds.
	srv := &http.Server{Handler: pprofHandler(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("pprof endpoint stopped", "err", err)
		}
	}()
	n.log.Info("pprof listening", "addr", a.String())
	closed := context.AfterFunc(n.ctx, func() { _ = srv.Close() })
	return func() {
		closed()
		_ = srv.Close()
		<-done
	}, nil
}

// PprofAddr returns the address the profiling endpoint listens on, once
// Run has started it (nil before, and without Config.PprofAddr).
func (n *Node) PprofAddr() net.Addr {
	if a := n.pprofAddr.Load(); a != nil {
		return *a
	}
	return nil
}
