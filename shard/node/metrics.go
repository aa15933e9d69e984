package node

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/sigcache"
	shardhandler "github.com/shardlab/shardlab/shard/handler"
)

// metrics are the shard node's own metrics (the beacon follower's and
// p2p's, gossip counters included, come from those packages).
type metrics struct {
	headSlot        *prometheus.GaugeVec
	receiptsSent    *prometheus.GaugeVec
	receiptsClaimed *prometheus.GaugeVec
	txPool          *prometheus.GaugeVec
	claimPool       *prometheus.GaugeVec
	blocks          *prometheus.CounterVec
	rejected        *prometheus.CounterVec
	fraudSeen       prometheus.Gauge
	fraudBuilt      prometheus.Counter
	claimsRelayed   prometheus.Counter
	claimsRejected  *prometheus.CounterVec
}

// newMetrics registers the node's metrics with reg, with counters that read
// the transaction-signature cache txCache (shared by the node's shards).
func newMetrics(reg prometheus.Registerer, txCache *sigcache.Cache) (*metrics, error) {
	shard := []string{"shard"}
	m := &metrics{
		headSlot: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shard_head_slot", Help: "Slot of the shard's fork-choice head.",
		}, shard),
		receiptsSent: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shard_receipts_sent", Help: "Receipts sent by the shard's canonical chain (sum of its outbox nonces).",
		}, shard),
		receiptsClaimed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shard_receipts_claimed", Help: "Receipts of the shard known to be claimed on their destination.",
		}, shard),
		txPool: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shard_tx_pool_size", Help: "Transactions waiting in the shard's pool.",
		}, shard),
		claimPool: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shard_claim_pool_size", Help: "Receipt claims waiting in the shard's pool.",
		}, shard),
		blocks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shard_blocks_total", Help: "Shard blocks by outcome: proposed, imported, invalid, failed (production).",
		}, []string{"shard", "result"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shard_gossip_rejected_total", Help: "Shard gossip messages rejected, by kind (block, message).",
		}, []string{"shard", "kind"}),
		fraudSeen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "shard_fraud_proofs_seen", Help: "Distinct shard fraud proofs seen (built here or included in beacon blocks).",
		}),
		fraudBuilt: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shard_fraud_proofs_built_total", Help: "Shard fraud proofs built by this node's fisherman.",
		}),
		claimsRelayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shard_claims_relayed_total", Help: "Receipt claims published by this node's relayer.",
		}),
		claimsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shard_claims_rejected_total",
			Help: "Gossip receipt claims refused, by reason: wrong shard, invalid proof, already claimed, refused by the pool.",
		}, []string{"shard", "reason"}),
	}
	if reg == nil {
		return m, nil
	}
	cacheHits := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "shard_tx_verify_cache_hits_total",
		Help: "Transaction signature checks answered by the verified-signature cache (shared caches count every user's).",
	}, func() float64 { return float64(txCache.Stats().Hits) })
	cacheMisses := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "shard_tx_verify_cache_misses_total",
		Help: "Transaction signature checks the verified-signature cache could not answer.",
	}, func() float64 { return float64(txCache.Stats().Misses) })
	for _, c := range []prometheus.Collector{m.headSlot, m.receiptsSent, m.receiptsClaimed, m.txPool, m.claimPool,
		m.blocks, m.rejected, m.fraudSeen, m.fraudBuilt, m.claimsRelayed, m.claimsRejected, cacheHits, cacheMisses} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func shardLabel(s bt.Shard) string { return strconv.FormatUint(uint64(s), 10) }

func (m *metrics) gossipRejected(s bt.Shard, kind string) {
	m.rejected.WithLabelValues(shardLabel(s), kind).Inc()
}

func (m *metrics) claimRejected(s bt.Shard, reason string) {
	m.claimsRejected.WithLabelValues(shardLabel(s), reason).Inc()
}

// initClaimsRejected makes the rejected claims series of shards exist at
// 0, so that a scrape tells "none rejected" from "not counted".
func (m *metrics) initClaimsRejected(shards []bt.Shard) {
	for _, s := range shards {
		for _, r := range []string{shardhandler.ClaimWrongShard, shardhandler.ClaimInvalidProof, shardhandler.ClaimAlreadyClaimed, shardhandler.ClaimRefusedByPool} {
			m.claimsRejected.WithLabelValues(shardLabel(s), r)
		}
	}
}

// updateMetrics refreshes the gauges.
func (n *Node) updateMetrics() {
	for _, s := range n.shards {
		st := n.chains[s].Stats()
		l := shardLabel(s)
		n.m.headSlot.WithLabelValues(l).Set(float64(st.HeadSlot))
		n.m.receiptsSent.WithLabelValues(l).Set(float64(st.ReceiptsSent))
		n.m.receiptsClaimed.WithLabelValues(l).Set(float64(st.ReceiptsClaimed))
		n.m.txPool.WithLabelValues(l).Set(float64(st.PoolTxs))
		n.m.claimPool.WithLabelValues(l).Set(float64(st.PoolClaims))
	}
	n.m.fraudSeen.Set(float64(n.h.ProofsSeen()))
}
