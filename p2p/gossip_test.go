package p2p_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/p2p/p2ptest"
)

func TestGossipReachesAll(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		topology p2ptest.Topology
	}{
		{"full_mesh", p2ptest.FullMesh},
		{"line", p2ptest.Line}, // 7 hops: every message must be forwarded
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const nodes, perPublisher = 8, 10
			net, _ := p2ptest.NewMockNet(t, nodes, p2ptest.Options{Topology: tc.topology})
			ch := make(chan delivery, 4*nodes*perPublisher)
			for i, n := range net.Nodes {
				if err := n.Subscribe(p2p.BeaconBlockTopic, nil, collector(i, ch)); err != nil {
					t.Fatal(err)
				}
			}
			ctx := testContext(t)
			if err := net.Subscribed(ctx, p2p.BeaconBlockTopic); err != nil {
				t.Fatal(err)
			}
			publishers := []int{0, nodes - 1}
			for _, p := range publishers {
				for k := range perPublisher {
					if err := net.Nodes[p].Publish(ctx, p2p.BeaconBlockTopic, msg("block %d from %d", k, p)); err != nil {
						t.Fatal(err)
					}
				}
			}
			// Everyone gets every message exactly once, except its own.
			want := len(publishers) * perPublisher * (nodes - 1)
			seen := map[string]int{}
			for range want {
				select {
				case d := <-ch:
					var k, from int
					if _, err := fmt.Sscanf(d.data, "block %d from %d", &k, &from); err != nil {
						t.Fatalf("unexpected payload %q", d.data)
					}
					if from == d.node {
						t.Fatalf("node %d got its own message %q", d.node, d.data)
					}
					key := fmt.Sprintf("%d:%s", d.node, d.data)
					seen[key]++
					if seen[key] > 1 {
						t.Fatalf("duplicate delivery %s", key)
					}
				case <-ctx.Done():
					t.Fatalf("got %d of %d deliveries", len(seen), want)
				}
			}
		})
	}
}

func TestGossipRejectStopsPropagation(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	net, _ := p2ptest.NewMockNet(t, 4, p2ptest.Options{Topology: p2ptest.Line, Registerer: reg})
	ch := make(chan delivery, 64)
	rejectBad := func(_ context.Context, _ peer.ID, data []byte) p2p.ValidationResult {
		if bytes.HasPrefix(data, []byte("bad")) {
			return p2p.Reject
		}
		return p2p.Accept
	}
	for i, n := range net.Nodes {
		var v p2p.Validator
		if i == 1 {
			v = rejectBad // only node 1 knows the message is invalid
		}
		if err := n.Subscribe(p2p.BeaconAttestationTopic, v, collector(i, ch)); err != nil {
			t.Fatal(err)
		}
	}
	ctx := testContext(t)
	if err := net.Subscribed(ctx, p2p.BeaconAttestationTopic); err != nil {
		t.Fatal(err)
	}
	n0, n1, n2 := net.Nodes[0], net.Nodes[1], net.Nodes[2]
	if err := n0.Publish(ctx, p2p.BeaconAttestationTopic, []byte("bad attestation")); err != nil {
		t.Fatal(err)
	}
	if err := n0.Publish(ctx, p2p.BeaconAttestationTopic, []byte("good attestation")); err != nil {
		t.Fatal(err)
	}
	// Node 3 is reachable only through node 1: when the good message
	// arrives there, the bad one must have been dropped at node 1.
	got := map[int][]string{}
	for !slices.Contains(got[3], "good attestation") {
		select {
		case d := <-ch:
			got[d.node] = append(got[d.node], d.data)
		case <-ctx.Done():
			t.Fatalf("good message did not reach node 3: %v", got)
		}
	}
	for i := 1; i < 4; i++ {
		if slices.Contains(got[i], "bad attestation") {
			t.Fatalf("node %d handled the rejected message", i)
		}
	}
	waitFor(ctx, t, "negative score of the sender at node 1", func() bool {
		s, ok := n1.PeerScore(n0.ID())
		return ok && s < 0
	})
	if s, ok := n2.PeerScore(n1.ID()); ok && s < 0 {
		t.Fatalf("node 2 penalized node 1 (score %v) which forwarded only valid messages", s)
	}
	if v := metricValue(t, reg, "p2p_gossip_rejected_total", "node", "1", "topic", p2p.BeaconAttestationTopic); v != 1 {
		t.Fatalf("node 1 rejected counter = %v, want 1", v)
	}
	if v := metricValue(t, reg, "p2p_gossip_published_total", "node", "0", "topic", p2p.BeaconAttestationTopic); v != 2 {
		t.Fatalf("node 0 published counter = %v, want 2", v)
	}
	if v := metricValue(t, reg, "p2p_gossip_received_total", "node", "1", "topic", p2p.BeaconAttestationTopic); v != 2 {
		t.Fatalf("node 1 received counter = %v, want 2", v)
	}
	if v := metricValue(t, reg, "libp2p_peers", "node", "1"); v != 2 {
		t.Fatalf("node 1 libp2p_peers = %v, want 2", v)
	}
}

