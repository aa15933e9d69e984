package bench

import (
	"context"
	"sync"
	"time"
)

// progress is the current phase of a run.
type progress struct {
	mu    sync.Mutex
	phase string
	since time.Time
	total time.Duration
}

func (p *progress) set(phase string, total time.Duration) {
	p.mu.Lock()
	p.phase, p.since, p.total = phase, time.Now(), total
	p.mu.Unlock()
}

// report calls cfg.Progress every second until ctx ends.
func (r *runner) report(ctx context.Context, p *progress) {
	if r.cfg.Progress == nil {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.mu.Lock()
		pr := Progress{Phase: p.phase, Elapsed: time.Since(p.since), Total: p.total, Rate: r.sub.target()}
		p.mu.Unlock()
		pr.Offered, pr.Included, pr.Rejected = r.tr.totals()
		r.cfg.Progress(pr)
	}
}

// totals counts the transactions offered, included and refused so far.
func (t *tracker) totals() (offered, included, rejected uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.timeline {
		offered += uint64(s.Offered)
		included += uint64(s.Included)
	}
	for _, n := range t.rejections {
		rejected += n
	}
	return offered, included, rejected
}
