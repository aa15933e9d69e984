package bench

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	st "github.com/shardlab/shardlab/shard/types"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	v := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	tests := []struct {
		name   string
		values []float64
		p      float64
		want   float64
	}{
		{"empty", nil, 50, 0},
		{"one value", []float64{7}, 99, 7},
		{"median of ten", v, 50, 5},
		{"p90 of ten", v, 90, 9},
		{"p99 of ten is the largest", v, 99, 10},
		{"p0 is the smallest", v, 0, 1},
		{"p100", v, 100, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percentile(tc.values, tc.p); got != tc.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tc.values, tc.p, got, tc.want)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, msg, want string }{
		{"pool", "submit transaction: unavailable: transaction of account 3: pool full", "pool full"},
		{"signature", "submit transaction: invalid: invalid shard transaction: bad signature of account 5", "bad signature"},
		{"gap", "transaction nonce 9 of account 1: stale: the next nonce is 4", "nonce gap (an earlier nonce was refused)"},
		{"stale", "transaction nonce 1 of account 1: stale: the account is at nonce 3", "stale nonce"},
		{"balance", "transaction of account 2: stale: balance 1, pending 0, sends 5", "balance"},
		{"timeout", "Post \"http://x\": context deadline exceeded", "timeout"},
		{"refused", "dial tcp 127.0.0.1:1: connect: connection refused", "connection error"},
		{"other, cut", strings.Repeat("x", 100), strings.Repeat("x", 60) + "..."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.msg); got != tc.want {
				t.Errorf("classify(%q) = %q, want %q", tc.msg, got, tc.want)
			}
		})
	}
}

func TestParseProc(t *testing.T) {
	t.Parallel()
	// The command holds spaces and a parenthesis; utime 250, stime 50.
	stat := "1234 (shard lab) x) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 12 0 100 1000000 2000 0"
	u, err := parseStat(stat)
	if err != nil {
		t.Fatal(err)
	}
	if u.cpu != 3 {
		t.Errorf("cpu %v, want 3 s", u.cpu)
	}
	for _, bad := range []string{"", "1 (x S 1", "1 (x) S 1 2 3", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 a b"} {
		if _, err := parseStat(bad); err == nil {
			t.Errorf("parseStat(%q) accepted", bad)
		}
	}
	if got := parseRSS("Name:\tx\nVmRSS:\t  2048 kB\nVmSwap: 0 kB\n"); got != 2048<<10 {
		t.Errorf("rss %d", got)
	}
	if got := parseRSS("Name:\tx\n"); got != 0 {
		t.Errorf("rss without VmRSS: %d", got)
	}
	if u, err := readUsage(0); err != nil || u.rss == 0 {
		t.Errorf("own usage: %+v, %v", u, err)
	}
}

