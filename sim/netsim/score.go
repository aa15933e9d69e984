package netsim

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/beacon/handler"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
)

// Peer scoring: a model of gossipsub v1.1's peer score as p2p configures
// it (p2p.ScoreConfig, p2p/gossip.go's peerScoreParams and
// topicScoreParams), with the same numbers (p2p.DefaultConfig().Score
// unless Config.Score says otherwise), so that a peer sending invalid
// gossip is disconnected as a real node (p2p.Node.inspectScores) would
// disconnect it.
//
// Every node keeps, for each peer and topic, the counter of the peer's
// messages its handlers rejected (gossipsub's P4, invalidMessageDeliveries;
// an Ignore does not count). The counters decay by InvalidMessageDecay
// every DecayInterval of virtual time (from genesis), and one below
// DecayToZero (0.01) becomes 0. The peer's score is
//
//	TopicScoreCap + Σ_topic InvalidMessageWeight · counter²
//
// (topic weight 1): the positive terms (P1 time in mesh, P2 first
// deliveries) are taken as the most credit gossipsub lets them add, the
// cap. That is generous to a misbehaving peer that has earned no credit,
// but gossipsub caps the sum of the topic scores (positive and negative),
// so a peer with more than TopicScoreCap of positive credit summed over its
// topics (up to 13 a topic with p2p's defaults) absorbs part of its P4
// before the cap bites, and on a real network takes longer to score out.
// Left out: P1 and P2's exact values, P3/P3b and P6 (off in p2p), P7
// (broken IHAVE promises, GRAFT during backoff: the simulator has no
// IHAVE/IWANT and no mesh maintenance) and the gossip and publish
// thresholds (the simulator floods or keeps a fixed mesh).
//
// When a node's score of a peer falls below GraylistThreshold it
// disconnects the peer at once (a real node at its next score sample, at
// most InspectInterval later; gossipsub ignores the peer's messages from
// the moment its score is below the threshold): the link is closed both
// ways, gossip and requests over it stop and messages in flight on it are
// lost, both handlers see the peer leave, and the node refuses the peer
// for BanDuration. Meanwhile both ends keep their score of the other
// frozen, and forget it after RetainScore; when the ban ends the two
// connect again (as discovery would redial) and exchange statuses. A
// restarted node forgets its scores and bans, as a real process does.

// ScoreEvent is one scoring-out: node Node disconnected its peer Peer for
// its score.
type ScoreEvent struct {
	// Slot is the slot it happened in; Time the time since genesis.
	Slot types.Slot
	Time time.Duration
	// Node is the node that disconnected Peer.
	Node, Peer int
	// Score is Peer's score at Node then (below GraylistThreshold).
	Score float64
}

// String formats e for logs and reports.
func (e ScoreEvent) String() string {
	return fmt.Sprintf("node %d scored out node %d (score %.1f)", e.Node, e.Peer, e.Score)
}

// decayToZero is gossipsub's DecayToZero as p2p sets it.
const decayToZero = 0.01

// scoreRecord is one node's score record of one peer.
type scoreRecord struct {
	invalid map[string]float64 // P4 counters by topic
	tick    int64              // decay ticks applied (since genesis)
	// frozen: the peer is disconnected (since frozenAt); no decay.
	frozen   bool
	frozenAt time.Time
}

// ban is a link closed for a score.
type ban struct {
	by    int    // the node that scored the other out
	until *event // the end of the ban
}

// scoring is the Sim's peer scoring state.
type scoring struct {
	cfg    p2p.ScoreConfig
	rec    map[[2]int]*scoreRecord // by (node, peer)
	bans   map[[2]int]ban          // by link (lower, higher index)
	events []ScoreEvent
}

// scoreConfig is the scoring configuration c asks for, validated.
func (c Config) scoreConfig() (p2p.ScoreConfig, error) {
	pc := p2p.DefaultConfig()
	if c.Score != nil {
		pc.Score = *c.Score
	}
	if err := pc.Validate(); err != nil {
		return p2p.ScoreConfig{}, fmt.Errorf("%w: score: %w", ErrInvalidConfig, err)
	}
	return pc.Score, nil
}

// link is the key of the link between nodes i and j.
func link(i, j int) [2]int { return [2]int{min(i, j), max(i, j)} }

// linkCut reports whether the link between i and j is closed for a score.
func (s *Sim) linkCut(i, j int) bool {
	if len(s.score.bans) == 0 {
		return false
	}
	_, ok := s.score.bans[link(i, j)]
	return ok
}

// meshOf is node i's gossip neighbours over open links.
func (s *Sim) meshOf(i int) []int {
	if len(s.score.bans) == 0 {
		return s.net.mesh[i]
	}
	return slices.DeleteFunc(slices.Clone(s.net.mesh[i]), func(j int) bool { return s.linkCut(i, j) })
}

// decayTick is the number of decay intervals since genesis.
func (s *Sim) decayTick() int64 {
	return int64(s.loop.now.Sub(s.genesis) / s.score.cfg.DecayInterval)
}

// decay applies the decay intervals passed since r was last updated
// (none while frozen).
func (r *scoreRecord) decay(tick int64, decay float64) {
	if r.frozen {
		return
	}
	for ; r.tick < tick; r.tick++ {
		live := false // each counter on its own: map order does not matter
		for t, c := range r.invalid {
			if c *= decay; c < decayToZero {
				c = 0
			} else {
				live = true
			}
			r.invalid[t] = c
		}
		if !live {
			r.tick = tick
			return
		}
	}
}

