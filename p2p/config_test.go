package p2p_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/shardlab/shardlab/p2p"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	def := p2p.DefaultConfig()
	if err := def.Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	if err := p2p.TestConfig().Validate(); err != nil {
		t.Fatalf("test config: %v", err)
	}
	wantAddrs := []string{"/ip4/0.0.0.0/tcp/9000", "/ip4/0.0.0.0/udp/9000/quic-v1"}
	if len(def.ListenAddrs) != 2 || def.ListenAddrs[0] != wantAddrs[0] || def.ListenAddrs[1] != wantAddrs[1] {
		t.Fatalf("default listen addrs %v, want %v", def.ListenAddrs, wantAddrs)
	}
	if def.Gossip.QueueSize != 4096 {
		t.Fatalf("default queue size %d", def.Gossip.QueueSize)
	}
	if got := p2p.ListenAddrs("::1", 13000, false); len(got) != 1 || got[0] != "/ip6/::1/tcp/13000" {
		t.Fatalf("ipv6 listen addrs %v", got)
	}

	tests := []struct {
		name string
		mod  func(c *p2p.Config)
	}{
		{"bad listen addr", func(c *p2p.Config) { c.ListenAddrs = []string{"tcp://0.0.0.0:9000"} }},
		{"bootnode without peer id", func(c *p2p.Config) { c.Bootnodes = []string{"/ip4/127.0.0.1/tcp/9000"} }},
		{"bootnode garbage", func(c *p2p.Config) { c.Bootnodes = []string{"enode://x"} }},
		{"empty network name", func(c *p2p.Config) { c.NetworkName = "" }},
		{"network name with slash", func(c *p2p.Config) { c.NetworkName = "a/b" }},
		{"mdns without tag", func(c *p2p.Config) { c.MDNS, c.MDNSServiceTag = true, "" }},
		{"no peers", func(c *p2p.Config) { c.MaxPeers = 0 }},
		{"zero ttfb", func(c *p2p.Config) { c.ReqResp.TTFBTimeout = 0 }},
		{"backoff max < min", func(c *p2p.Config) { c.BootnodeBackoffMax = c.BootnodeBackoffMin / 2 }},
		{"Dlo > D", func(c *p2p.Config) { c.Gossip.Dlo = c.Gossip.D + 1 }},
		{"D > Dhi", func(c *p2p.Config) { c.Gossip.Dhi = c.Gossip.D - 1 }},
		{"zero queue", func(c *p2p.Config) { c.Gossip.QueueSize = 0 }},
		{"zero max message", func(c *p2p.Config) { c.Gossip.MaxCompressedSize = 0 }},
		{"thresholds out of order", func(c *p2p.Config) { c.Score.GraylistThreshold = c.Score.GossipThreshold + 1 }},
		{"positive gossip threshold", func(c *p2p.Config) { c.Score.GossipThreshold = 1 }},
		{"non-negative invalid weight", func(c *p2p.Config) { c.Score.InvalidMessageWeight = 0 }},
		{"decay of one", func(c *p2p.Config) { c.Score.InvalidMessageDecay = 1 }},
		{"fast decay interval", func(c *p2p.Config) { c.Score.DecayInterval = 100_000_000 }},
		{"zero chunks", func(c *p2p.Config) { c.ReqResp.MaxResponseChunks = 0 }},
		{"negative target peers", func(c *p2p.Config) { c.Discovery.TargetPeers = -1 }},
		{"target peers > max peers", func(c *p2p.Config) { c.Discovery.TargetPeers = c.MaxPeers + 1 }},
		{"zero discovery interval", func(c *p2p.Config) { c.Discovery.Interval = 0 }},
		{"no dials per round", func(c *p2p.Config) { c.Discovery.DialsPerRound = 0 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := p2p.DefaultConfig()
			tc.mod(&c)
			if err := c.Validate(); !errors.Is(err, p2p.ErrInvalidConfig) {
				t.Fatalf("got %v, want ErrInvalidConfig", err)
			}
			if _, err := p2p.New(context.Background(), c, nil, nil); !errors.Is(err, p2p.ErrInvalidConfig) {
				t.Fatalf("New accepted an invalid config: %v", err)
			}
		})
	}
	// Scoring off skips the score checks and still works.
	c := p2p.TestConfig()
	c.Score = p2p.ScoreConfig{}
	n, err := p2p.New(context.Background(), c, nil, nil)
	if err != nil {
		t.Fatalf("scoring off: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestKeyFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "keys", "p2p.key")
	k, created, err := p2p.LoadOrGenerateKey(path)
	if err != nil || !created {
		t.Fatalf("generate: %v (created %v)", err, created)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi.Mode(), err)
	}
	k2, created, err := p2p.LoadOrGenerateKey(path)
	if err != nil || created || !k.Equals(k2) {
		t.Fatalf("reload: %v (created %v, equal %v)", err, created, k.Equals(k2))
	}
	if err := os.WriteFile(path, []byte("not hex"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := p2p.LoadKey(path); err == nil {
		t.Fatal("loaded a corrupt key file")
	}

	// A node started twice from the same key file keeps its peer ID.
	cfg := p2p.TestConfig()
	cfg.KeyFile = filepath.Join(t.TempDir(), "node.key")
	var ids []string
	for range 2 {
		n, err := p2p.New(context.Background(), cfg, slog.New(slog.DiscardHandler), nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, n.ID().String())
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if ids[0] != ids[1] {
		t.Fatalf("peer ID changed across restarts: %v", ids)
	}
}

func TestNodeLifecycle(t *testing.T) {
	t.Parallel()
	n, err := p2p.New(context.Background(), p2p.TestConfig(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); !errors.Is(err, p2p.ErrAlreadyStarted) {
		t.Fatalf("second start: %v", err)
	}
	if len(n.FullAddrs()) == 0 || len(n.Addrs()) == 0 {
		t.Fatal("no addresses")
	}
	for _, a := range n.FullAddrs() {
		if _, err := a.ValueForProtocol(ma.P_P2P); err != nil {
			t.Fatalf("full addr %s has no /p2p/", a)
		}
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if err := n.Start(); !errors.Is(err, p2p.ErrClosed) {
		t.Fatalf("start after close: %v", err)
	}
}
