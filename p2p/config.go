package p2p

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// DefaultPort is the default TCP port, and the default UDP port for QUIC.
const DefaultPort = 9000

// Config configures a Node. Build it from DefaultConfig (processes) or
// TestConfig (in-process tests), change what you need, and call Validate
// (New and NewWithHost call it too).
type Config struct {
	// ListenAddrs are the multiaddrs the host listens on, for example
	// "/ip4/0.0.0.0/tcp/9000" and "/ip4/0.0.0.0/udp/9000/quic-v1". Ignored
	// by NewWithHost (the caller's host already listens).
	ListenAddrs []string

	// PrivateKey is the node identity. When nil, KeyFile is loaded (and
	// created if missing); when KeyFile is empty too, a fresh Ed25519 key
	// is generated and the peer ID changes at every start. Ignored by
	// NewWithHost.
	PrivateKey crypto.PrivKey `yaml:"-" json:"-"`
	// KeyFile is the path of a key written by SaveKey (hex of the
	// libp2p protobuf encoding). See LoadOrGenerateKey.
	KeyFile string

	// Bootnodes are multiaddrs with a /p2p/<peer ID> suffix. Start dials
	// them, redials them when they disconnect, and backs off exponentially
	// between failed attempts (BootnodeBackoffMin doubling up to
	// BootnodeBackoffMax, with jitter). Bootnode connections are protected
	// from the connection manager.
	Bootnodes          []string
	BootnodeBackoffMin time.Duration
	BootnodeBackoffMax time.Duration
	// DialTimeout bounds one dial attempt (bootnodes, mDNS peers).
	DialTimeout time.Duration

	// MDNS enables multicast DNS discovery on the local network (for local
	// multi-process testnets) with service tag MDNSServiceTag.
	MDNS           bool
	MDNSServiceTag string

	// NetworkName is the network (fork digest) component of every gossip
	// topic: /shardlab/<NetworkName>/<name>/ssz_snappy. Nodes with a
	// different NetworkName do not see each other's gossip. Letters,
	// digits, '-', '_' and '.' only.
	NetworkName string

	// MaxPeers is the connection manager's high water mark: above it, the
	// least useful connections are trimmed down to 80% of MaxPeers. Ignored
	// by NewWithHost (the host brings its own connection manager).
	MaxPeers int

	Gossip    GossipConfig
	Score     ScoreConfig
	ReqResp   ReqRespConfig
	Discovery DiscoveryConfig
}

// DiscoveryConfig configures discovery beyond the bootnodes (discover.go):
// while the node has fewer than TargetPeers peers, or no connected server
// of a shard its ShardDirectory wants, it asks its peers for theirs over
// PeerExchangeProtocol and dials what they name.
type DiscoveryConfig struct {
	// TargetPeers is the peer count discovery dials towards (it still dials
	// a server of a wanted shard above it). Zero turns discovery's dialing
	// off; the node still answers peer-exchange requests.
	TargetPeers int
	// Interval is the time between discovery rounds. A round asks at most
	// two peers, each at most once per four intervals, and a new connection
	// starts a round at once.
	Interval time.Duration
	// DialsPerRound bounds the dials in flight.
	DialsPerRound int
	// PeersFile, when set, is where the connected peers are remembered
	// (JSON, at most MaxRememberedPeers) so that a restarted node dials them
	// at once instead of waiting to be dialled back.
	PeersFile string
}

