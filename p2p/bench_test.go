package p2p_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/p2p/p2ptest"
)

// BenchmarkGossipLatency publishes 1,000 messages (200 bytes, like an
// attestation) per iteration among 8 in-memory nodes (full mesh, no link
// latency), publishers taking turns, and reports the p50/p99/max delay
// from Publish to each of the other 7 handlers: as a burst, and paced at
// 500 messages/s.
func BenchmarkGossipLatency(b *testing.B) {
	for _, bc := range []struct {
		name string
		rate int // messages per second; 0 = burst
	}{{"burst", 0}, {"500_per_s", 500}} {
		b.Run(bc.name, func(b *testing.B) {
			const nodes, perIter, size = 8, 1000, 200
			net, _ := p2ptest.NewMockNet(b, nodes, p2ptest.Options{Topology: p2ptest.FullMesh})
			lat := make(chan time.Duration, nodes*perIter)
			for _, n := range net.Nodes {
				if err := n.Subscribe(p2p.BeaconAttestationTopic, nil, func(_ context.Context, _ peer.ID, data []byte) {
					sent := time.Unix(0, int64(binary.BigEndian.Uint64(data)))
					lat <- time.Since(sent)
				}); err != nil {
					b.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			if err := net.Subscribed(ctx, p2p.BeaconAttestationTopic); err != nil {
				b.Fatal(err)
			}
			var all []time.Duration
			var seq uint64
			for b.Loop() {
				var tick *time.Ticker
				if bc.rate > 0 {
					tick = time.NewTicker(time.Second / time.Duration(bc.rate))
				}
				for k := range perIter {
					if tick != nil {
						<-tick.C
					}
					seq++
					msg := make([]byte, size)
					binary.BigEndian.PutUint64(msg[8:], seq)
					binary.BigEndian.PutUint64(msg, uint64(time.Now().UnixNano()))
					if err := net.Nodes[k%nodes].Publish(ctx, p2p.BeaconAttestationTopic, msg); err != nil {
						b.Fatal(err)
					}
				}
				if tick != nil {
					tick.Stop()
				}
				for range perIter * (nodes - 1) {
					select {
					case d := <-lat:
						all = append(all, d)
					case <-time.After(10 * time.Second):
						b.Fatalf("only %d of %d deliveries", len(all), perIter*(nodes-1))
					}
				}
			}
			slices.Sort(all)
			pct := func(p float64) float64 {
				return float64(all[int(p*float64(len(all)-1))]) / float64(time.Millisecond)
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(pct(1), "max-ms")
			if testing.Verbose() {
				fmt.Printf("%s: %d deliveries, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", bc.name, len(all), pct(0.5), pct(0.99), pct(1))
			}
		})
	}
}
