package p2p_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardlab/shardlab/p2p"
)

// testTimeout bounds every wait in the network tests. Tests finish far
// sooner; the bound only turns a hang into a failure.
const testTimeout = 10 * time.Second

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// delivery is one message seen by a handler.
type delivery struct {
	node int
	from peer.ID
	data string
}

// collector returns a handler for node i that forwards deliveries to ch.
func collector(i int, ch chan<- delivery) p2p.Handler {
	return func(ctx context.Context, from peer.ID, data []byte) {
		select {
		case ch <- delivery{node: i, from: from, data: string(data)}:
		case <-ctx.Done():
		}
	}
}

// waitFor polls cond at a short interval until it holds or ctx ends. It is
// for state that has no event to wait on (sampled peer scores, connection
// counts); the ticker is not a sleep that a test's correctness depends on.
func waitFor(ctx context.Context, t testing.TB, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-tick.C:
		}
	}
}

// metricValue returns the value of the counter or gauge name with labels
// matching the given label=value pairs (all of them) from reg.
func metricValue(t testing.TB, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var got []string
			for _, lp := range m.GetLabel() {
				for i := 0; i+1 < len(labels); i += 2 {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						got = append(got, labels[i], labels[i+1])
					}
				}
			}
			if len(got) != len(labels) {
				continue
			}
			if c := m.GetCounter(); c != nil {
				sum += c.GetValue()
			}
			if g := m.GetGauge(); g != nil {
				sum += g.GetValue()
			}
		}
	}
	return sum
}

func msg(format string, args ...any) []byte { return fmt.Appendf(nil, format, args...) }