// GossipConfig holds gossipsub parameters.
type GossipConfig struct {
	// D, Dlo, Dhi and Dlazy are the gossipsub mesh degree parameters: the
	// target mesh size, the size below which the heartbeat grafts and above
	// which it prunes, and the number of peers receiving IHAVE gossip.
	// Dscore and Dout are derived (2/3 D and min(Dlo-1, (D-1)/2)).
	D, Dlo, Dhi, Dlazy int
	// HeartbeatInterval is the gossipsub heartbeat (mesh maintenance and
	// IHAVE gossip).
	HeartbeatInterval time.Duration
	// QueueSize is the per-peer outbound RPC queue. gossipsub's default (32)
	// drops most of a burst of 1,000 messages; 4,096 drops none.
	QueueSize int
	// ValidationQueueSize is the queue in front of the topic validators;
	// messages arriving when it is full are dropped (without penalty).
	ValidationQueueSize int
	// SubscriptionBufferSize is the per-topic buffer between validation and
	// the handler; a handler that falls this far behind loses messages.
	SubscriptionBufferSize int
	// MaxCompressedSize bounds a gossip payload on the wire (snappy block
	// compressed); MaxDecompressedSize bounds it after decompression. Both
	// are checked before decompression.
	MaxCompressedSize   int
	MaxDecompressedSize int
	// ValidatorTimeout bounds one Validator call; a validator that runs
	// longer has its message ignored (no penalty). Zero disables it.
	ValidatorTimeout time.Duration
	// SeenTTL is how long message IDs are remembered for deduplication.
	SeenTTL time.Duration
	// FloodPublish sends our own messages to every topic peer with a score
	// above ScoreConfig.PublishThreshold, not only to mesh peers.
	FloodPublish bool
	// PeerExchange turns on gossipsub v1.1's peer exchange: a PRUNE carries
	// up to 16 other mesh peers (with their signed peer records, which
	// identify stores), and a pruned node dials them when the pruning peer's
	// score is at least ScoreConfig.AcceptPXThreshold. It only fires when a
	// mesh overflows Dhi or a peer leaves a topic; the peer exchange of
	// discover.go is what makes small networks converge.
	PeerExchange bool
}

// ScoreConfig configures gossipsub v1.1 peer scoring. Every topic gets the
// same topic score parameters (see topicScoreParams):
//
//   - P1 time in mesh: +TimeInMeshWeight per second in the mesh, capped at
//     +TimeInMeshCap*TimeInMeshWeight.
//   - P2 first message deliveries: +FirstDeliveryWeight per message we saw
//     first from the peer, counter capped at FirstDeliveryCap and decayed by
//     FirstDeliveryDecay every DecayInterval.
//   - P3/P3b mesh delivery rates: disabled. On quiet topics (slashings,
//     exits, a shard with no transactions) they punish honest peers.
//   - P4 invalid messages: InvalidMessageWeight * count^2, count decayed by
//     InvalidMessageDecay every DecayInterval. This is the term a Reject
//     from a Validator feeds; Ignore does not touch it.
//   - P6 IP colocation: disabled, because local testnets put every peer on
//     127.0.0.1 (and the simulator on one mock address range).
//   - P7 behaviour penalty (broken IHAVE promises, GRAFT during backoff):
//     BehaviourPenaltyWeight * (count-6)^2.
//
// The sum of all topic scores (credit and penalties together) is capped at
// TopicScoreCap, so good behaviour cannot buy much credit; a topic can give
// up to +13 (P1 3, P2 10), so a peer with credit on several topics absorbs
// a penalty on one before the cap bites. With the defaults (weight -1, cap
// 10), for a peer without credit, rejects on one topic: one costs -1, 4 put
// it below the gossip threshold (-16 < -10: no IHAVE/IWANT with it), 8
// below the publish threshold (-64 < -50: we stop publishing to it), 9
// below the graylist threshold (-81 < -80; 10 when its other topics bring
// +10 in all): gossipsub then ignores all its RPCs, and the Node
// disconnects it at the next score sample and refuses it for BanDuration. The invalid-message
// counter decays by 1% per second while connected; a disconnected peer's
// score is frozen for RetainScore and then forgotten.
type ScoreConfig struct {
	// Enabled turns peer scoring on (the default). When off, Reject still
	// stops propagation but nobody is penalized or graylisted.
	Enabled bool

	GossipThreshold             float64
	PublishThreshold            float64
	GraylistThreshold           float64
	AcceptPXThreshold           float64
	OpportunisticGraftThreshold float64

	TopicScoreCap          float64
	TimeInMeshWeight       float64
	TimeInMeshCap          float64
	FirstDeliveryWeight    float64
	FirstDeliveryDecay     float64
	FirstDeliveryCap       float64
	InvalidMessageWeight   float64
	InvalidMessageDecay    float64
	BehaviourPenaltyWeight float64
	BehaviourPenaltyDecay  float64

	// DecayInterval is how often counters decay (gossipsub requires >= 1s).
	DecayInterval time.Duration
	// RetainScore is how long a disconnected peer's score is remembered (it
	// does not decay meanwhile), so a graylisted peer cannot reset its score
	// by reconnecting.
	RetainScore time.Duration
	// InspectInterval is how often scores are sampled: for Node.PeerScores
	// and for disconnecting peers below GraylistThreshold.
	InspectInterval time.Duration
	// BanDuration is how long a peer disconnected for its score is refused.
	// Keep it longer than RetainScore: a peer that comes back while its
	// score record is retained is still graylisted and is banned again.
	BanDuration time.Duration
}

