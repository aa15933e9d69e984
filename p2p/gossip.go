package p2p

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/peer"
)

// ValidationResult is a Validator's verdict on a gossip message.
type ValidationResult int

const (
	// Accept delivers the message to the handler and forwards it to peers.
	Accept ValidationResult = iota
	// Reject drops an invalid message (bad signature, impossible slot) and
	// penalizes the peer that sent it (score term P4).
	Reject
	// Ignore drops a message without penalty (duplicate, unknown parent,
	// too old or too early): neither delivered nor forwarded.
	Ignore
)

func (r ValidationResult) String() string {
	switch r {
	case Accept:
		return "accept"
	case Reject:
		return "reject"
	case Ignore:
		return "ignore"
	default:
		return fmt.Sprintf("ValidationResult(%d)", int(r))
	}
}

// Validator judges a decompressed gossip message from peer from (the peer
// that forwarded it: messages carry no author). It runs inside gossipsub's
// validation pipeline, before the message is forwarded, concurrently with
// other validations, and is bounded by GossipConfig.ValidatorTimeout
// (expiry = Ignore). Messages published by this node are not validated.
type Validator func(ctx context.Context, from peer.ID, data []byte) ValidationResult

// Handler receives accepted gossip messages of one topic, in order, from one
// goroutine per topic. A handler that blocks stalls its topic; messages that
// arrive meanwhile wait in a buffer of GossipConfig.SubscriptionBufferSize
// and are dropped beyond it. Messages published by this node are not
// delivered to its own handler.
type Handler func(ctx context.Context, from peer.ID, data []byte)

// TopicName returns the full gossipsub topic of a short topic name:
// /shardlab/<network>/<name>/ssz_snappy.
func TopicName(network, name string) string {
	return "/shardlab/" + network + "/" + name + "/ssz_snappy"
}

// MessageID is the gossipsub message ID: the first 20 bytes of the SHA-256 of
// the message data, which is the snappy-compressed payload. Messages have no
// author or sequence number (see newPubSub), so identical payloads published
// by different nodes are one message, which is what deduplication of blocks
// and attestations needs.
func MessageID(data []byte) string {
	h := sha256.Sum256(data)
	return string(h[:20])
}

// topicState is a joined topic and, when subscribed, its subscription.
type topicState struct {
	name   string
	full   string
	topic  *pubsub.Topic
	sub    *pubsub.Subscription
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
	unreg  func()
}

// close cancels the subscription, waits for its handler loop, unregisters
// the validator and leaves the topic.
func (t *topicState) close() {
	t.once.Do(func() {
		if t.sub != nil {
			t.sub.Cancel()
			t.cancel()
			<-t.done
		}
		if t.unreg != nil {
			t.unreg()
		}
		_ = t.topic.Close()
	})
}

