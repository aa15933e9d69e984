package p2p_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/p2p/p2ptest"
)

// The tests in this file run in a synctest bubble: the mock network, gossip
// and timers all use the bubble's fake clock, so deadlines are exact and
// minutes pass instantly. time.Sleep here advances the fake clock once every
// goroutine of the bubble is blocked; it does not wait.

func TestRequestTimeouts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const ttfb, resp = 500 * time.Millisecond, 300 * time.Millisecond
		net, _ := p2ptest.NewMockNet(t, 2, p2ptest.Options{
			Topology: p2ptest.FullMesh,
			ConfigFn: func(_ int, cfg *p2p.Config) {
				cfg.ReqResp.TTFBTimeout = ttfb
				cfg.ReqResp.RespTimeout = resp
				cfg.ReqResp.HandlerTimeout = time.Hour
			},
		})
		client, server := net.Nodes[0], net.Nodes[1]
		// Never answers: waits for its context (HandlerTimeout or close).
		if err := server.Handle(p2p.StatusProtocol, func(ctx context.Context, _ peer.ID, _ []byte, _ p2p.ResponseWriter) error {
			<-ctx.Done()
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		// Answers one chunk, then stalls.
		if err := server.Handle(p2p.BeaconBlocksByRangeProtocol, func(ctx context.Context, _ peer.ID, _ []byte, w p2p.ResponseWriter) error {
			if err := w.WriteChunk([]byte("first")); err != nil {
				return err
			}
			<-ctx.Done()
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()

		start := time.Now()
		_, err := client.Request(ctx, server.ID(), p2p.StatusProtocol, []byte("hi"), 1)
		if !errors.Is(err, p2p.ErrTimeout) {
			t.Fatalf("silent handler: got %v, want ErrTimeout", err)
		}
		if d := time.Since(start); d != ttfb {
			t.Fatalf("silent handler: returned after %v, want the TTFB timeout %v", d, ttfb)
		}

		start = time.Now()
		chunks, err := client.Request(ctx, server.ID(), p2p.BeaconBlocksByRangeProtocol, []byte("hi"), 5)
		if !errors.Is(err, p2p.ErrTimeout) || len(chunks) != 1 || string(chunks[0]) != "first" {
			t.Fatalf("stalled stream: %q, %v; want one chunk and ErrTimeout", chunks, err)
		}
		if d := time.Since(start); d != resp {
			t.Fatalf("stalled stream: returned after %v, want the response timeout %v", d, resp)
		}

		// The caller's context wins over longer deadlines.
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		start = time.Now()
		if _, err := client.Request(short, server.ID(), p2p.StatusProtocol, []byte("hi"), 1); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("caller deadline: got %v", err)
		}
		if d := time.Since(start); d != 50*time.Millisecond {
			t.Fatalf("caller deadline: returned after %v", d)
		}
	})
}

// TestGraylistedPeerRecovers follows a flooding peer through the whole score
// life cycle: graylisted and banned within a second, refused while banned,
// and accepted again, with a clean score, once the ban and the retained
// score record have expired.
func TestGraylistedPeerRecovers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net, _ := p2ptest.NewMockNet(t, 3, p2ptest.Options{Topology: p2ptest.FullMesh})
		for i, n := range net.Nodes {
			if err := n.Subscribe(p2p.ProposerSlashingTopic, nil, collector(i, make(chan delivery, 16))); err != nil {
				t.Fatal(err)
			}
		}
		ctx := context.Background()
		if err := net.Subscribed(ctx, p2p.ProposerSlashingTopic); err != nil {
			t.Fatal(err)
		}
		attacker, victim := net.Nodes[0], net.Nodes[1]
		// 20 invalid messages: 12 put the score just past the graylist
		// threshold, so one message penalised late made the check flaky.
		for i := range 20 {
			if err := p2p.PublishRaw(ctx, attacker, p2p.ProposerSlashingTopic, []byte{0xff, 0xff, 0xff, 0xff, 0xff, byte(i)}); err != nil {
				t.Fatal(err)
			}
		}
		cfg := p2p.TestConfig().Score
		time.Sleep(time.Second)
		if s, ok := victim.PeerScore(attacker.ID()); !ok || s >= cfg.GraylistThreshold {
			t.Fatalf("attacker's score %v (sampled %v), want below %v", s, ok, cfg.GraylistThreshold)
		}
		if !victim.Banned(attacker.ID()) || len(attacker.Peers()) != 0 {
			t.Fatalf("attacker not banned and disconnected (banned %v, attacker peers %d)", victim.Banned(attacker.ID()), len(attacker.Peers()))
		}
		if err := victim.Connect(ctx, attacker.AddrInfo()); !errors.Is(err, p2p.ErrPeerBanned) {
			t.Fatalf("dial while banned: %v", err)
		}

		// Past the ban, whose default outlasts the retained score record.
		time.Sleep(cfg.BanDuration)
		if victim.Banned(attacker.ID()) {
			t.Fatal("ban did not expire")
		}
		if err := victim.Connect(ctx, attacker.AddrInfo()); err != nil {
			t.Fatalf("dial after the ban: %v", err)
		}
		time.Sleep(10 * cfg.InspectInterval)
		if s, _ := victim.PeerScore(attacker.ID()); s < 0 || victim.Banned(attacker.ID()) {
			t.Fatalf("returning peer has score %v (banned %v), want a fresh start", s, victim.Banned(attacker.ID()))
		}
		if len(attacker.Peers()) == 0 {
			t.Fatal("returning peer was disconnected again")
		}
	})
}