// ReqRespConfig configures the request/response protocols.
type ReqRespConfig struct {
	// TTFBTimeout bounds the time from the request being sent to the first
	// byte of the response (client side), and the time the server waits for
	// the request itself.
	TTFBTimeout time.Duration
	// RespTimeout bounds each response chunk: its transfer on the client,
	// its write on the server.
	RespTimeout time.Duration
	// HandlerTimeout bounds the context given to a RequestHandler.
	HandlerTimeout time.Duration
	// MaxRequestSize bounds a request's uncompressed SSZ size.
	MaxRequestSize int
	// MaxChunkSize bounds one response chunk's uncompressed SSZ size.
	MaxChunkSize int
	// MaxResponseChunks bounds the number of chunks a handler may write and
	// a Request may ask for.
	MaxResponseChunks int
	// MaxErrorMessageSize bounds the message of an error chunk.
	MaxErrorMessageSize int
	// MaxConcurrentInbound bounds concurrently served inbound requests; above
	// it, requests get a ResourceUnavailable error chunk.
	MaxConcurrentInbound int
}

// DefaultConfig returns the configuration of a standalone process: TCP and
// QUIC on port 9000 on all interfaces, mDNS off, scoring on.
func DefaultConfig() Config {
	return Config{
		ListenAddrs:        ListenAddrs("0.0.0.0", DefaultPort, true),
		Bootnodes:          nil,
		BootnodeBackoffMin: time.Second,
		BootnodeBackoffMax: time.Minute,
		DialTimeout:        10 * time.Second,
		MDNS:               false,
		MDNSServiceTag:     "shardlab",
		NetworkName:        "shardlab-devnet",
		MaxPeers:           64,
		Gossip: GossipConfig{
			// Small local networks (4-16 nodes): a mesh of 6 reaches every
			// node within two hops; Dlo 4 avoids constant grafting when a
			// node only has 4-5 peers.
			D:                      6,
			Dlo:                    4,
			Dhi:                    10,
			Dlazy:                  6,
			HeartbeatInterval:      700 * time.Millisecond, // eth2's value
			QueueSize:              4096,
			ValidationQueueSize:    4096,
			SubscriptionBufferSize: 4096,
			MaxCompressedSize:      1 << 20,
			MaxDecompressedSize:    10 << 20,
			ValidatorTimeout:       10 * time.Second,
			SeenTTL:                2 * time.Minute,
			FloodPublish:           true,
			PeerExchange:           true,
		},
		Score: ScoreConfig{
			Enabled:                     true,
			GossipThreshold:             -10,
			PublishThreshold:            -50,
			GraylistThreshold:           -80,
			AcceptPXThreshold:           5, // half the score cap: PRUNE peers of useful peers only
			OpportunisticGraftThreshold: 1,
			TopicScoreCap:               10,
			TimeInMeshWeight:            0.01,
			TimeInMeshCap:               300,
			FirstDeliveryWeight:         1,
			FirstDeliveryDecay:          0.9,
			FirstDeliveryCap:            10,
			InvalidMessageWeight:        -1,
			InvalidMessageDecay:         0.99, // half-life about 70 intervals
			BehaviourPenaltyWeight:      -1,
			BehaviourPenaltyDecay:       0.9,
			DecayInterval:               time.Second,
			RetainScore:                 5 * time.Minute,
			InspectInterval:             time.Second,
			BanDuration:                 6 * time.Minute,
		},
		ReqResp: ReqRespConfig{
			TTFBTimeout:          5 * time.Second,  // eth2 TTFB_TIMEOUT
			RespTimeout:          10 * time.Second, // eth2 RESP_TIMEOUT
			HandlerTimeout:       30 * time.Second,
			MaxRequestSize:       1 << 20,
			MaxChunkSize:         10 << 20,
			MaxResponseChunks:    1024,
			MaxErrorMessageSize:  256,
			MaxConcurrentInbound: 128,
		},
		Discovery: DiscoveryConfig{
			TargetPeers:   16,
			Interval:      3 * time.Second,
			DialsPerRound: 4,
		},
	}
}