// newPubSub creates the gossipsub router.
//
// Signing policy: StrictNoSign with no author, as eth2 does. Messages carry
// no from/seqno/signature, and messages that carry them are rejected. The
// payloads authenticate themselves (BLS signatures of proposers, attesters,
// slashers), so a libp2p signature would only cost bytes and CPU and tie
// every message to the publishing peer's identity. The message ID therefore
// has to be content based (MessageID).
func (n *Node) newPubSub() error {
	g := n.cfg.Gossip
	params := pubsub.DefaultGossipSubParams()
	params.D, params.Dlo, params.Dhi, params.Dlazy = g.D, g.Dlo, g.Dhi, g.Dlazy
	params.Dscore = min(g.D*2/3, g.Dhi)
	params.Dout = max(0, min(g.Dlo-1, (g.D-1)/2))
	params.HeartbeatInterval = g.HeartbeatInterval
	params.HeartbeatInitialDelay = min(params.HeartbeatInitialDelay, g.HeartbeatInterval)

	opts := []pubsub.Option{
		pubsub.WithGossipSubParams(params),
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(func(m *pb.Message) string { return MessageID(m.Data) }),
		pubsub.WithPeerOutboundQueueSize(g.QueueSize),
		pubsub.WithValidateQueueSize(g.ValidationQueueSize),
		// The RPC frame limit leaves room for the protobuf envelope (topic
		// name, control messages) around a maximal payload.
		pubsub.WithMaxMessageSize(g.MaxCompressedSize + 64<<10),
		pubsub.WithSeenMessagesTTL(g.SeenTTL),
		pubsub.WithFloodPublish(g.FloodPublish),
		pubsub.WithPeerExchange(g.PeerExchange),
		pubsub.WithLogger(n.log.With("component", "pubsub")),
		pubsub.WithRawTracer(n.mesh),
	}
	if n.cfg.Score.Enabled {
		params, thresholds := n.peerScoreParams()
		opts = append(opts,
			pubsub.WithPeerScore(params, thresholds),
			pubsub.WithPeerScoreInspect(pubsub.PeerScoreInspectFn(n.inspectScores), n.cfg.Score.InspectInterval),
		)
	}
	rt := pubsub.DefaultGossipSubRouter(n.host)
	if _, ok := connmgr.SupportsDecay(n.host.ConnManager()); ok {
		// Protects mesh peers and rewards deliveries in the connection
		// manager. Hosts without a decaying connection manager (mocknet)
		// would log a warning for every delivered message.
		opts = append(opts, rt.WithDefaultTagTracer())
	}
	ps, err := pubsub.NewGossipSubWithRouter(n.ctx, n.host, rt, opts...)
	if err != nil {
		return fmt.Errorf("create gossipsub: %w", err)
	}
	n.ps = ps
	return nil
}

// peerScoreParams returns the global score parameters and thresholds; see
// ScoreConfig for the reasoning.
func (n *Node) peerScoreParams() (*pubsub.PeerScoreParams, *pubsub.PeerScoreThresholds) {
	s := n.cfg.Score
	params := &pubsub.PeerScoreParams{
		Topics:                      map[string]*pubsub.TopicScoreParams{},
		TopicScoreCap:               s.TopicScoreCap,
		AppSpecificScore:            func(peer.ID) float64 { return 0 },
		AppSpecificWeight:           1,
		IPColocationFactorWeight:    0, // disabled: local nets share one IP
		IPColocationFactorThreshold: 1,
		BehaviourPenaltyWeight:      s.BehaviourPenaltyWeight,
		BehaviourPenaltyThreshold:   6,
		BehaviourPenaltyDecay:       s.BehaviourPenaltyDecay,
		DecayInterval:               s.DecayInterval,
		DecayToZero:                 0.01,
		RetainScore:                 s.RetainScore,
		SeenMsgTTL:                  n.cfg.Gossip.SeenTTL,
	}
	thresholds := &pubsub.PeerScoreThresholds{
		GossipThreshold:             s.GossipThreshold,
		PublishThreshold:            s.PublishThreshold,
		GraylistThreshold:           s.GraylistThreshold,
		AcceptPXThreshold:           s.AcceptPXThreshold,
		OpportunisticGraftThreshold: s.OpportunisticGraftThreshold,
	}
	return params, thresholds
}

// topicScoreParams returns the score parameters of every topic.
func (n *Node) topicScoreParams() *pubsub.TopicScoreParams {
	s := n.cfg.Score
	return &pubsub.TopicScoreParams{
		SkipAtomicValidation:           true, // P3 and P3b stay zero (off)
		TopicWeight:                    1,
		TimeInMeshWeight:               s.TimeInMeshWeight,
		TimeInMeshQuantum:              s.DecayInterval,
		TimeInMeshCap:                  s.TimeInMeshCap,
		FirstMessageDeliveriesWeight:   s.FirstDeliveryWeight,
		FirstMessageDeliveriesDecay:    s.FirstDeliveryDecay,
		FirstMessageDeliveriesCap:      s.FirstDeliveryCap,
		InvalidMessageDeliveriesWeight: s.InvalidMessageWeight,
		InvalidMessageDeliveriesDecay:  s.InvalidMessageDecay,
	}
}

