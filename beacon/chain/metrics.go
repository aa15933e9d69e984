package chain

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardlab/shardlab/crypto/bls"
)

// metrics are the chain's Prometheus metrics (interop names where they exist).
type metrics struct {
	headSlot          prometheus.Gauge
	finalizedEpoch    prometheus.Gauge
	currentJustified  prometheus.Gauge
	previousJustified prometheus.Gauge
	activeValidators  prometheus.Gauge
	reorgs            prometheus.Counter
	importSeconds     prometheus.Histogram
	poolAttestations  prometheus.Gauge
}

// newMetrics registers the chain's metrics with reg, and counters that read
// the verification cache vc.
func newMetrics(reg prometheus.Registerer, vc *bls.VerifyCache) (*metrics, error) {
	m := &metrics{
		headSlot: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "beacon_head_slot", Help: "Slot of the head block of the beacon chain.",
		}),
		finalizedEpoch: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "beacon_finalized_epoch", Help: "Finalized epoch of the head state.",
		}),
		currentJustified: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "beacon_current_justified_epoch", Help: "Current justified epoch of the head state.",
		}),
		previousJustified: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "beacon_previous_justified_epoch", Help: "Previous justified epoch of the head state.",
		}),
		activeValidators: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "beacon_current_active_validators", Help: "Active validators in the current epoch of the head state.",
		}),
		reorgs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "beacon_reorgs_total", Help: "Head changes whose new head does not descend from the previous head.",
		}),
		importSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "beacon_block_import_seconds",
			Help:    "Time to import a block: fork choice (state transition, signatures) and persistence.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		poolAttestations: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "beacon_attestation_pool_size", Help: "Attestations in the pool for block inclusion.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	cacheHits := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "beacon_verify_cache_hits_total",
		Help: "BLS verifications answered by the verified-signature cache (shared caches count every user's).",
	}, func() float64 { return float64(vc.Stats().Hits) })
	cacheMisses := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "beacon_verify_cache_misses_total",
		Help: "BLS verifications the verified-signature cache could not answer.",
	}, func() float64 { return float64(vc.Stats().Misses) })
	for _, c := range []prometheus.Collector{m.headSlot, m.finalizedEpoch, m.currentJustified,
		m.previousJustified, m.activeValidators, m.reorgs, m.importSeconds, m.poolAttestations,
		cacheHits, cacheMisses} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("register chain metrics: %w (one chain per registry)", err)
			}
			return nil, fmt.Errorf("register chain metrics: %w", err)
		}
	}
	return m, nil
}
