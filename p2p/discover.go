package p2p

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Discovery beyond the bootnodes. Every Interval, and at once when a peer
// connects or disconnects, a round checks two things: whether the node has
// TargetPeers peers, and whether every shard its ShardDirectory wants has a
// connected server. When one is missing it asks up to two connected peers
// (each at most once per four intervals, a new peer first) for their peers
// over PeerExchangeProtocol, remembers what they name (at most
// maxCandidates), and dials candidates: first one server for each wanted
// shard without one, then any towards the target. Dials are bounded by
// DialsPerRound in flight, and a candidate that fails is retried with the
// bootnodes' exponential backoff.

const (
	// MaxRememberedPeers bounds the peers written to DiscoveryConfig.PeersFile.
	MaxRememberedPeers = 64
	// maxCandidates bounds the peers learnt from exchanges and the peers file.
	maxCandidates = 256
	// exchangesPerRound bounds the peer-exchange requests in flight.
	exchangesPerRound = 2
	// askAgainIntervals is how many intervals pass before a peer is asked
	// again.
	askAgainIntervals = 4
)

// candidate is a peer discovery may dial.
type candidate struct {
	info   peer.AddrInfo
	shards []uint64 // as the peer that named it claimed
	seen   time.Time
	dialBackoff
	dialing bool
}

type exchangeResult struct {
	from  peer.ID
	peers []KnownPeer
	err   error
}

type candidateDial struct {
	id  peer.ID
	err error
}

// discoverer is the state of the discovery loop; only the loop touches it.
type discoverer struct {
	n         *Node
	cands     map[peer.ID]*candidate
	asked     map[peer.ID]time.Time
	exchanges int // requests in flight
	dials     int // dials in flight
	exchanged chan exchangeResult
	dialed    chan candidateDial
	saved     []peer.ID // the peers last written to the peers file
}

// discover runs discovery until the node closes.
func (n *Node) discover() {
	defer n.wg.Done()
	sub, err := n.host.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		n.log.Error("subscribe to connection events", "err", err)
		return
	}
	defer sub.Close()
	d := &discoverer{
		n:         n,
		cands:     make(map[peer.ID]*candidate),
		asked:     make(map[peer.ID]time.Time),
		exchanged: make(chan exchangeResult, exchangesPerRound),
		dialed:    make(chan candidateDial, n.cfg.Discovery.DialsPerRound),
	}
	d.loadPeers()
	ticker := time.NewTicker(n.cfg.Discovery.Interval)
	defer ticker.Stop()
	for {
		d.round(time.Now())
		select {
		case <-n.ctx.Done():
			// The goroutines end with n.ctx; their channels have room for
			// every one in flight.
			for ; d.exchanges > 0; d.exchanges-- {
				<-d.exchanged
			}
			for ; d.dials > 0; d.dials-- {
				<-d.dialed
			}
			d.savePeers()
			return
		case <-ticker.C:
		case r := <-d.exchanged:
			d.exchanges--
			d.learn(r)
		case r := <-d.dialed:
			d.dials--
			d.dialDone(r)
		case _, ok := <-sub.Out():
			if !ok {
				return
			}
		}
	}
}

// round saves the peers when they changed and, when the node lacks peers
// or a wanted shard's server, asks for peers and dials candidates.
func (d *discoverer) round(now time.Time) {
	n := d.n
	conn := n.host.Network().Peers()
	d.savePeers()
	missing := d.missingShards(conn)
	need := n.cfg.Discovery.TargetPeers - len(conn) - d.dials
	if need <= 0 && len(missing) == 0 {
		return
	}
	d.ask(now, conn, missing)
	d.dial(now, conn, missing, need)
}

// missingShards returns the wanted shards that no connected peer serves.
func (d *discoverer) missingShards(conn []peer.ID) []uint64 {
	dir := d.n.shardDirectory()
	if dir == nil {
		return nil
	}
	wanted := dir.WantedShards()
	if len(wanted) == 0 {
		return nil
	}
	served := make(map[uint64]bool)
	for _, p := range conn {
		for _, s := range dir.PeerShards(p) {
			served[s] = true
		}
	}
	var missing []uint64
	for _, s := range wanted {
		if !served[s] {
			missing = append(missing, s)
		}
	}
	return missing
}

