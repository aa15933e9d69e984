package netsim

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/beacon/handler"
)

// msgID identifies a gossip message: the first 20 bytes of
// sha256(topic || data).
type msgID [20]byte

func newMsgID(topic string, data []byte) msgID {
	h := sha256.New()
	h.Write([]byte(topic))
	h.Write(data)
	var id msgID
	copy(id[:], h.Sum(nil))
	return id
}

// network is the simulated links, partitions and gossip mesh.
type network struct {
	peers   []peer.ID // node i's peer ID, by index
	index   map[peer.ID]int
	conns   [][]int       // peer set of each node, ascending (buildPeers)
	connIDs [][]peer.ID   // the same as peer IDs
	mesh    [][]int       // gossip neighbours of each node (among its peers), ascending
	group   []int         // partition group of each node; equal groups talk
	last    [][]time.Time // per-link latest delivery time (FIFO links)
}

// Stats counts the network's traffic.
type Stats struct {
	// Gossip counts gossip deliveries to handlers; Duplicates the copies
	// dropped by message id, Unsent those of them never scheduled because
	// the receiver had seen the message when it was sent (see forward).
	Gossip, Duplicates, Unsent uint64
	// Requests counts requests answered; Dropped messages lost, cut by a
	// partition or timed out.
	Requests, Dropped uint64
	// Bytes is the payload carried (unsent duplicates excluded).
	Bytes uint64
	// Slashings counts the slashings the nodes' slashers published.
	Slashings uint64
}

// buildNetwork names the nodes, connects each to its peer set
// (buildPeers) and builds the gossip mesh over those connections: every
// peer for degree 0 or at least n-1 (flooding); otherwise each node links
// to degree random peers (links are symmetric, so some nodes get more,
// and a node with fewer peers links to all of them).
func (s *Sim) buildNetwork(n, degree int) {
	nw := &s.net
	nw.peers = make([]peer.ID, n)
	nw.index = make(map[peer.ID]int, n)
	nw.group = make([]int, n)
	nw.last = make([][]time.Time, n)
	for i := range n {
		nw.peers[i] = nodeID(i)
		nw.index[nodeID(i)] = i
		nw.last[i] = make([]time.Time, n)
	}
	connected := s.buildPeers(n)
	nw.conns = make([][]int, n)
	nw.connIDs = make([][]peer.ID, n)
	for i := range n {
		for j := range n {
			if connected[i][j] {
				nw.conns[i] = append(nw.conns[i], j)
				nw.connIDs[i] = append(nw.connIDs[i], nw.peers[j])
			}
		}
	}
	nw.mesh = make([][]int, n)
	if degree == 0 || degree >= n-1 {
		for i := range n {
			nw.mesh[i] = slices.Clone(nw.conns[i])
		}
		return
	}
	linked := make([]map[int]bool, n)
	for i := range linked {
		linked[i] = make(map[int]bool)
	}
	for i := range n {
		for _, j := range s.rng.Perm(n) {
			if len(linked[i]) >= degree {
				break
			}
			if j != i && connected[i][j] {
				linked[i][j], linked[j][i] = true, true
			}
		}
	}
	for i := range n {
		for j := range n {
			if linked[i][j] {
				nw.mesh[i] = append(nw.mesh[i], j)
			}
		}
	}
}

// peerSeed is the second word of the peer-set generator's seed ("peers"),
// a stream of its own so that the peer set leaves the network's draws
// (and the traces of fully connected runs) unchanged.
const peerSeed = 0x7065657273

