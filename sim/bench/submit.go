package bench

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardlab/shardlab/sim/testnet"
)

// pacerTick is how often the pacer hands out the transactions due.
const pacerTick = 5 * time.Millisecond

// pendingBatch is a batch being filled for one shard of one lane; body is
// the binary batch body (the transactions' SSZ one after the other).
type pendingBatch struct {
	shard uint64
	body  []byte
	recs  []*txRecord
	since time.Time
}

// submitter offers the generator's transactions at the target rate: the
// pacer takes them lane by lane, batches them per lane and shard, and one
// goroutine per lane posts the lane's batches in order, as binary (SSZ)
// bodies, to the batch route of a node serving the shard (so an account's
// nonces arrive in order, while the lanes submit in parallel over their
// own connections).
type submitter struct {
	gen     *generator
	tr      *tracker
	clients map[uint64]*testnet.Client // shard -> a node serving it
	rest    time.Duration              // how long a refused account rests
	size    int
	flush   time.Duration

	rttMu sync.Mutex
	rtts  []float64 // seconds per batch request, in order

	rate    atomic.Uint64 // math.Float64bits of the target rate
	lagMax  atomic.Uint64
	starved atomic.Uint64
	queues  []chan *pendingBatch
}

func newSubmitter(gen *generator, tr *tracker, clients map[uint64]*testnet.Client, rest time.Duration, size int, flush time.Duration) *submitter {
	s := &submitter{gen: gen, tr: tr, clients: clients, rest: rest, size: size, flush: flush}
	for range gen.lanes {
		s.queues = append(s.queues, make(chan *pendingBatch, 256))
	}
	return s
}

// setRate sets the target offered rate (transactions per second).
func (s *submitter) setRate(r float64) { s.rate.Store(math.Float64bits(r)) }

func (s *submitter) target() float64 { return math.Float64frombits(s.rate.Load()) }

// run paces and submits until ctx ends.
func (s *submitter) run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range s.queues {
		wg.Go(func() { s.send(ctx, s.queues[i]) })
	}
	s.pace(ctx)
	for _, q := range s.queues {
		close(q)
	}
	wg.Wait()
}

// pace hands out the due transactions every pacerTick. A backlog (the
// generator or the lanes behind) is capped at half a second of load, so
// that a stall never turns into a burst.
func (s *submitter) pace(ctx context.Context) {
	bufs := make([]map[uint64]*pendingBatch, len(s.queues))
	for i := range bufs {
		bufs[i] = make(map[uint64]*pendingBatch)
	}
	tick := time.NewTicker(pacerTick)
	defer tick.Stop()
	last := time.Now()
	var due float64
	lane := 0
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			rate := s.target()
			due += rate * now.Sub(last).Seconds()
			last = now
			due = min(due, max(rate/2, 1))
			for due >= 1 {
				var g *genTx
				for range len(s.gen.lanes) {
					select {
					case g = <-s.gen.lanes[lane]:
					default:
					}
					lane = (lane + 1) % len(s.gen.lanes)
					if g != nil {
						break
					}
				}
				if g == nil {
					s.starved.Add(1)
					break
				}
				due--
				i := s.gen.laneOf(acctKey{uint64(g.tx.Shard), g.tx.From})
				b := bufs[i][uint64(g.tx.Shard)]
				if b == nil {
					b = &pendingBatch{shard: uint64(g.tx.Shard), since: now}
					bufs[i][b.shard] = b
				}
				body, err := testnet.AppendBatchSSZ(b.body, &g.tx)
				if err != nil {
					continue // cannot happen: a transaction always encodes
				}
				b.body = body
				b.recs = append(b.recs, s.tr.offer(g, now, rate))
				if len(b.recs) >= s.size {
					s.enqueue(ctx, i, b)
					delete(bufs[i], b.shard)
				}
			}
			if due >= 1 && uint64(due) > s.lagMax.Load() {
				s.lagMax.Store(uint64(due))
			}
			for i, m := range bufs {
				for sh, b := range m {
					if now.Sub(b.since) >= s.flush {
						s.enqueue(ctx, i, b)
						delete(m, sh)
					}
				}
			}
		}
	}
}

func (s *submitter) enqueue(ctx context.Context, lane int, b *pendingBatch) {
	select {
	case s.queues[lane] <- b:
	case <-ctx.Done():
	}
}

// send posts a lane's batches in order.
func (s *submitter) send(ctx context.Context, q chan *pendingBatch) {
	for b := range q {
		c := s.clients[b.shard]
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		sent := time.Now()
		res, err := c.SubmitBatchSSZ(rctx, b.shard, b.body)
		cancel()
		now := time.Now()
		s.rttMu.Lock()
		s.rtts = append(s.rtts, now.Sub(sent).Seconds())
		s.rttMu.Unlock()
		if err != nil && ctx.Err() != nil {
			return // the run ended: the batch's fate is unknown, not failed
		}
		for i, r := range b.recs {
			switch {
			case err != nil:
				s.tr.result(r, now, txFailed, err.Error())
			case i >= len(res):
				s.tr.result(r, now, txFailed, "no result for the transaction in the batch answer")
			case res[i].Code == 202:
				s.tr.result(r, now, txAccepted, "")
				continue
			default:
				s.tr.result(r, now, txRejected, res[i].Message)
			}
			if s.gen.rest(r.acct, r.gen) {
				go s.resync(ctx, c, r.acct)
			}
		}
	}
}

// resync rests a refused account, then resumes it at its node nonce (the
// pool may still hold some of its transactions: a later refusal rests it
// again).
func (s *submitter) resync(ctx context.Context, c *testnet.Client, k acctKey) {
	for attempt := 0; ; attempt++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.rest):
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		nonce, _, err := c.Account(rctx, k.shard, k.index)
		cancel()
		if err == nil {
			s.gen.resume(k, nonce)
			return
		}
		if errors.Is(err, testnet.ErrNotFound) || attempt >= 5 {
			return // the account stays resting
		}
	}
}

// batchRTT returns the round trips of the batch requests so far.
func (s *submitter) batchRTT() Latency {
	s.rttMu.Lock()
	v := append([]float64(nil), s.rtts...)
	s.rttMu.Unlock()
	l := newLatency(v)
	l.CDF = nil
	return l
}