// ask sends peer-exchange requests to connected peers not asked lately,
// those never asked first.
func (d *discoverer) ask(now time.Time, conn []peer.ID, missing []uint64) {
	n := d.n
	for p := range d.asked {
		if !slices.Contains(conn, p) {
			delete(d.asked, p)
		}
	}
	again := askAgainIntervals * n.cfg.Discovery.Interval
	var due []peer.ID
	for _, p := range conn {
		if t, ok := d.asked[p]; !ok || now.Sub(t) >= again {
			due = append(due, p)
		}
	}
	slices.SortFunc(due, func(a, b peer.ID) int { return d.asked[a].Compare(d.asked[b]) })
	for _, p := range due {
		if d.exchanges == exchangesPerRound {
			return
		}
		d.asked[p] = now
		d.exchanges++
		go func() {
			ctx, cancel := context.WithTimeout(n.ctx, n.cfg.DialTimeout)
			defer cancel()
			peers, err := n.RequestPeers(ctx, p, MaxPeerRecords, missing)
			d.exchanged <- exchangeResult{from: p, peers: peers, err: err}
		}()
	}
}

// learn adds the peers of an answer to the candidates.
func (d *discoverer) learn(r exchangeResult) {
	if r.err != nil {
		d.n.log.Debug("peer exchange", "peer", r.from, "err", r.err)
		return
	}
	now := time.Now()
	for _, kp := range r.peers {
		d.addCandidate(kp, now)
	}
}

// addCandidate adds or refreshes a candidate, evicting the one seen least
// recently (and not being dialled) when there are maxCandidates.
func (d *discoverer) addCandidate(kp KnownPeer, now time.Time) {
	if kp.Info.ID == d.n.host.ID() {
		return
	}
	if len(kp.Info.Addrs) == 0 {
		return // nothing to dial
	}
	if c, ok := d.cands[kp.Info.ID]; ok {
		if !slices.EqualFunc(c.info.Addrs, kp.Info.Addrs, ma.Multiaddr.Equal) {
			// New addresses are worth a dial before the backoff ends.
			c.next, c.backoff = time.Time{}, d.n.cfg.BootnodeBackoffMin
		}
		c.info.Addrs, c.shards, c.seen = kp.Info.Addrs, kp.Shards, now
		return
	}
	if len(d.cands) >= maxCandidates {
		var oldest *candidate
		for _, c := range d.cands {
			if !c.dialing && (oldest == nil || c.seen.Before(oldest.seen)) {
				oldest = c
			}
		}
		if oldest == nil {
			return
		}
		delete(d.cands, oldest.info.ID)
	}
	d.cands[kp.Info.ID] = &candidate{info: kp.Info, shards: kp.Shards, seen: now,
		dialBackoff: dialBackoff{backoff: d.n.cfg.BootnodeBackoffMin}}
}

// dial starts dials: one server of each missing shard, then up to need
// others, within DialsPerRound in flight.
func (d *discoverer) dial(now time.Time, conn []peer.ID, missing []uint64, need int) {
	n := d.n
	var eligible []*candidate
	for id, c := range d.cands {
		if !c.dialing && !now.Before(c.next) && !slices.Contains(conn, id) && !n.isBanned(id) {
			eligible = append(eligible, c)
		}
	}
	// Most recently named first: their addresses are the freshest.
	slices.SortFunc(eligible, func(a, b *candidate) int {
		if c := b.seen.Compare(a.seen); c != 0 {
			return c
		}
		return cmpID(a.info.ID, b.info.ID)
	})
	for _, s := range missing {
		if d.dials >= n.cfg.Discovery.DialsPerRound {
			return
		}
		if d.dialingServer(s) {
			continue
		}
		i := slices.IndexFunc(eligible, func(c *candidate) bool { return slices.Contains(c.shards, s) })
		if i < 0 {
			continue
		}
		d.startDial(eligible[i])
		eligible = slices.Delete(eligible, i, i+1)
		need--
	}
	for _, c := range eligible {
		if need <= 0 || d.dials >= n.cfg.Discovery.DialsPerRound {
			return
		}
		d.startDial(c)
		need--
	}
}

