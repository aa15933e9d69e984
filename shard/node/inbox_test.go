package node

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	bnode "github.com/shardlab/shardlab/beacon/node"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/p2p/p2ptest"
	"github.com/shardlab/shardlab/shard/chain"
	shardcore "github.com/shardlab/shardlab/shard/core"
	shardhandler "github.com/shardlab/shardlab/shard/handler"
)

// serveInbox runs the inbox handler of n on req.
func serveInbox(n *Node, req []byte) ([][]byte, error) {
	return n.h.OnRequest("", ShardInboxByCrosslinkProtocol, req)
}

// TestInboxProofWire has one node serving shards 0 and 1 claim three
// receipts of shard 0 on shard 1, then checks the inbox answer about shard
// 1's current crosslink, in process and over the network: it verifies and
// proves inbox_nonces[0] = 3; tampered nonces, header, header roots, branch
// and a wrong crosslink fail; an empty crosslink gets no chunk; garbage
// requests get CodeInvalidRequest.
func TestInboxProofWire(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		g, genesis := testGenesis(t, 6*time.Second)
		cfg := g.cfg
		net, _ := p2ptest.NewMockNet(t, 3, p2ptest.Options{})
		all := bnode.ValidatorRange{Start: 0, Count: testValidators}
		b0 := start(t, beaconNode(t, g, genesis, net.Nodes[0], all, "b0"))
		sn := shardNode(t, g, genesis, net.Nodes[1], []bt.Shard{0, 1}, all, "", "s")
		s := start(t, sn)
		asker := net.Nodes[2]
		connectAll(t, net, 0, 1, 2)
		src, _ := sn.Chain(0)
		dst, _ := sn.Chain(1)
		waitSlots(t, cfg, 10, "slot 2", func() bool { return src.Head().Header.Slot >= 2 })
		for i := range uint64(3) {
			if err := src.AddTransaction(g.transfer(0, i+1, 0, 1, 5, 100)); err != nil {
				t.Fatal(err)
			}
		}
		var cl bt.Crosslink
		waitSlots(t, cfg, 10*int(cfg.SlotsPerEpoch), "shard 1 crosslinked with the claims", func() bool {
			cl = sn.bchain.HeadState().CurrentCrosslinks[1]
			p, err := dst.InboxProof(cl)
			return err == nil && p.InboxNonces[0] == 3
		})
		req, _ := (&ShardInboxRequest{Shard: 1, Crosslink: cl}).MarshalSSZ()
		chunks, err := serveInbox(sn, req)
		if err != nil || len(chunks) != 1 {
			t.Fatalf("inbox answer: %d chunks, %v", len(chunks), err)
		}
		nonces, err := shardhandler.DecodeInbox(cfg, cl, chunks[0])
		if err != nil || len(nonces) != int(cfg.ShardCount) || nonces[0] != 3 {
			t.Fatalf("verified inbox %v, %v", nonces, err)
		}

		// Tampered answers.
		var good ShardInboxResponse
		if err := bt.Decode(&good, chunks[0]); err != nil {
			t.Fatal(err)
		}
		other := cl // a crosslink the node never saw
		other.EndEpoch++
		prev := sn.bchain.HeadState().PreviousCrosslinks[1]
		if prev.DataRoot == cl.DataRoot {
			t.Fatal("shard 1's previous crosslink has the current one's data root")
		}
		tamper := []struct {
			name string
			fn   func(r *ShardInboxResponse)
			c    bt.Crosslink
		}{
			{"nonce raised", func(r *ShardInboxResponse) { r.InboxNonces[0] = 4 }, cl},
			{"nonce of another shard", func(r *ShardInboxResponse) { r.InboxNonces[7]++ }, cl},
			{"nonces cut", func(r *ShardInboxResponse) { r.InboxNonces = r.InboxNonces[:1] }, cl},
			{"header state root", func(r *ShardInboxResponse) { r.Header.StateRoot[3] ^= 1 }, cl},
			{"header proposer", func(r *ShardInboxResponse) { r.Header.ProposerIndex++ }, cl},
			{"wrong roots", func(r *ShardInboxResponse) { r.HeaderRoots[0][0] ^= 1 }, cl},
			{"roots of a shorter list", func(r *ShardInboxResponse) { r.HeaderRoots = r.HeaderRoots[len(r.HeaderRoots)-1:] }, cl},
			{"branch", func(r *ShardInboxResponse) { r.InboxBranch[0][0] ^= 1 }, cl},
			{"branch cut", func(r *ShardInboxResponse) { r.InboxBranch = r.InboxBranch[:2] }, cl},
			{"wrong crosslink", func(*ShardInboxResponse) {}, prev},
			{"crosslink of another shard", func(*ShardInboxResponse) {}, sn.bchain.HeadState().CurrentCrosslinks[0]},
		}
		for _, tc := range tamper {
			var r ShardInboxResponse
			if err := bt.Decode(&r, chunks[0]); err != nil {
				t.Fatal(err)
			}
			tc.fn(&r)
			buf, err := r.MarshalSSZ()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := shardhandler.DecodeInbox(cfg, tc.c, buf); !errors.Is(err, chain.ErrInvalidInboxProof) {
				t.Errorf("%s: %v", tc.name, err)
			}
		}
		if _, err := shardhandler.DecodeInbox(cfg, cl, chunks[0][:len(chunks[0])-1]); !errors.Is(err, chain.ErrInvalidInboxProof) {
			t.Errorf("truncated answer: %v", err)
		}

		// Requests the node cannot or will not answer.
		empty, _ := shardcore.CrosslinkDataRoot(cfg, nil)
		emptyLink := bt.Crosslink{Shard: 1, ParentRoot: cl.TreeRoot(), StartEpoch: cl.EndEpoch, EndEpoch: cl.EndEpoch, DataRoot: empty}
		for name, r := range map[string]*ShardInboxRequest{
			"empty crosslink":   {Shard: 1, Crosslink: emptyLink},
			"unknown crosslink": {Shard: 1, Crosslink: other},
		} {
			buf, _ := r.MarshalSSZ()
			if chunks, err := serveInbox(sn, buf); err != nil || len(chunks) != 0 {
				t.Errorf("%s: %d chunks, %v", name, len(chunks), err)
			}
		}
		unserved, _ := (&ShardInboxRequest{Shard: 2, Crosslink: bt.Crosslink{Shard: 2}}).MarshalSSZ()
		if _, err := serveInbox(sn, unserved); !isCode(err, p2p.CodeResourceUnavailable) {
			t.Errorf("unserved shard: %v", err)
		}

		// Over the network: the good request, and garbage.
		got, err := asker.Request(t.Context(), sn.P2P().ID(), ShardInboxByCrosslinkProtocol, req, 1)
		if err != nil || len(got) != 1 || !bytes.Equal(got[0], chunks[0]) {
			t.Fatalf("inbox over the network: %d chunks, %v", len(got), err)
		}
		for _, bad := range [][]byte{
			[]byte("garbage"),
			append(slices.Clone(req), 0),
			mismatched(t, cl),
			outOfRange(t, cfg.ShardCount),
		} {
			_, err := asker.Request(t.Context(), sn.P2P().ID(), ShardInboxByCrosslinkProtocol, bad, 1)
			if !isCode(err, p2p.CodeInvalidRequest) {
				t.Errorf("request %x: %v, want invalid request", bad, err)
			}
		}
		s.stop(t)
		b0.stop(t)
	})
}