// TestConfig returns DefaultConfig tuned for in-process tests: listen on an
// ephemeral TCP port of 127.0.0.1, faster heartbeats and score sampling,
// short request timeouts, discovery's dialing and gossipsub's peer exchange
// off.
func TestConfig() Config {
	c := DefaultConfig()
	c.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0"}
	c.NetworkName = "shardlab-test"
	c.BootnodeBackoffMin = 50 * time.Millisecond
	c.BootnodeBackoffMax = time.Second
	c.DialTimeout = 2 * time.Second
	c.Gossip.HeartbeatInterval = 100 * time.Millisecond
	c.Gossip.ValidatorTimeout = 2 * time.Second
	c.Score.InspectInterval = 50 * time.Millisecond
	c.ReqResp.TTFBTimeout = time.Second
	c.ReqResp.RespTimeout = time.Second
	c.ReqResp.HandlerTimeout = 2 * time.Second
	// Tests choose their topology; those testing discovery turn it on.
	c.Discovery.TargetPeers = 0
	c.Gossip.PeerExchange = false
	c.Discovery.Interval = 200 * time.Millisecond
	return c
}

// ListenAddrs returns the listen multiaddrs for ip and port: TCP, plus QUIC
// on the same port number over UDP when quic is set.
func ListenAddrs(ip string, port int, quic bool) []string {
	family := "ip4"
	if strings.Contains(ip, ":") {
		family = "ip6"
	}
	addrs := []string{fmt.Sprintf("/%s/%s/tcp/%d", family, ip, port)}
	if quic {
		addrs = append(addrs, fmt.Sprintf("/%s/%s/udp/%d/quic-v1", family, ip, port))
	}
	return addrs
}

