package clock

import (
	"context"
	"sync"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// Waiter is implemented by clocks that can block until a given time.
// WaitUntil returns nil once the clock reads t or later, or ctx's error.
type Waiter interface {
	WaitUntil(ctx context.Context, t time.Time) error
}

// Real is the system clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// WaitUntil sleeps until t (a timer on the system clock).
func (Real) WaitUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WaitUntil blocks until c reads t or later, or ctx ends. Clocks that
// implement Waiter decide how; for any other clock it polls with timers of
// the remaining duration as c reports it.
func WaitUntil(ctx context.Context, c Clock, t time.Time) error {
	if w, ok := c.(Waiter); ok {
		return w.WaitUntil(ctx, t)
	}
	for {
		d := t.Sub(c.Now())
		if d <= 0 {
			return ctx.Err()
		}
		timer := time.NewTimer(d)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		}
	}
}

// Manual is a clock that only moves when told to (Set, Advance). Goroutines
// blocked in WaitUntil wake when it reaches their time. It is safe for
// concurrent use.
type Manual struct {
	mu      sync.Mutex
	now     time.Time
	changed chan struct{} // closed and replaced on every move
}

// NewManual returns a manual clock reading t.
func NewManual(t time.Time) *Manual {
	return &Manual{now: t, changed: make(chan struct{})}
}

// Now returns the clock's time.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// Set moves the clock to t (also backwards).
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	m.now = t
	close(m.changed)
	m.changed = make(chan struct{})
	m.mu.Unlock()
}

// Advance moves the clock forward by d.
func (m *Manual) Advance(d time.Duration) {
	m.mu.Lock()
	m.now = m.now.Add(d)
	close(m.changed)
	m.changed = make(chan struct{})
	m.mu.Unlock()
}

// WaitUntil blocks until the clock reads t or later, or ctx ends.
func (m *Manual) WaitUntil(ctx context.Context, t time.Time) error {
	for {
		m.mu.Lock()
		reached, ch := !m.now.Before(t), m.changed
		m.mu.Unlock()
		if reached {
			return ctx.Err()
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