// TestTrackerStages follows transactions through every stage and checks
// the window's counts, rates and latencies.
func TestTrackerStages(t *testing.T) {
	t.Parallel()
	start := time.Unix(1000, 0)
	tr := newTracker(start)
	at := func(s float64) time.Time { return start.Add(time.Duration(s * float64(time.Second))) }
	mk := func(shard, from, nonce, toShard, to, amount uint64) *genTx {
		return &genTx{tx: st.Transaction{Shard: bt.Shard(shard), From: from, Nonce: nonce, ToShard: bt.Shard(toShard), To: to, Amount: bt.Gwei(amount)}}
	}
	intra := mk(0, 1, 0, 0, 5, 10)
	cross := mk(0, 2, 0, 1, 7, 20)
	refused := mk(0, 3, 0, 0, 5, 30)
	early := mk(0, 4, 0, 0, 5, 40) // offered before the window
	rIntra := tr.offer(intra, at(10), 100)
	rCross := tr.offer(cross, at(10), 100)
	rRef := tr.offer(refused, at(11), 100)
	rEarly := tr.offer(early, at(1), 100)
	tr.result(rIntra, at(10.1), txAccepted, "")
	tr.result(rCross, at(10.1), txAccepted, "")
	tr.result(rEarly, at(1.1), txAccepted, "")
	tr.result(rRef, at(11.1), txRejected, "transaction of account 3: pool full")

	// A block of shard 0 at slot 6 with the three accepted ones (and a
	// transaction the benchmark did not send: ignored).
	blk := &st.ShardBlock{Body: st.ShardBlockBody{Transactions: []*st.Transaction{&intra.tx, &cross.tx, &early.tx, &mk(0, 9, 0, 0, 1, 1).tx}}}
	tr.block(0, 6, blk, at(12))
	// Crosslinked up to slot 5 first (nothing), then 6.
	tr.crosslink(0, 5, 20, at(30))
	tr.crosslink(0, 6, 24, at(40))
	// Finality passes beacon slot 24 later.
	tr.finalized(24, at(50)) // not past 24 yet
	tr.finalized(32, at(70))
	// Shard 1 claims the cross-shard receipt.
	claim := &st.ReceiptClaim{Receipt: st.Receipt{SrcShard: 0, DstShard: 1, Nonce: 0, SrcSlot: 6, Sender: 2, Recipient: 7, Amount: 20}}
	other := &st.ReceiptClaim{Receipt: st.Receipt{SrcShard: 0, DstShard: 1, SrcSlot: 6, Sender: 2, Recipient: 7, Amount: 21}}
	tr.block(1, 40, &st.ShardBlock{Body: st.ShardBlockBody{Claims: []*st.ReceiptClaim{other, claim}}}, at(90))

	recs, rej, timeline := tr.snapshot()
	c, rates, lat := cohort(recs, tr.at(at(5)), tr.at(at(15)), stageClock{})
	want := Counts{Offered: 3, Accepted: 2, Rejected: 1, Included: 2, Crosslinked: 2, Finalized: 2, CrossShard: 1, Claimed: 1}
	if c != want {
		t.Errorf("counts %+v, want %+v", c, want)
	}
	if rates.Included != 0.2 || rates.Offered != 0.3 || rates.Claimed != 0.1 {
		t.Errorf("rates %+v", rates)
	}
	near := func(name string, got, want float64) {
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("inclusion p50", lat.Inclusion.P50, 2)
	near("crosslink p99", lat.Crosslink.P99, 30)
	near("finality p50", lat.Finality.P50, 60)
	near("claim p50", lat.Claim.P50, 80)
	if lat.Claim.N != 1 || len(lat.Inclusion.CDF) != 21 {
		t.Errorf("claim n %d, cdf %d points", lat.Claim.N, len(lat.Inclusion.CDF))
	}
	if rej["pool full"] != 1 {
		t.Errorf("rejections %v", rej)
	}
	if len(timeline) < 13 || timeline[10].Offered != 2 || timeline[12].Included != 3 {
		t.Errorf("timeline %+v", timeline)
	}
	if !tr.settled(tr.at(at(5)), tr.at(at(15))) {
		t.Error("window not settled after finality and claims")
	}
	// By inclusion time: the early transaction counts too (latency 11 s).
	s := tr.step(tr.at(at(10)), tr.at(at(20)))
	if s.included != 0.3 || s.offered != 0.3 || s.accepted != 0.2 || s.p99 != 11 {
		t.Errorf("step %+v", s)
	}
}

func TestBottleneck(t *testing.T) {
	t.Parallel()
	base := Result{Cap: 4096, ClaimCap: 512, HeldRate: 1000, Rates: Rates{Offered: 1000, Accepted: 1000, Included: 1000, Claimed: 450},
		Counts: Counts{Offered: 1000, CrossShard: 450, Included: 1000}}
	tests := []struct {
		name string
		edit func(r *Result)
		want string
	}{
		{"none", func(r *Result) {}, "none"},
		{"cpu", func(r *Result) { r.CPUUtil = 0.95 }, "CPU"},
		{"machine busy", func(r *Result) { r.CPUUtil, r.MachineCPUUtil = 0.3, 0.97 }, "CPU: the machine's cores were 97% busy in the window, the nodes and benchmark using 30%"},
		{"machine busy but below", func(r *Result) { r.MachineCPUUtil = 0.85 }, "none"},
		{"cap", func(r *Result) { r.HeldRate, r.Rates = 4000, Rates{Offered: 4000, Accepted: 4000, Included: 3950} }, "protocol cap"},
		{"submission", func(r *Result) { r.Rates.Offered, r.Rates.Accepted, r.Rates.Included = 800, 800, 800 }, "submission"},
		{"admission", func(r *Result) {
			r.Rates.Accepted, r.Rates.Included, r.Rejections = 700, 700, map[string]uint64{"pool full": 9, "balance": 1}
		}, "admission: nodes accepted 700 of 1000 offered tx/s (pool full)"},
		{"inclusion", func(r *Result) { r.Rates.Included = 500 }, "inclusion"},
		{"claim cap", func(r *Result) { r.Counts.CrossShard = 600 }, "claim cap: 600 cross-shard tx/s included"},
		{"claims behind", func(r *Result) { r.Rates.Claimed = 100 }, "claims: 100 of 450"},
		{"find-max stop", func(r *Result) {
			r.Steps = []Step{{Rate: 1000, Sustainable: true}, {Rate: 1250, Why: "p99 inclusion 9.1s above 8.0s"}}
		}, "none: the offered load was below every limit; find-max: 1250 tx/s was not sustainable (p99 inclusion 9.1s above 8.0s)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := base
			tc.edit(&r)
			if got := bottleneck(&r); !strings.HasPrefix(got, tc.want) {
				t.Errorf("bottleneck = %q, want prefix %q", got, tc.want)
			}
		})
	}
}