// Validate checks the configuration. Every error wraps ErrInvalidConfig.
func (c Config) Validate() error {
	for _, a := range c.ListenAddrs {
		if _, err := ma.NewMultiaddr(a); err != nil {
			return fmt.Errorf("%w: listen addr %q: %w", ErrInvalidConfig, a, err)
		}
	}
	if _, err := c.bootnodes(); err != nil {
		return err
	}
	if err := checkName(c.NetworkName); err != nil {
		return fmt.Errorf("%w: network name %q: %w", ErrInvalidConfig, c.NetworkName, err)
	}
	if c.MDNS && c.MDNSServiceTag == "" {
		return fmt.Errorf("%w: mdns enabled without a service tag", ErrInvalidConfig)
	}
	if c.MaxPeers < 1 {
		return fmt.Errorf("%w: max peers %d < 1", ErrInvalidConfig, c.MaxPeers)
	}
	if c.Discovery.TargetPeers > c.MaxPeers {
		return fmt.Errorf("%w: discovery target peers %d > max peers %d", ErrInvalidConfig, c.Discovery.TargetPeers, c.MaxPeers)
	}
	durations := []struct {
		name string
		d    time.Duration
	}{
		{"bootnode backoff min", c.BootnodeBackoffMin},
		{"bootnode backoff max", c.BootnodeBackoffMax},
		{"dial timeout", c.DialTimeout},
		{"gossip heartbeat interval", c.Gossip.HeartbeatInterval},
		{"gossip seen ttl", c.Gossip.SeenTTL},
		{"ttfb timeout", c.ReqResp.TTFBTimeout},
		{"resp timeout", c.ReqResp.RespTimeout},
		{"handler timeout", c.ReqResp.HandlerTimeout},
	}
	for _, d := range durations {
		if d.d <= 0 {
			return fmt.Errorf("%w: %s %v must be positive", ErrInvalidConfig, d.name, d.d)
		}
	}
	if c.BootnodeBackoffMax < c.BootnodeBackoffMin {
		return fmt.Errorf("%w: bootnode backoff max %v < min %v", ErrInvalidConfig, c.BootnodeBackoffMax, c.BootnodeBackoffMin)
	}
	if err := c.Gossip.validate(); err != nil {
		return err
	}
	if err := c.Score.validate(); err != nil {
		return err
	}
	if err := c.Discovery.validate(); err != nil {
		return err
	}
	return c.ReqResp.validate()
}

func (d DiscoveryConfig) validate() error {
	if d.TargetPeers < 0 {
		return fmt.Errorf("%w: discovery target peers %d < 0", ErrInvalidConfig, d.TargetPeers)
	}
	if d.TargetPeers == 0 {
		return nil
	}
	if d.Interval <= 0 {
		return fmt.Errorf("%w: discovery interval %v must be positive", ErrInvalidConfig, d.Interval)
	}
	if d.DialsPerRound < 1 {
		return fmt.Errorf("%w: discovery dials per round %d < 1", ErrInvalidConfig, d.DialsPerRound)
	}
	return nil
}

func (g GossipConfig) validate() error {
	if g.Dlo < 1 || g.Dlo > g.D || g.D > g.Dhi {
		return fmt.Errorf("%w: gossip degrees need 1 <= Dlo (%d) <= D (%d) <= Dhi (%d)", ErrInvalidConfig, g.Dlo, g.D, g.Dhi)
	}
	if g.Dlazy < 0 {
		return fmt.Errorf("%w: gossip Dlazy %d < 0", ErrInvalidConfig, g.Dlazy)
	}
	sizes := []struct {
		name string
		n    int
	}{
		{"queue size", g.QueueSize},
		{"validation queue size", g.ValidationQueueSize},
		{"subscription buffer size", g.SubscriptionBufferSize},
		{"max compressed size", g.MaxCompressedSize},
		{"max decompressed size", g.MaxDecompressedSize},
	}
	for _, s := range sizes {
		if s.n < 1 {
			return fmt.Errorf("%w: gossip %s %d < 1", ErrInvalidConfig, s.name, s.n)
		}
	}
	if g.ValidatorTimeout < 0 {
		return fmt.Errorf("%w: gossip validator timeout %v < 0", ErrInvalidConfig, g.ValidatorTimeout)
	}
	return nil
}

