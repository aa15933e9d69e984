package node

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/p2p/p2ptest"
)

// TestRemoteCrosslinkData has a node serve crosslink data roots for shards
// 1 and 3 and another ask for them through its default source.
func TestRemoteCrosslinkData(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tr, genesis, _ := testGenesis(t, 6*time.Second)
		net, _ := p2ptest.NewMockNet(t, 2, p2ptest.Options{})
		served := types.Root{0xcc}
		server := serverNode(t, tr, genesis, net.Nodes[0], func(_ context.Context, c types.Crosslink) (types.Root, error) {
			if c.StartEpoch == 7 {
				return types.Root{}, errors.New("unknown range")
			}
			return served, nil
		}, 1, 3)
		client := testNode(t, tr, genesis, net.Nodes[1], ValidatorRange{}, "", "client")
		defer client.Close()
		ctx := context.Background()
		remote := RemoteCrosslinkData{n: client}

		// Before any status exchange nobody is known to serve.
		if _, err := remote.DataRoot(ctx, types.Crosslink{Shard: 1}); !errors.Is(err, ErrNoCrosslinkData) {
			t.Fatalf("no server: %v, want ErrNoCrosslinkData", err)
		}
		connectAll(t, net, 0, 1)
		st := awaitStatus(t, client, server.PeerID())
		if len(st.Shards) != 2 || types.Root(st.GenesisRoot) != client.Chain().GenesisRoot() {
			t.Fatalf("server status %+v", st)
		}
		if got, err := remote.DataRoot(ctx, types.Crosslink{Shard: 3, StartEpoch: 1, EndEpoch: 2}); err != nil || got != served {
			t.Fatalf("served shard: %s, %v", got, err)
		}
		if _, err := remote.DataRoot(ctx, types.Crosslink{Shard: 2}); !errors.Is(err, ErrNoCrosslinkData) {
			t.Fatalf("unserved shard: %v", err)
		}
		if _, err := remote.DataRoot(ctx, types.Crosslink{Shard: 1, StartEpoch: 7, EndEpoch: 8}); !errors.Is(err, ErrNoCrosslinkData) {
			t.Fatalf("unknown range: %v", err)
		}
	})
}

// serverNode builds a node on net serving crosslink data roots of shards
// from src; it is closed when the test ends.
func serverNode(t *testing.T, tr *core.Transition, genesis *types.BeaconState, net *p2p.Node, src CrosslinkDataFunc, shards ...uint64) *Node {
	t.Helper()
	cfg := TestConfig()
	cfg.Transition, cfg.Genesis, cfg.Network = tr, genesis, net
	cfg.ServeCrosslinkData, cfg.ServedShards = src, shards
	server, err := New(cfg, testLogger(t, "server"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = server.Close() })
	return server
}

// awaitStatus has n exchange statuses with p (as on a new connection) and
// waits (in the synctest bubble's time) for p's status.
func awaitStatus(t *testing.T, n *Node, p peer.ID) Status {
	t.Helper()
	n.do(func() { n.h.OnPeerConnected(p) })
	for range 100 {
		if st, ok := n.PeerStatus(p); ok {
			return st
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no status from %s", p)
	return Status{}
}

func TestParseValidatorRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want ValidatorRange
		ok   bool
	}{
		{"", ValidatorRange{}, true},
		{"0-63", ValidatorRange{Start: 0, Count: 64}, true},
		{"16-31", ValidatorRange{Start: 16, Count: 16}, true},
		{"5", ValidatorRange{Start: 5, Count: 1}, true},
		{"9-3", ValidatorRange{}, false},
		{"a-b", ValidatorRange{}, false},
		{"1-", ValidatorRange{}, false},
	}
	for _, tc := range tests {
		got, err := ParseValidatorRange(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseValidatorRange(%q) = %+v, %v", tc.in, got, err)
		}
		if tc.ok && tc.in != "" && got.String() != tc.in && !(tc.in == "5" && got.String() == "5-5") {
			t.Errorf("String() = %q, want %q", got.String(), tc.in)
		}
	}
}