func TestGossipGarbageFloodIsGraylisted(t *testing.T) {
	t.Parallel()
	net, _ := p2ptest.NewMockNet(t, 4, p2ptest.Options{Topology: p2ptest.FullMesh})
	ch := make(chan delivery, 64)
	for i, n := range net.Nodes {
		if err := n.Subscribe(p2p.VoluntaryExitTopic, nil, collector(i, ch)); err != nil {
			t.Fatal(err)
		}
	}
	ctx := testContext(t)
	if err := net.Subscribed(ctx, p2p.VoluntaryExitTopic); err != nil {
		t.Fatal(err)
	}
	attacker := net.Nodes[0]
	for i := range 40 {
		// Not snappy: an invalid stream identifier / varint header.
		garbage := []byte{0xff, 0xff, 0xff, 0xff, 0xff, byte(i)}
		if err := p2p.PublishRaw(ctx, attacker, p2p.VoluntaryExitTopic, garbage); err != nil {
			t.Fatal(err)
		}
	}
	graylist := p2p.TestConfig().Score.GraylistThreshold
	for i, n := range net.Nodes[1:] {
		waitFor(ctx, t, fmt.Sprintf("node %d to graylist the attacker", i+1), func() bool {
			s, ok := n.PeerScore(attacker.ID())
			return ok && s < graylist
		})
	}
	waitFor(ctx, t, "the attacker to be disconnected by everyone", func() bool {
		return len(attacker.Peers()) == 0
	})
	for i, n := range net.Nodes[1:] {
		if !n.Banned(attacker.ID()) {
			t.Fatalf("node %d did not ban the attacker", i+1)
		}
		if err := n.Connect(ctx, attacker.AddrInfo()); !errors.Is(err, p2p.ErrPeerBanned) {
			t.Fatalf("node %d dialed the banned attacker: %v", i+1, err)
		}
	}
	select {
	case d := <-ch:
		t.Fatalf("garbage delivered to node %d: %q", d.node, d.data)
	default:
	}
	// Honest nodes still gossip among themselves and did not hurt each
	// other's scores.
	if err := net.Nodes[1].Publish(ctx, p2p.VoluntaryExitTopic, []byte("exit")); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case d := <-ch:
			if d.data != "exit" || d.node == 0 || d.node == 1 {
				t.Fatalf("unexpected delivery %+v", d)
			}
		case <-ctx.Done():
			t.Fatal("honest gossip after the attack did not arrive")
		}
	}
	for i, n := range net.Nodes[1:] {
		for j, m := range net.Nodes[1:] {
			if s, ok := n.PeerScore(m.ID()); i != j && ok && s < 0 {
				t.Fatalf("node %d scores honest node %d at %v", i+1, j+1, s)
			}
		}
	}
}