// joinLocked returns the joined topic of name, joining it if needed.
// n.mu must be held.
func (n *Node) joinLocked(name string) (*topicState, error) {
	if t, ok := n.topics[name]; ok {
		return t, nil
	}
	if err := checkName(name); err != nil {
		return nil, fmt.Errorf("join topic %q: %w", name, err)
	}
	full := TopicName(n.cfg.NetworkName, name)
	topic, err := n.ps.Join(full)
	if err != nil {
		return nil, fmt.Errorf("join topic %s: %w", full, err)
	}
	if n.cfg.Score.Enabled {
		if err := topic.SetScoreParams(n.topicScoreParams()); err != nil {
			_ = topic.Close()
			return nil, fmt.Errorf("set score params of topic %s: %w", full, err)
		}
	}
	t := &topicState{name: name, full: full, topic: topic}
	n.topics[name] = t
	return t, nil
}

// Subscribe subscribes to the topic name (a short name such as
// BeaconBlockTopic or ShardBlockTopic(3)). Every message from a peer is
// decompressed (limits checked first; undecodable data is rejected), judged
// by v inside gossipsub's validator so that only accepted messages are
// forwarded, and delivered to handle when accepted. A nil v accepts every
// decodable message.
func (n *Node) Subscribe(name string, v Validator, handle Handler) error {
	if handle == nil {
		return fmt.Errorf("subscribe %s: %w: nil handler", name, ErrInvalidArgument)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return fmt.Errorf("subscribe %s: %w", name, ErrClosed)
	}
	if t, ok := n.topics[name]; ok && t.sub != nil {
		return fmt.Errorf("subscribe %s: %w", name, ErrAlreadySubscribed)
	}
	t, err := n.joinLocked(name)
	if err != nil {
		return err
	}
	var vopts []pubsub.ValidatorOpt
	if n.cfg.Gossip.ValidatorTimeout > 0 {
		vopts = append(vopts, pubsub.WithValidatorTimeout(n.cfg.Gossip.ValidatorTimeout))
	}
	if err := n.ps.RegisterTopicValidator(t.full, n.topicValidator(name, v), vopts...); err != nil {
		return fmt.Errorf("register validator of %s: %w", t.full, err)
	}
	t.unreg = func() { _ = n.ps.UnregisterTopicValidator(t.full) }
	sub, err := t.topic.Subscribe(pubsub.WithBufferSize(n.cfg.Gossip.SubscriptionBufferSize))
	if err != nil {
		t.unreg()
		t.unreg = nil
		return fmt.Errorf("subscribe %s: %w", t.full, err)
	}
	ctx, cancel := context.WithCancel(n.ctx)
	t.sub, t.cancel, t.done = sub, cancel, make(chan struct{})
	go n.deliver(ctx, t, handle)
	return nil
}

// Unsubscribe cancels the subscription to name and leaves the topic.
func (n *Node) Unsubscribe(name string) error {
	n.mu.Lock()
	t, ok := n.topics[name]
	if !ok || t.sub == nil {
		n.mu.Unlock()
		return fmt.Errorf("unsubscribe %s: %w", name, ErrNotSubscribed)
	}
	delete(n.topics, name)
	n.mu.Unlock()
	t.close()
	return nil
}

// deliver hands accepted messages of t to handle until the subscription ends.
func (n *Node) deliver(ctx context.Context, t *topicState, handle Handler) {
	defer close(t.done)
	self := n.host.ID()
	for {
		msg, err := t.sub.Next(ctx)
		if err != nil {
			return
		}
		if msg.ReceivedFrom == self {
			continue
		}
		data, ok := msg.ValidatorData.([]byte)
		if !ok {
			continue
		}
		handle(ctx, msg.ReceivedFrom, data)
	}
}