func (s ScoreConfig) validate() error {
	if !s.Enabled {
		return nil
	}
	for _, v := range []float64{s.GossipThreshold, s.PublishThreshold, s.GraylistThreshold,
		s.AcceptPXThreshold, s.OpportunisticGraftThreshold, s.TopicScoreCap, s.TimeInMeshWeight,
		s.TimeInMeshCap, s.FirstDeliveryWeight, s.FirstDeliveryDecay, s.FirstDeliveryCap,
		s.InvalidMessageWeight, s.InvalidMessageDecay, s.BehaviourPenaltyWeight, s.BehaviourPenaltyDecay} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: score parameter %v is not a finite number", ErrInvalidConfig, v)
		}
	}
	if !(s.GraylistThreshold <= s.PublishThreshold && s.PublishThreshold <= s.GossipThreshold && s.GossipThreshold <= 0) {
		return fmt.Errorf("%w: score thresholds need graylist (%v) <= publish (%v) <= gossip (%v) <= 0",
			ErrInvalidConfig, s.GraylistThreshold, s.PublishThreshold, s.GossipThreshold)
	}
	if s.AcceptPXThreshold < 0 || s.OpportunisticGraftThreshold < 0 || s.TopicScoreCap < 0 {
		return fmt.Errorf("%w: accept-px threshold, opportunistic graft threshold and topic score cap must be >= 0", ErrInvalidConfig)
	}
	if s.TimeInMeshWeight < 0 || s.FirstDeliveryWeight < 0 {
		return fmt.Errorf("%w: time-in-mesh and first-delivery weights must be >= 0", ErrInvalidConfig)
	}
	if s.InvalidMessageWeight >= 0 {
		return fmt.Errorf("%w: invalid-message weight %v must be negative", ErrInvalidConfig, s.InvalidMessageWeight)
	}
	if s.BehaviourPenaltyWeight > 0 {
		return fmt.Errorf("%w: behaviour penalty weight %v must be <= 0", ErrInvalidConfig, s.BehaviourPenaltyWeight)
	}
	for _, d := range []float64{s.FirstDeliveryDecay, s.InvalidMessageDecay, s.BehaviourPenaltyDecay} {
		if d <= 0 || d >= 1 {
			return fmt.Errorf("%w: score decay %v must be in (0, 1)", ErrInvalidConfig, d)
		}
	}
	if s.TimeInMeshCap <= 0 || s.FirstDeliveryCap <= 0 {
		return fmt.Errorf("%w: time-in-mesh and first-delivery caps must be positive", ErrInvalidConfig)
	}
	if s.DecayInterval < time.Second {
		return fmt.Errorf("%w: score decay interval %v < 1s", ErrInvalidConfig, s.DecayInterval)
	}
	if s.InspectInterval <= 0 || s.BanDuration <= 0 || s.RetainScore < 0 {
		return fmt.Errorf("%w: score inspect interval and ban duration must be positive", ErrInvalidConfig)
	}
	return nil
}

func (r ReqRespConfig) validate() error {
	sizes := []struct {
		name string
		n    int
	}{
		{"max request size", r.MaxRequestSize},
		{"max chunk size", r.MaxChunkSize},
		{"max response chunks", r.MaxResponseChunks},
		{"max error message size", r.MaxErrorMessageSize},
		{"max concurrent inbound", r.MaxConcurrentInbound},
	}
	for _, s := range sizes {
		if s.n < 1 {
			return fmt.Errorf("%w: reqresp %s %d < 1", ErrInvalidConfig, s.name, s.n)
		}
	}
	return nil
}

// bootnodes parses Bootnodes into address infos, merging addresses of the
// same peer.
func (c Config) bootnodes() ([]peer.AddrInfo, error) {
	addrs := make([]ma.Multiaddr, 0, len(c.Bootnodes))
	for _, s := range c.Bootnodes {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("%w: bootnode %q: %w", ErrInvalidConfig, s, err)
		}
		if _, err := peer.AddrInfoFromP2pAddr(a); err != nil {
			return nil, fmt.Errorf("%w: bootnode %q needs a /p2p/<peer id> suffix: %w", ErrInvalidConfig, s, err)
		}
		addrs = append(addrs, a)
	}
	infos, err := peer.AddrInfosFromP2pAddrs(addrs...)
	if err != nil {
		return nil, fmt.Errorf("%w: bootnodes: %w", ErrInvalidConfig, err)
	}
	return infos, nil
}

// checkName accepts names made of letters, digits, '-', '_' and '.'.
func checkName(s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty", ErrInvalidName)
	}
	if len(s) > 128 {
		return fmt.Errorf("%w: longer than 128 bytes", ErrInvalidName)
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return fmt.Errorf("%w: character %q in %q", ErrInvalidName, r, s)
		}
	}
	return nil
}