// TestNodeOnHost builds a node on a caller's libp2p host (the simulator's
// way): the node runs its own p2p node on it and leaves the host open.
func TestNodeOnHost(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tr, genesis, _ := testGenesis(t, 6*time.Second)
		mn := mocknet.New()
		defer mn.Close()
		h, err := mn.GenPeer()
		if err != nil {
			t.Fatal(err)
		}
		cfg := TestConfig()
		cfg.Transition, cfg.Genesis, cfg.Host = tr, genesis, h
		n, err := New(cfg, testLogger(t, "host"))
		if err != nil {
			t.Fatal(err)
		}
		if n.PeerID() != h.ID() {
			t.Fatalf("peer id %s, host %s", n.PeerID(), h.ID())
		}
		r := start(t, n)
		time.Sleep(2 * time.Duration(tr.Config().SecondsPerSlot) * time.Second)
		if !n.Ready() {
			t.Fatal("running node not ready")
		}
		r.stop(t)
		if n.Ready() {
			t.Fatal("stopped node still ready")
		}
		if len(h.Network().ListenAddresses()) == 0 {
			t.Fatal("the host was closed with the node")
		}
	})
}

// TestRemoteCrosslinkDataMajority has three peers serve shard 2, one of
// them with a wrong root that it answers at once while the honest two take
// 100 ms: the client takes the majority's root, not the first answer.
func TestRemoteCrosslinkDataMajority(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tr, genesis, _ := testGenesis(t, 6*time.Second)
		net, _ := p2ptest.NewMockNet(t, 4, p2ptest.Options{})
		honest, liar := types.Root{0xaa}, types.Root{0xbb}
		for i, root := range []types.Root{liar, honest, honest} {
			serverNode(t, tr, genesis, net.Nodes[i], func(context.Context, types.Crosslink) (types.Root, error) {
				if root == honest {
					time.Sleep(100 * time.Millisecond)
				}
				return root, nil
			}, 2)
		}
		client := testNode(t, tr, genesis, net.Nodes[3], ValidatorRange{}, "", "client")
		defer client.Close()
		connectAll(t, net, 0, 1, 2, 3)
		ctx := context.Background()
		for i := range 3 {
			awaitStatus(t, client, net.Nodes[i].ID())
		}
		got, err := NewRemoteCrosslinkData(client).DataRoot(ctx, types.Crosslink{Shard: 2, StartEpoch: 1, EndEpoch: 2})
		if err != nil || got != honest {
			t.Fatalf("data root %s, %v; want the majority's %s", got, err, honest)
		}
	})
}

// TestPeerStatusWhileServing reads the node's peer statuses while its
// handler serves a crosslink data root from a source that waits for a lock
// the reader holds (as the shard node's syncMu): the read must not wait for
// the handler.
func TestPeerStatusWhileServing(t *testing.T) {
	t.Parallel()
	tr, genesis, _ := testGenesis(t, 6*time.Second)
	net, _ := p2ptest.NewMockNet(t, 2, p2ptest.Options{})
	var mu sync.Mutex
	entered := make(chan struct{}, 1)
	server := serverNode(t, tr, genesis, net.Nodes[0], func(context.Context, types.Crosslink) (types.Root, error) {
		entered <- struct{}{}
		mu.Lock()
		defer mu.Unlock()
		return types.Root{1}, nil
	}, 1)
	client := testNode(t, tr, genesis, net.Nodes[1], ValidatorRange{}, "", "client")
	defer client.Close()
	connectAll(t, net, 0, 1)
	awaitStatus(t, client, server.PeerID())

	mu.Lock()
	answered := make(chan error, 1)
	go func() {
		_, err := NewRemoteCrosslinkData(client).DataRoot(context.Background(), types.Crosslink{Shard: 1, StartEpoch: 0, EndEpoch: 1})
		answered <- err
	}()
	<-entered // the server's handler is serving, waiting for mu
	read := make(chan bool, 1)
	go func() {
		_, ok := server.PeerStatus(client.PeerID())
		read <- ok
	}()
	select {
	case ok := <-read:
		if !ok {
			t.Error("the server has no status of the client")
		}
	case <-time.After(5 * time.Second):
		t.Error("PeerStatus waits for the handler")
	}
	mu.Unlock()
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
}