func TestParseBandwidth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		text    string
		want    netBytes
		ok, err bool
	}{
		{"two hosts", "# HELP x\nlibp2p_peers{role=\"shard\"} 7\n" +
			"libp2p_bandwidth_bytes_total{direction=\"in\",role=\"beacon\"} 100\n" +
			"libp2p_bandwidth_bytes_total{direction=\"out\",role=\"beacon\"} 2.5e+06\n" +
			"libp2p_bandwidth_bytes_total{direction=\"in\",role=\"shard\"} 50\n", netBytes{in: 150, out: 2.5e6}, true, false},
		{"absent", "libp2p_peers 3\n", netBytes{}, false, false},
		{"bad value", "libp2p_bandwidth_bytes_total{direction=\"in\"} x\n", netBytes{}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := parseBandwidth(strings.NewReader(tc.text))
			if got != tc.want || ok != tc.ok || (err != nil) != tc.err {
				t.Errorf("parseBandwidth = %+v, %v, %v; want %+v, %v, err %v", got, ok, err, tc.want, tc.ok, tc.err)
			}
		})
	}
}

func TestSlotTotals(t *testing.T) {
	t.Parallel()
	tr := newTracker(time.Unix(0, 0))
	full := &st.ShardBlock{Body: st.ShardBlockBody{Transactions: make([]*st.Transaction, params.MaxShardTransactions)}}
	for i := range full.Body.Transactions {
		full.Body.Transactions[i] = &st.Transaction{From: uint64(i)}
	}
	tr.block(0, 5, full, time.Unix(1, 0))
	tr.block(1, 5, &st.ShardBlock{}, time.Unix(1, 0))
	tr.emptySlot(6)
	tr.emptySlot(6)
	tr.block(0, 9, &st.ShardBlock{}, time.Unix(1, 0))
	if got, want := tr.slotTotals(5, 6), (slotStats{blocks: 2, empty: 2, full: 1}); got != want {
		t.Errorf("slots 5-6: %+v, want %+v", got, want)
	}
	if got := tr.slotTotals(7, 9); got != (slotStats{blocks: 1}) {
		t.Errorf("slots 7-9: %+v", got)
	}
}