func TestGossipIgnoreDoesNotPenalize(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	net, _ := p2ptest.NewMockNet(t, 3, p2ptest.Options{Topology: p2ptest.Line, Registerer: reg})
	ch := make(chan delivery, 64)
	var ignored atomic.Int32
	ignoreSome := func(_ context.Context, _ peer.ID, data []byte) p2p.ValidationResult {
		if bytes.HasPrefix(data, []byte("unknown parent")) {
			ignored.Add(1)
			return p2p.Ignore
		}
		return p2p.Accept
	}
	for i, n := range net.Nodes {
		var v p2p.Validator
		if i == 1 {
			v = ignoreSome
		}
		if err := n.Subscribe(p2p.BeaconBlockTopic, v, collector(i, ch)); err != nil {
			t.Fatal(err)
		}
	}
	ctx := testContext(t)
	if err := net.Subscribed(ctx, p2p.BeaconBlockTopic); err != nil {
		t.Fatal(err)
	}
	n0, n1 := net.Nodes[0], net.Nodes[1]
	const count = 30
	for i := range count {
		if err := n0.Publish(ctx, p2p.BeaconBlockTopic, msg("unknown parent %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := n0.Publish(ctx, p2p.BeaconBlockTopic, []byte("block")); err != nil {
		t.Fatal(err)
	}
	for {
		var d delivery
		select {
		case d = <-ch:
		case <-ctx.Done():
			t.Fatal("the valid message did not reach node 2")
		}
		if strings.HasPrefix(d.data, "unknown parent") && d.node != 0 {
			t.Fatalf("node %d handled an ignored message", d.node)
		}
		if d.node == 2 && d.data == "block" {
			break
		}
	}
	waitFor(ctx, t, "all ignored messages to be validated", func() bool { return ignored.Load() == count })
	// Look at two fresh score samples taken after the last Ignore.
	samples := p2p.ScoreSamples(n1)
	waitFor(ctx, t, "fresh score samples", func() bool { return p2p.ScoreSamples(n1) >= samples+2 })
	if s, ok := n1.PeerScore(n0.ID()); !ok || s < 0 {
		t.Fatalf("node 1 scores node 0 at %v (sampled %v) after only ignored messages", s, ok)
	}
	if v := metricValue(t, reg, "p2p_gossip_ignored_total", "node", "1", "topic", p2p.BeaconBlockTopic); v != count {
		t.Fatalf("ignored counter = %v, want %d", v, count)
	}
	if v := metricValue(t, reg, "p2p_gossip_rejected_total", "node", "1"); v != 0 {
		t.Fatalf("rejected counter = %v, want 0", v)
	}
}

func TestGossipAPIErrors(t *testing.T) {
	t.Parallel()
	net, _ := p2ptest.NewMockNet(t, 1, p2ptest.Options{})
	n := net.Nodes[0]
	ctx := testContext(t)
	nop := func(context.Context, peer.ID, []byte) {}
	topic := p2p.ShardBlockTopic(3)
	if topic != "shard_3_block" || p2p.ShardTxTopic(12) != "shard_12_tx" {
		t.Fatalf("shard topic names: %s %s", topic, p2p.ShardTxTopic(12))
	}
	if got := p2p.TopicName("devnet", topic); got != "/shardlab/devnet/shard_3_block/ssz_snappy" {
		t.Fatalf("topic name %s", got)
	}
	if err := n.Subscribe(topic, nil, nop); err != nil {
		t.Fatal(err)
	}
	if err := n.Subscribe(topic, nil, nop); !errors.Is(err, p2p.ErrAlreadySubscribed) {
		t.Fatalf("second subscribe: %v", err)
	}
	if err := n.Unsubscribe(topic); err != nil {
		t.Fatal(err)
	}
	if err := n.Unsubscribe(topic); !errors.Is(err, p2p.ErrNotSubscribed) {
		t.Fatalf("second unsubscribe: %v", err)
	}
	if err := n.Subscribe(topic, nil, nop); err != nil {
		t.Fatalf("subscribe again: %v", err)
	}
	if err := n.Subscribe("a/b", nil, nop); !errors.Is(err, p2p.ErrInvalidName) {
		t.Fatalf("bad name: %v", err)
	}
	if err := n.Subscribe(p2p.ShardTxTopic(1), nil, nil); !errors.Is(err, p2p.ErrInvalidArgument) {
		t.Fatalf("nil handler: %v", err)
	}
	maxDec := p2p.TestConfig().Gossip.MaxDecompressedSize
	if err := n.Publish(ctx, topic, make([]byte, maxDec+1)); !errors.Is(err, p2p.ErrMessageTooLarge) {
		t.Fatalf("oversized publish: %v", err)
	}
	if err := n.Publish(ctx, p2p.ShardTxTopic(9), []byte("no subscriber needed")); err != nil {
		t.Fatalf("publish without subscription: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.Publish(ctx, topic, []byte("x")); !errors.Is(err, p2p.ErrClosed) {
		t.Fatalf("publish after close: %v", err)
	}
}
