package node

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	bnode "github.com/shardlab/shardlab/beacon/node"
	"github.com/shardlab/shardlab/p2p/p2ptest"
)

// TestMetricsOnAPI: /metrics on the API serves the node's registry, for a
// shard node following the beacon chain (whose beacon metrics carry the
// role label) and for one running beacon validators.
func TestMetricsOnAPI(t *testing.T) {
	g, genesis := testGenesis(t, 0)
	net, _ := p2ptest.NewMockNet(t, 2, p2ptest.Options{})
	for i, tc := range []struct {
		name string
		vals bnode.ValidatorRange
	}{
		{"follower", bnode.ValidatorRange{}},
		{"validating", bnode.ValidatorRange{Start: 0, Count: 8}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := TestConfig()
			cfg.Transition, cfg.Genesis, cfg.Network, cfg.Shards = g.tr, genesis, net.Nodes[i], shardRange(0, 1)
			cfg.BeaconValidators = tc.vals
			cfg.Registerer = prometheus.NewRegistry()
			n, err := New(cfg, testLogger(tc.name))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = n.Close() })
			rec := httptest.NewRecorder()
			n.HTTPHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "shard_") {
				t.Fatalf("GET /metrics: %d\n%.300s", rec.Code, rec.Body.String())
			}
		})
	}
}