// buildPeers returns who connects to whom (symmetric), as the real node's
// discovery would settle (p2p/discover.go): with Config.Peers 0, or at
// least n-1, every node to every other; otherwise each node in index order
// dials random others (a permutation drawn from the seed) until it has
// Config.Peers connections (others dial it too, so some have more), and
// then, in a run with shard nodes, one random server (other than itself)
// of each shard none of its peers serves: every node wants them all (beacon nodes attest
// crosslinks of any shard and ask servers for their data roots, shard
// nodes look up every destination's inbox), as beacon/node's
// shardDirectory.WantedShards says; a server syncs its shards from
// another server).
func (s *Sim) buildPeers(n int) [][]bool {
	connected := make([][]bool, n)
	for i := range connected {
		connected[i] = make([]bool, n)
	}
	connect := func(i, j int) { connected[i][j], connected[j][i] = true, true }
	target := s.cfg.Peers
	if target == 0 || target >= n-1 {
		for i := range n {
			for j := range n {
				if j != i {
					connected[i][j] = true
				}
			}
		}
		return connected
	}
	rng := rand.New(rand.NewPCG(s.cfg.Seed, peerSeed))
	degree := make([]int, n)
	for i := range n {
		for _, j := range rng.Perm(n) {
			if degree[i] >= target {
				break
			}
			if j != i && !connected[i][j] {
				connect(i, j)
				degree[i]++
				degree[j]++
			}
		}
	}
	servers := s.shardServers(n)
	for i := range n {
		for _, sv := range servers {
			others := slices.DeleteFunc(slices.Clone(sv), func(j int) bool { return j == i })
			if len(others) == 0 || slices.ContainsFunc(others, func(j int) bool { return connected[i][j] }) {
				continue
			}
			connect(i, others[rng.IntN(len(others))])
		}
	}
	return connected
}

// shardServers lists, for every shard, the nodes serving it (none in a
// beacon-only run).
func (s *Sim) shardServers(n int) [][]int {
	if s.cfg.Shard.Nodes == 0 {
		return nil
	}
	out := make([][]int, s.cfg.Shard.Shards)
	for k := range s.cfg.Shard.Nodes {
		if s.cfg.Nodes+k >= n {
			break
		}
		for _, sh := range servedShards(s.cfg.Shard.Shards, s.cfg.Shard.Nodes, k) {
			out[sh] = append(out[sh], s.cfg.Nodes+k)
		}
	}
	return out
}

// peersOf is node i's peer set, sorted (connections stay up; a partition
// drops their messages). The caller may modify the slice.
func (s *Sim) peersOf(i int) []peer.ID {
	if len(s.score.bans) == 0 {
		return slices.Clone(s.net.connIDs[i])
	}
	var out []peer.ID // without the links closed for a score (score.go)
	for k, j := range s.net.conns[i] {
		if !s.linkCut(i, j) {
			out = append(out, s.net.connIDs[i][k])
		}
	}
	return out
}

// Partition cuts the network into groups: nodes in different groups (and
// nodes not listed, which form one more group) no longer reach each other.
// Messages in flight across the cut are lost.
func (s *Sim) Partition(groups ...[]int) error {
	next := make([]int, len(s.nodes))
	for g, members := range groups {
		for _, i := range members {
			if i < 0 || i >= len(s.nodes) {
				return fmt.Errorf("partition: %w: node %d of %d", ErrInvalidConfig, i, len(s.nodes))
			}
			next[i] = g + 1
		}
	}
	s.net.group = next
	return nil
}

// Heal joins every partition again.
func (s *Sim) Heal() { s.net.group = make([]int, len(s.nodes)) }

// At schedules f (a Partition or Heal, say) at the given time since genesis.
func (s *Sim) At(sinceGenesis time.Duration, f func()) {
	s.loop.schedule(s.genesis.Add(sinceGenesis), f)
}