// value is the record's score: the cap plus the P4 terms, summed in topic
// order (float addition is not associative: map order would leak).
func (r *scoreRecord) value(cfg p2p.ScoreConfig) float64 {
	v := cfg.TopicScoreCap
	for _, t := range slices.Sorted(maps.Keys(r.invalid)) {
		c := r.invalid[t]
		v += cfg.InvalidMessageWeight * c * c
	}
	return v
}

// judged feeds node to's verdict on a gossip message from peer from on
// topic into to's score of from: a Reject counts, and may score from out.
func (s *Sim) judged(to int, from peer.ID, topic string, v handler.Verdict) {
	if v != handler.Reject || !s.score.cfg.Enabled {
		return
	}
	j, ok := s.net.index[from]
	if !ok || s.linkCut(to, j) {
		return
	}
	if s.score.rec == nil {
		s.score.rec = make(map[[2]int]*scoreRecord)
	}
	r := s.score.rec[[2]int{to, j}]
	if r == nil {
		r = &scoreRecord{invalid: make(map[string]float64), tick: s.decayTick()}
		s.score.rec[[2]int{to, j}] = r
	}
	r.decay(s.decayTick(), s.score.cfg.InvalidMessageDecay)
	r.invalid[topic]++
	if v := r.value(s.score.cfg); v < s.score.cfg.GraylistThreshold {
		s.scoreOut(to, j, v)
	}
}

// Score is node i's score of peer j now, and whether i keeps a record of j
// (a peer never rejected has none: its score is the cap).
func (s *Sim) Score(i, j int) (float64, bool) {
	r, ok := s.score.rec[[2]int{i, j}]
	if !ok {
		return s.score.cfg.TopicScoreCap, false
	}
	r.decay(s.decayTick(), s.score.cfg.InvalidMessageDecay)
	return r.value(s.score.cfg), true
}

// ScoredOut lists the scoring-outs so far, in order.
func (s *Sim) ScoredOut() []ScoreEvent { return slices.Clone(s.score.events) }

// scoreOut has node i disconnect and ban peer j, whose score is v.
func (s *Sim) scoreOut(i, j int, v float64) {
	since := s.loop.now.Sub(s.genesis)
	ev := ScoreEvent{Slot: types.Slot(since / s.slot), Time: since, Node: i, Peer: j, Score: v}
	s.score.events = append(s.score.events, ev)
	s.trace.record(recScore, s.loop.now, i, j, "scored-out", nil)
	s.nodes[i].log.Info("disconnecting peer with low gossip score", "peer", s.net.peers[j], "score", v)
	if s.score.bans == nil {
		s.score.bans = make(map[[2]int]ban)
	}
	until := s.loop.schedule(s.loop.now.Add(s.score.cfg.BanDuration), func() { s.unban(i, j) })
	s.score.bans[link(i, j)] = ban{by: i, until: until}
	for _, k := range [2][2]int{{i, j}, {j, i}} {
		if r := s.score.rec[k]; r != nil {
			r.decay(s.decayTick(), s.score.cfg.InvalidMessageDecay)
			r.frozen, r.frozenAt = true, s.loop.now
		}
		if n := s.nodes[k[0]]; !n.down {
			n.h.OnPeerDisconnected(s.net.peers[k[1]])
		}
	}
}

// unban ends the ban of the link between i and j and connects the two
// again: each resumes its score of the other (resume), and the handlers
// exchange statuses.
func (s *Sim) unban(i, j int) {
	if _, ok := s.score.bans[link(i, j)]; !ok {
		return
	}
	delete(s.score.bans, link(i, j))
	s.resume(i, j)
	s.resume(j, i)
	s.greet(i, j)
	s.greet(j, i)
}

// resume reopens node i's record of peer j when their link opens again:
// kept, and decaying again, if it was frozen less than RetainScore ago,
// else forgotten.
func (s *Sim) resume(i, j int) {
	r := s.score.rec[[2]int{i, j}]
	switch {
	case r == nil:
	case s.loop.now.Sub(r.frozenAt) >= s.score.cfg.RetainScore:
		delete(s.score.rec, [2]int{i, j})
	default:
		r.frozen, r.tick = false, s.decayTick()
	}
}

// greet tells node i's handler, unless i is down, that peer j connected.
func (s *Sim) greet(i, j int) {
	if n := s.nodes[i]; !n.down {
		n.h.OnPeerConnected(s.net.peers[j])
	}
}

// forgetScores drops restarted node i's scores and bans: the links it
// closed open again (the peers' handlers see it connect; its own handler
// greets every peer as Restart does).
func (s *Sim) forgetScores(i int) {
	for k := range s.score.rec {
		if k[0] == i {
			delete(s.score.rec, k)
		}
	}
	var peers []int
	for l, b := range s.score.bans {
		if b.by == i {
			peers = append(peers, l[0]+l[1]-i)
		}
	}
	slices.Sort(peers) // map order must not leak into the run
	for _, j := range peers {
		s.score.bans[link(i, j)].until.dead = true
		delete(s.score.bans, link(i, j))
		s.resume(j, i)
		s.greet(j, i)
	}
}
