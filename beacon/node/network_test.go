package node

import (
	"strings"
	"testing"
	"time"

	"github.com/shardlab/shardlab/p2p"
)

// TestNetworkName derives the gossip network name from the genesis state:
// the same state gives the same name, another state another name, and an
// explicit name is kept.
func TestNetworkName(t *testing.T) {
	t.Parallel()
	_, genesis, _ := testGenesis(t, 6*time.Second)
	name, err := NetworkName(genesis)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(name, "shardlab-") || len(name) != len("shardlab-")+8 {
		t.Fatalf("name %q", name)
	}
	other := genesis.Copy()
	other.GenesisTime++
	if o, err := NetworkName(other); err != nil || o == name {
		t.Fatalf("another genesis gives %q (%v), the same as %q", o, err, name)
	}
	pc, err := ResolveP2P(DefaultConfig().P2P, genesis)
	if err != nil || pc.NetworkName != name {
		t.Fatalf("resolved %q, %v; want %q", pc.NetworkName, err, name)
	}
	if err := pc.Validate(); err != nil {
		t.Fatal(err)
	}
	explicit := p2p.DefaultConfig()
	if pc, err := ResolveP2P(explicit, genesis); err != nil || pc.NetworkName != explicit.NetworkName {
		t.Fatalf("explicit name replaced: %q, %v", pc.NetworkName, err)
	}
	if _, err := NetworkName(nil); err == nil {
		t.Fatal("no genesis: no error")
	}
}