func isCode(err error, code p2p.ResponseCode) bool {
	var re *p2p.ResponseError
	return errors.As(err, &re) && re.Code == code
}

// mismatched is a request whose shard is not its crosslink's.
func mismatched(t testing.TB, c bt.Crosslink) []byte {
	t.Helper()
	buf, err := (&ShardInboxRequest{Shard: uint64(c.Shard) + 1, Crosslink: c}).MarshalSSZ()
	if err != nil {
		t.Fatal(err)
	}
	return buf
}

// outOfRange is a request about a shard past SHARD_COUNT.
func outOfRange(t testing.TB, count uint64) []byte {
	t.Helper()
	buf, err := (&ShardInboxRequest{Shard: count, Crosslink: bt.Crosslink{Shard: bt.Shard(count)}}).MarshalSSZ()
	if err != nil {
		t.Fatal(err)
	}
	return buf
}

// TestRelayToUnservedShard runs two shard nodes, A serving shard 0 and B
// serving shard 1, with two beacon nodes. Receipts from shard 0 to shard 1
// are relayed by A while A and B are not connected (their claims cannot
// reach shard 1): A keeps publishing them well past four attempts. Once
// connected, shard 1 claims them all, and A learns it from B through the
// inbox protocol: its chain 0 counts as claimed exactly what shard 1's
// state at its current crosslink in A's beacon head state has claimed.
func TestRelayToUnservedShard(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		g, genesis := testGenesis(t, 6*time.Second)
		cfg := g.cfg
		net, _ := p2ptest.NewMockNet(t, 4, p2ptest.Options{})
		b0 := start(t, beaconNode(t, g, genesis, net.Nodes[0], bnode.ValidatorRange{Start: 0, Count: 32}, "b0"))
		b1 := start(t, beaconNode(t, g, genesis, net.Nodes[1], bnode.ValidatorRange{Start: 32, Count: 32}, "b1"))
		all := bnode.ValidatorRange{Start: 0, Count: testValidators}
		mk := func(i int, shard bt.Shard, name string) *Node {
			c := TestConfig()
			c.Transition, c.Genesis, c.Network, c.Shards, c.Validators = g.tr, genesis, net.Nodes[i], []bt.Shard{shard}, all
			c.Relay.ResendSlots = 2
			n, err := New(c, testLogger(name))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		an, bn := mk(2, 0, "a"), mk(3, 1, "b")
		a, b := start(t, an), start(t, bn)
		for _, pair := range [][2]int{{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}} {
			if err := net.Connect(pair[0], pair[1]); err != nil {
				t.Fatal(err)
			}
		}
		src, _ := an.Chain(0)
		dst, _ := bn.Chain(1)
		waitSlots(t, cfg, 10, "slot 2", func() bool { return src.Head().Header.Slot >= 2 })
		const sends = 3
		for i := range uint64(sends) {
			if err := src.AddTransaction(g.transfer(0, i+1, 0, 1, 9, 50)); err != nil {
				t.Fatal(err)
			}
		}
		attempts := func() int { return an.h.RelayAttempts(0, 1, 0) }
		waitSlots(t, cfg, 12*int(cfg.SlotsPerEpoch), "the first claim sent six times", func() bool { return attempts() >= 6 })
		if slices.Contains(an.P2P().Peers(), bn.P2P().ID()) {
			t.Fatal("A and B are connected")
		}
		if dst.Inbox(0) != 0 {
			t.Fatalf("shard 1 claimed %d receipts without a path from the relayer", dst.Inbox(0))
		}
		if _, claimed, _ := src.Receipts(nil, 0); claimed != 0 {
			t.Fatalf("%d receipts counted as claimed", claimed)
		}

		// p2ptest's Connect waits for A to show up as a subscriber of every
		// topic both joined, which A, publishing claims on shard 1's
		// topic without subscribing, never is: connect the hosts directly.
		if _, err := net.Mock.ConnectPeers(an.P2P().ID(), bn.P2P().ID()); err != nil {
			t.Fatal(err)
		}
		var proven uint64
		waitSlots(t, cfg, 6*int(cfg.SlotsPerEpoch), "the claims included and learned by A", func() bool {
			if dst.Inbox(0) != sends {
				return false
			}
			p, err := dst.InboxProof(an.bchain.HeadState().CurrentCrosslinks[1])
			if err != nil {
				return false
			}
			proven = p.InboxNonces[0]
			sent, claimed, _ := src.Receipts(nil, 0)
			return sent == sends && claimed == proven && proven == sends
		})
		if got := src.DestinationInbox(1); got != proven {
			t.Fatalf("A knows shard 1's inbox as %d, proven %d", got, proven)
		}
		for _, r := range []*running{a, b, b0, b1} {
			r.stop(t)
		}
	})
}