func cmpID(a, b peer.ID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// dialingServer reports whether a dial in flight goes to a server of s.
func (d *discoverer) dialingServer(s uint64) bool {
	for _, c := range d.cands {
		if c.dialing && slices.Contains(c.shards, s) {
			return true
		}
	}
	return false
}

func (d *discoverer) startDial(c *candidate) {
	n := d.n
	c.dialing = true
	d.dials++
	info := c.info
	go func() { d.dialed <- candidateDial{id: info.ID, err: n.redial(info)} }()
}

// dialDone records a dial's result: a failure backs the candidate off.
func (d *discoverer) dialDone(r candidateDial) {
	n := d.n
	c, ok := d.cands[r.id]
	if !ok {
		return
	}
	c.dialing = false
	if r.err != nil {
		n.log.Debug("dial discovered peer", "peer", r.id, "err", r.err, "retry_in", c.backoff)
		c.failed(n.cfg.BootnodeBackoffMax)
		return
	}
	c.backoff = n.cfg.BootnodeBackoffMin
	n.log.Info("connected to discovered peer", "peer", r.id, "shards", c.shards)
}

// loadPeers adds the peers of the peers file to the candidates, so that
// the first round dials them. A missing file is no error; a bad one is
// logged and ignored.
func (d *discoverer) loadPeers() {
	path := d.n.cfg.Discovery.PeersFile
	if path == "" {
		return
	}
	infos, err := ReadPeersFile(path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			d.n.log.Warn("ignoring remembered peers", "err", err)
		}
		return
	}
	now := time.Now()
	for _, ai := range infos {
		d.addCandidate(KnownPeer{Info: ai}, now)
	}
	if len(infos) > 0 {
		d.n.log.Info("dialing remembered peers", "peers", len(infos))
	}
}

// savePeers writes the connected peers to the peers file when they changed
// (and are not none).
func (d *discoverer) savePeers() {
	n := d.n
	path := n.cfg.Discovery.PeersFile
	if path == "" {
		return
	}
	conn := n.host.Network().Peers()
	slices.Sort(conn)
	// Peers whose addresses are not known yet (identify still running)
	// are left out until a later round.
	var ids []peer.ID
	var infos []peer.AddrInfo
	for _, p := range conn {
		if len(infos) == MaxRememberedPeers {
			break
		}
		if addrs := n.host.Peerstore().Addrs(p); len(addrs) > 0 {
			ids = append(ids, p)
			infos = append(infos, peer.AddrInfo{ID: p, Addrs: addrs})
		}
	}
	if len(ids) == 0 || slices.Equal(ids, d.saved) {
		return
	}
	if err := WritePeersFile(path, infos); err != nil {
		n.log.Warn("remember peers", "err", err)
		return
	}
	d.saved = ids
}

// WritePeersFile writes infos (addresses with a /p2p/ suffix, at most
// MaxRecordAddrs per peer; peers without an address are left out) to path as a JSON list of multiaddr strings,
// atomically (a temporary file renamed).
func WritePeersFile(path string, infos []peer.AddrInfo) error {
	var addrs []string
	for _, ai := range infos {
		ai.Addrs = slices.DeleteFunc(slices.Clone(ai.Addrs), func(a ma.Multiaddr) bool {
			_, err := a.ValueForProtocol(ma.P_P2P)
			return err == nil
		})
		if len(ai.Addrs) > MaxRecordAddrs {
			ai.Addrs = ai.Addrs[:MaxRecordAddrs]
		}
		if len(ai.Addrs) == 0 {
			continue // nothing to dial
		}
		full, err := peer.AddrInfoToP2pAddrs(&ai)
		if err != nil {
			return fmt.Errorf("write peers file: %w", err)
		}
		for _, a := range full {
			addrs = append(addrs, a.String())
		}
	}
	buf, err := json.MarshalIndent(addrs, "", "  ")
	if err != nil {
		return fmt.Errorf("write peers file: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write peers file: %w", err)
	}
	if _, err := tmp.Write(append(buf, '\n')); err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write peers file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write peers file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write peers file: %w", err)
	}
	return nil
}

// maxPeersFileSize bounds the peers file read.
const maxPeersFileSize = 1 << 20

// ReadPeersFile reads a file written by WritePeersFile: at most
// MaxRememberedPeers peers, addresses merged by peer. A malformed file is
// an error (wrapping os.ErrNotExist when it is missing).
func ReadPeersFile(path string) ([]peer.AddrInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read peers file: %w", err)
	}
	defer f.Close()
	var addrs []string
	dec := json.NewDecoder(io.LimitReader(f, maxPeersFileSize))
	if err := dec.Decode(&addrs); err != nil {
		return nil, fmt.Errorf("read peers file %s: %w", path, err)
	}
	mas := make([]ma.Multiaddr, 0, len(addrs))
	for _, s := range addrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("read peers file %s: address %q: %w", path, s, err)
		}
		mas = append(mas, a)
	}
	infos, err := peer.AddrInfosFromP2pAddrs(mas...)
	if err != nil {
		return nil, fmt.Errorf("read peers file %s: %w", path, err)
	}
	if len(infos) > MaxRememberedPeers {
		infos = infos[:MaxRememberedPeers]
	}
	return infos, nil
}
