package netsim

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/shardlab/shardlab/beacon/handler"
	"github.com/shardlab/shardlab/p2p"
)

// TestScoreArithmetic checks the score of a record against values worked
// out by hand with p2p's defaults (cap +10, weight -1, decay 0.99 a
// second, graylist -80).
func TestScoreArithmetic(t *testing.T) {
	cfg := p2p.DefaultConfig().Score
	tests := []struct {
		name    string
		invalid map[string]float64
		ticks   int64 // decay intervals passed after the rejects
		want    float64
		out     bool
	}{
		{"no rejects", map[string]float64{}, 0, 10, false},
		{"9 rejects: -71, not out", map[string]float64{"a": 9}, 0, 10 - 81, false},
		{"10 rejects: -90, out", map[string]float64{"a": 10}, 0, 10 - 100, true},
		{"7 and 6 on two topics: -75, not out", map[string]float64{"a": 7, "b": 6}, 0, 10 - 49 - 36, false},
		{"7 and 7 on two topics: -88, out", map[string]float64{"a": 7, "b": 7}, 0, 10 - 49 - 49, true},
		{"10 rejects, one interval later: 9.9", map[string]float64{"a": 10}, 1, 10 - 9.9*9.9, true},
		{"10 rejects, 20 intervals later: back above", map[string]float64{"a": 10}, 20, 10 - 100*math.Pow(0.99, 40), false},
		{"1 reject, 458 intervals later: just above 0.01", map[string]float64{"a": 1}, 458, 10 - math.Pow(0.99, 2*458), false},
		{"1 reject, 459 intervals later: decayed to zero", map[string]float64{"a": 1}, 459, 10, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &scoreRecord{invalid: tc.invalid}
			r.decay(tc.ticks, cfg.InvalidMessageDecay)
			got := r.value(cfg)
			if math.Abs(got-tc.want) > 1e-9 {
				t.Fatalf("score %v, want %v", got, tc.want)
			}
			if out := got < cfg.GraylistThreshold; out != tc.out {
				t.Fatalf("score %v below the graylist threshold %v: %v, want %v", got, cfg.GraylistThreshold, out, tc.out)
			}
		})
	}
	frozen := &scoreRecord{invalid: map[string]float64{"a": 10}, frozen: true}
	if frozen.decay(100, cfg.InvalidMessageDecay); frozen.invalid["a"] != 10 {
		t.Fatalf("a frozen record decayed to %v", frozen.invalid["a"])
	}
}