// FuzzShardInboxRequest: the handler never panics, answers every request
// that does not decode (or names no shard or another shard than its
// crosslink's) with CodeInvalidRequest, and what decodes re-encodes to the
// input.
func FuzzShardInboxRequest(f *testing.F) {
	seed, _ := (&ShardInboxRequest{Shard: 1, Crosslink: bt.Crosslink{Shard: 1, EndEpoch: 2, DataRoot: bt.Root{3}}}).MarshalSSZ()
	f.Add(seed)
	f.Add([]byte("garbage"))
	f.Add(append(slices.Clone(seed), 0))
	g, genesis := testGenesis(f, 6*time.Second)
	net, _ := p2ptest.NewMockNet(f, 1, p2ptest.Options{})
	n := shardNode(f, g, genesis, net.Nodes[0], []bt.Shard{1}, bnode.ValidatorRange{}, "", "n")
	f.Cleanup(func() { _ = n.Close() })
	f.Fuzz(func(t *testing.T, data []byte) {
		var r ShardInboxRequest
		decodeErr := bt.Decode(&r, data)
		chunks, err := serveInbox(n, data)
		if decodeErr != nil || r.Shard >= g.cfg.ShardCount || uint64(r.Crosslink.Shard) != r.Shard {
			if !isCode(err, p2p.CodeInvalidRequest) || len(chunks) != 0 {
				t.Fatalf("request %x: %v, %d chunks; want invalid request", data, err, len(chunks))
			}
			return
		}
		if isCode(err, p2p.CodeInvalidRequest) {
			t.Fatalf("valid request %x refused", data)
		}
		out, err := r.MarshalSSZ()
		if err != nil || !bytes.Equal(out, data) {
			t.Fatalf("re-encoded %x (%v), input %x", out, err, data)
		}
	})
}

// FuzzShardInboxResponse: decoding and checking an answer never panics,
// and what decodes re-encodes to the input.
func FuzzShardInboxResponse(f *testing.F) {
	g, _ := testGenesis(f, 0)
	resp := &ShardInboxResponse{HeaderRoots: []bt.Root{{1}}, InboxNonces: make([]uint64, g.cfg.ShardCount), InboxBranch: make([]bt.Root, 3)}
	seed, _ := resp.MarshalSSZ()
	f.Add(seed)
	f.Add([]byte{})
	cl := bt.Crosslink{Shard: 1, EndEpoch: 1, DataRoot: bt.Root{9}}
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := shardhandler.DecodeInbox(g.cfg, cl, data); err == nil {
			t.Fatal("an answer proved a made-up data root")
		}
		var r ShardInboxResponse
		if err := bt.Decode(&r, data); err != nil {
			return
		}
		out, err := r.MarshalSSZ()
		if err != nil || !bytes.Equal(out, data) {
			t.Fatalf("re-encoded %x (%v), input %x", out, err, data)
		}
	})
}