// topicValidator adapts v to gossipsub: decompress, count, judge.
func (n *Node) topicValidator(name string, v Validator) pubsub.ValidatorEx {
	self := n.host.ID()
	g := n.cfg.Gossip
	received := n.metrics.received.WithLabelValues(name)
	rejected := n.metrics.rejected.WithLabelValues(name)
	ignored := n.metrics.ignored.WithLabelValues(name)
	return func(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
		if from == self {
			// Our own publication: Publish attached the SSZ bytes.
			return pubsub.ValidationAccept
		}
		received.Inc()
		data, err := DecodeGossip(msg.Data, g.MaxCompressedSize, g.MaxDecompressedSize)
		if err != nil {
			rejected.Inc()
			n.log.Debug("rejected undecodable gossip", "topic", name, "peer", from, "err", err)
			return pubsub.ValidationReject
		}
		res := Accept
		if v != nil {
			res = v(ctx, from, data)
		}
		switch res {
		case Accept:
			msg.ValidatorData = data
			return pubsub.ValidationAccept
		case Reject:
			rejected.Inc()
			n.log.Debug("rejected gossip", "topic", name, "peer", from)
			return pubsub.ValidationReject
		default:
			ignored.Inc()
			return pubsub.ValidationIgnore
		}
	}
}

// Publish compresses ssz and publishes it on the topic name (joining the
// topic when not subscribed). Publishing a payload already seen on the
// topic is a no-op.
func (n *Node) Publish(ctx context.Context, name string, ssz []byte) error {
	data, err := EncodeGossip(ssz, n.cfg.Gossip.MaxDecompressedSize)
	if err != nil {
		return fmt.Errorf("publish %s: %w", name, err)
	}
	if len(data) > n.cfg.Gossip.MaxCompressedSize {
		return fmt.Errorf("publish %s: %w: compressed %d bytes > %d", name, ErrMessageTooLarge, len(data), n.cfg.Gossip.MaxCompressedSize)
	}
	return n.publish(ctx, name, data, ssz)
}

// publish publishes already encoded data; ssz is attached as validator data
// for our own handler bookkeeping.
func (n *Node) publish(ctx context.Context, name string, data, ssz []byte) error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return fmt.Errorf("publish %s: %w", name, ErrClosed)
	}
	t, err := n.joinLocked(name)
	n.mu.Unlock()
	if err != nil {
		return fmt.Errorf("publish %s: %w", name, err)
	}
	if err := t.topic.Publish(ctx, data, pubsub.WithValidatorData(ssz)); err != nil {
		return fmt.Errorf("publish %s: %w", name, err)
	}
	n.metrics.published.WithLabelValues(name).Inc()
	return nil
}

// Topics returns the short names of the joined topics (subscribed or
// published to), sorted.
func (n *Node) Topics() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	names := make([]string, 0, len(n.topics))
	for name := range n.topics {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// TopicPeers returns the peers known to be subscribed to the topic name
// (nil when this node has not joined it).
func (n *Node) TopicPeers(name string) []peer.ID {
	n.mu.Lock()
	t, ok := n.topics[name]
	n.mu.Unlock()
	if !ok {
		return nil
	}
	return t.topic.ListPeers()
}

// WaitTopicPeers blocks until at least want peers are known to be subscribed
// to the topic name. The topic must be joined (subscribed or published to).
func (n *Node) WaitTopicPeers(ctx context.Context, name string, want int) error {
	n.mu.Lock()
	t, ok := n.topics[name]
	n.mu.Unlock()
	if !ok {
		return fmt.Errorf("wait for peers of %s: %w", name, ErrNotSubscribed)
	}
	for {
		changed := n.mesh.changes() // before the check: no event is missed
		have := len(t.topic.ListPeers())
		if have >= want {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("wait for peers of %s (%d of %d): %w", name, have, want, ctx.Err())
		}
	}
}

// GossipPeers returns the peers gossipsub currently has a stream to.
func (n *Node) GossipPeers() []peer.ID { return n.ps.ListPeers("") }

// WaitGossipPeerGone blocks until gossipsub has dropped its state of peer p
// after a disconnect. Redialing p before that can lose p's subscriptions:
// go-libp2p-pubsub v0.17 handles the old connection's dead stream after the
// new connection came up and clears the topic state learned on the new one.
// The bootnode dialer and p2ptest's Partition wait for this.
func (n *Node) WaitGossipPeerGone(ctx context.Context, p peer.ID) error {
	for {
		changed := n.mesh.changes()
		if !slices.Contains(n.GossipPeers(), p) {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("wait for gossip state of %s to clear: %w", p, ctx.Err())
		}
	}
}