// send carries a message of size bytes (its topic or protocol label and
// payload, for the message rules) from node from to node to and calls
// deliver on arrival, unless the message is lost or a partition separates
// the nodes then.
func (s *Sim) send(from, to int, label string, data []byte, size int, deliver func()) {
	if s.nodes[from].down || s.nodes[to].down || s.linkCut(from, to) {
		s.stats.Dropped++
		return
	}
	if s.cfg.Loss > 0 && s.rng.Float64() < s.cfg.Loss {
		s.stats.Dropped++
		return
	}
	if s.linkFaultLost(from, to) {
		s.stats.Dropped++
		return
	}
	lost, extra, reorder := s.applyRules(from, to, label, data)
	if lost {
		s.stats.Dropped++
		return
	}
	at := s.loop.now.Add(s.cfg.Latency.sample(s.rng) + s.linkFaultDelay(from, to) + extra)
	if s.cfg.Bandwidth > 0 {
		at = at.Add(time.Duration(float64(size) / s.cfg.Bandwidth * float64(time.Second)))
	}
	if !s.cfg.Reorder && !reorder {
		if last := s.net.last[from][to]; at.Before(last) {
			at = last
		}
		s.net.last[from][to] = at
	}
	s.loop.schedule(at, func() {
		if s.net.group[from] != s.net.group[to] || s.nodes[to].down || s.linkCut(from, to) {
			s.stats.Dropped++
			return
		}
		s.stats.Bytes += uint64(size)
		deliver()
	})
}

// publish gossips a node's own message to its mesh.
func (s *Sim) publish(from int, topic string, data []byte) {
	id := newMsgID(topic, data)
	s.nodes[from].seen[id] = true
	s.forward(from, -1, topic, data, id)
}

// forward sends a message on to from's mesh neighbours except one. A
// neighbour that has already seen the message would only drop the copy
// on arrival (a node forgets what it saw only when it restarts, and then
// it is down until the restart): the copy is counted as a duplicate and
// not scheduled, which spares most of a mesh run's events.
func (s *Sim) forward(from, except int, topic string, data []byte, id msgID) {
	for _, to := range s.meshOf(from) {
		switch {
		case to == except:
		case s.nodes[to].seen[id]:
			s.stats.Duplicates++
			s.stats.Unsent++
		default:
			s.send(from, to, topic, data, len(data), func() { s.receive(to, from, topic, data, id) })
		}
	}
}

// receive hands a gossip message to a node's handler once, and forwards it
// if the handler accepts it.
func (s *Sim) receive(to, from int, topic string, data []byte, id msgID) {
	n := s.nodes[to]
	if n.seen[id] {
		s.stats.Duplicates++
		return
	}
	n.seen[id] = true
	s.stats.Gossip++
	s.trace.record(recGossip, s.loop.now, to, from, topic, data)
	if n.onGossip(topic, s.net.peers[from], data) == handler.Accept {
		s.forward(to, from, topic, data, id)
	}
}

// request carries a request to p, its answer back, and calls done once:
// with the answer, or with ErrTimeout after the request timeout.
func (s *Sim) request(from int, p peer.ID, protocol string, req []byte, maxChunks int, done func([][]byte, error)) {
	to, ok := s.net.index[p]
	if !ok {
		s.loop.schedule(s.loop.now, func() { done(nil, fmt.Errorf("request %s: %w: %s", protocol, ErrUnknownPeer, p)) })
		return
	}
	if s.linkCut(from, to) {
		s.loop.schedule(s.loop.now, func() { done(nil, fmt.Errorf("request %s: %w: %s", protocol, ErrDisconnected, p)) })
		return
	}
	answered := false
	timeout := s.loop.schedule(s.loop.now.Add(s.requestTimeout), func() {
		answered = true
		s.stats.Dropped++
		s.trace.record(recTimer, s.loop.now, from, to, protocol, nil)
		done(nil, fmt.Errorf("request %s from %s: %w", protocol, p, ErrTimeout))
	})
	s.send(from, to, protocol, req, len(req), func() {
		s.trace.record(recRequest, s.loop.now, to, from, protocol, req)
		chunks, err := s.nodes[to].onRequest(s.net.peers[from], protocol, req)
		if len(chunks) > maxChunks {
			chunks = chunks[:maxChunks]
		}
		size := 0
		for _, c := range chunks {
			size += len(c)
		}
		s.send(to, from, protocol, nil, size, func() {
			if answered {
				return
			}
			answered, timeout.dead = true, true
			s.stats.Requests++
			s.trace.record(recResponse, s.loop.now, from, to, protocol, slices.Concat(chunks...))
			done(chunks, err)
		})
	})
}
