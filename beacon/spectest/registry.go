package spectest

import (
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// ErrNotRun is wrapped by the error a Handler returns for a case it cannot
// check; the case is then counted as not run rather than failed.
var ErrNotRun = errors.New("not run")

// ErrNoHandler is wrapped by the result error of a case whose (runner,
// handler) has no registered Handler.
var ErrNoHandler = fmt.Errorf("%w: no handler registered", ErrNotRun)

// Handler checks one case and returns nil when it passes.
type Handler func(c *Case) error

// Registry maps (runner, handler) pairs to Handlers. Handlers do not depend on
// the config: a Case carries its own Cfg. A Registry is safe for concurrent
// lookups once registration is done.
type Registry struct {
	handlers map[string]Handler
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{handlers: make(map[string]Handler)}
}

// Default returns a registry holding every handler shardlab implements.
func Default() *Registry {
	r := NewRegistry()
	RegisterSSZStatic(r)
	RegisterSSZGeneric(r)
	RegisterStateTransition(r)
	RegisterBLS(r)
	return r
}

func key(runner, handler string) string { return runner + "/" + handler }

// Register sets the Handler of (runner, handler). Registering a pair twice is
// a programming error and panics.
func (r *Registry) Register(runner, handler string, h Handler) {
	if runner == "" || handler == "" || strings.Contains(runner+handler, "/") || h == nil {
		panic(fmt.Sprintf("spectest: invalid registration %q/%q", runner, handler))
	}
	k := key(runner, handler)
	if _, dup := r.handlers[k]; dup {
		panic(fmt.Sprintf("spectest: handler %s registered twice", k))
	}
	r.handlers[k] = h
}

// Lookup returns the Handler of (runner, handler).
func (r *Registry) Lookup(runner, handler string) (Handler, bool) {
	h, ok := r.handlers[key(runner, handler)]
	return h, ok
}

// Registered lists the registered pairs as "runner/handler", sorted.
func (r *Registry) Registered() []string {
	out := make([]string, 0, len(r.handlers))
	for k := range r.handlers {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Status is the outcome of one case.
type Status int

// The outcomes of a case.
const (
	Passed Status = iota
	Failed
	NotRun
)

// String returns "passed", "failed" or "not run".
func (s Status) String() string {
	switch s {
	case Passed:
		return "passed"
	case Failed:
		return "failed"
	case NotRun:
		return "not run"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Result is the outcome of one case.
type Result struct {
	Case     *Case
	Status   Status
	Err      error // nil when Status is Passed
	Duration time.Duration
}

// RunCase runs c with its registered Handler. A panic in the Handler is a
// failure; an error wrapping ErrNotRun, or a missing Handler, makes the case
// not run.
func (r *Registry) RunCase(c *Case) Result {
	h, ok := r.Lookup(c.Runner, c.Handler)
	if !ok {
		return Result{Case: c, Status: NotRun, Err: fmt.Errorf("%w for %s/%s", ErrNoHandler, c.Runner, c.Handler)}
	}
	start := time.Now()
	err := safeCall(h, c)
	res := Result{Case: c, Err: err, Duration: time.Since(start)}
	switch {
	case err == nil:
		res.Status = Passed
	case errors.Is(err, ErrNotRun):
		res.Status = NotRun
	default:
		res.Status = Failed
	}
	return res
}

// panicError is a Handler panic turned into a failure.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string {
	return fmt.Sprintf("handler panicked: %v\n%s", p.value, p.stack)
}

func safeCall(h Handler, c *Case) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return h(c)
}