// TestScoreOutAtTenthReject feeds node 1 rejects of node 0's messages
// (with one Ignore, which does not count): the tenth disconnects node 0
// from node 1 both ways, and nothing goes over the link any more.
func TestScoreOutAtTenthReject(t *testing.T) {
	s, err := New(testConfig(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.judged(1, nodeID(0), p2p.BeaconBlockTopic, handler.Ignore)
	for k := range 9 {
		s.judged(1, nodeID(0), p2p.BeaconBlockTopic, handler.Reject)
		if got, _ := s.Score(1, 0); got != 10-float64((k+1)*(k+1)) {
			t.Fatalf("after %d rejects score %v", k+1, got)
		}
	}
	if len(s.ScoredOut()) != 0 || s.linkCut(0, 1) {
		t.Fatalf("scored out after 9 rejects: %v", s.ScoredOut())
	}
	s.judged(1, nodeID(0), p2p.BeaconBlockTopic, handler.Reject)
	want := []ScoreEvent{{Node: 1, Peer: 0, Score: -90}}
	if got := s.ScoredOut(); !slices.Equal(got, want) {
		t.Fatalf("scored out %v, want %v", got, want)
	}
	if slices.Contains(s.peersOf(1), nodeID(0)) || slices.Contains(s.peersOf(0), nodeID(1)) ||
		slices.Contains(s.meshOf(0), 1) || slices.Contains(s.meshOf(1), 0) {
		t.Fatal("the link is still among the peers or the mesh")
	}
	if !slices.Contains(s.peersOf(0), nodeID(2)) {
		t.Fatal("node 0 lost its other peers")
	}
	var reqErr error
	s.request(0, nodeID(1), p2p.StatusProtocol, nil, 1, func(_ [][]byte, err error) { reqErr = err })
	s.RunSlots(0)
	if !errors.Is(reqErr, ErrDisconnected) {
		t.Fatalf("request over the closed link: %v, want ErrDisconnected", reqErr)
	}
	before := s.NetStats().Dropped
	s.send(1, 0, p2p.BeaconBlockTopic, []byte{1}, 1, func() { t.Fatal("delivered over the closed link") })
	if s.NetStats().Dropped != before+1 {
		t.Fatal("a message over the closed link was not dropped")
	}
}

// TestBanEndsAndRestartForgets has node 1 score node 0 out with a short
// ban: the score is frozen while banned and forgotten after RetainScore,
// and the link opens when the ban ends. Then node 2 scores node 0 out and
// restarts: a new process forgets its bans, so the link opens at once.
func TestBanEndsAndRestartForgets(t *testing.T) {
	c := testConfig(1, 2)
	sc := p2p.DefaultConfig().Score
	sc.RetainScore, sc.BanDuration = 10*time.Second, 20*time.Second
	c.Score = &sc
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	reject := func(to int, n int) {
		for range n {
			s.judged(to, nodeID(0), p2p.BeaconAttestationTopic, handler.Reject)
		}
	}
	reject(1, 10)
	s.RunSlots(8) // 18 s (2 s slots): banned, score frozen
	if got, ok := s.Score(1, 0); !ok || got != -90 || !s.linkCut(0, 1) {
		t.Fatalf("at 18s: score %v (kept %v), cut %v; want -90 frozen and cut", got, ok, s.linkCut(0, 1))
	}
	s.RunSlots(11) // 24 s: the ban ended after the retention
	if _, ok := s.Score(1, 0); ok || s.linkCut(0, 1) || !slices.Contains(s.peersOf(1), nodeID(0)) {
		t.Fatal("at 24s the link is not open again with the score forgotten")
	}
	reject(2, 10)
	if !s.linkCut(0, 2) {
		t.Fatal("node 2 did not score node 0 out")
	}
	if err := s.Crash(2); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(2); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Score(2, 0); ok || s.linkCut(0, 2) {
		t.Fatal("the restarted node kept its score or ban")
	}
	if got := len(s.ScoredOut()); got != 2 {
		t.Fatalf("%d scoring-outs, want 2", got)
	}
	bad := p2p.DefaultConfig().Score
	bad.InvalidMessageWeight = 1
	c.Score = &bad
	if _, err := New(c); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("positive invalid-message weight: %v, want ErrInvalidConfig", err)
	}
}

// scoredBy is the nodes that scored node p out, ascending.
func scoredBy(evs []ScoreEvent, p int) []int {
	var out []int
	for _, e := range evs {
		if e.Peer == p {
			out = append(out, e.Node)
		}
	}
	slices.Sort(out)
	return out
}

// TestGarbagePeerScoredOut has beacon node 0 of the shard network (a
// quarter of the validators) spam garbage from slot 8: every neighbour
// scores it out within a few slots, nobody else is scored out, nothing
// reaches node 0 any more, and the other nodes, with three quarters of the
// validators, still finalize (later than they would with all of them)
// while node 0 does not. Two runs of the seed agree.
func TestGarbagePeerScoredOut(t *testing.T) {
	t.Parallel()
	runOnce := func(epochs uint64) (*Sim, *Result) {
		c := shardTestConfig(1)
		c.Epochs = epochs
		s, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		s.RunSlots(7)
		if err := s.GarbagePeer(0, 6, 16); err != nil {
			t.Fatal(err)
		}
		res, err := s.Run(context.Background(), func(r EpochReport) { t.Log(r) })
		if err != nil {
			t.Fatal(err)
		}
		return s, res
	}
	s, a := runOnce(7)
	all := []int{1, 2, 3, 4, 5, 6, 7}
	if got := scoredBy(a.ScoredOut, 0); !slices.Equal(got, all) || len(a.ScoredOut) != len(all) {
		t.Fatalf("scoring-outs %v, want node 0 by each of %v", a.ScoredOut, all)
	}
	for _, e := range a.ScoredOut {
		if e.Slot < 8 || e.Slot > 14 || e.Score >= -80 {
			t.Errorf("%v at slot %d: want slots 8..14, score < -80", e, e.Slot)
		}
	}
	for i := 1; i < s.NodeCount(); i++ {
		if slices.Contains(s.peersOf(i), nodeID(0)) {
			t.Errorf("node %d still has node 0 as a peer", i)
		}
		if f := s.nodes[i].chain.Finalized().Epoch; f < 4 {
			t.Errorf("node %d finalized epoch %d, want >= 4", i, f)
		}
	}
	if f := s.nodes[0].chain.Finalized().Epoch; f != 0 {
		t.Errorf("the cut-off node 0 finalized epoch %d, want 0", f)
	}
	st, err := s.ShardStatus()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("scoring-outs %v; garbage %d sent, verdicts %v", a.ScoredOut, st.GarbageSent, st.Garbage)
	if st.Garbage["accepted"] != 0 {
		t.Fatalf("garbage accepted: %v", st.Garbage)
	}
	_, b := runOnce(3)
	_, c := runOnce(3)
	if b.TraceHash != c.TraceHash || !slices.Equal(b.ScoredOut, c.ScoredOut) || !slices.Equal(a.ScoredOut, b.ScoredOut) {
		t.Fatalf("same seed: traces %s, %s; scoring-outs %v, %v, %v", b.TraceHex(), c.TraceHex(), a.ScoredOut, b.ScoredOut, c.ScoredOut)
	}
}

// TestHonestNetworkScoresOutNobody runs the honest shard network (with
// its workload of transactions and cross-shard claims): no handler
// rejects an honest node's message, so nobody is scored out and no node
// keeps a score record.
func TestHonestNetworkScoresOutNobody(t *testing.T) {
	t.Parallel()
	c := shardTestConfig(2)
	c.Epochs, c.Shard.TxRate = 4, 2
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ScoredOut) != 0 || len(s.score.rec) != 0 {
		t.Fatalf("honest network: scoring-outs %v, %d score records", res.ScoredOut, len(s.score.rec))
	}
}
