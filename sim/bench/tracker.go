package bench

import (
	"strings"
	"sync"
	"time"

	"github.com/shardlab/shardlab/beacon/params"
	st "github.com/shardlab/shardlab/shard/types"
)

// Outcomes of a submission.
const (
	txPending  uint8 = iota // offered, no answer yet
	txAccepted              // the node pooled it (202)
	txRejected              // the node refused it (400, 503)
	txFailed                // no answer (connection error, timeout, 5xx)
)

// never marks a stage not reached.
const never = -1

// txRecord follows one offered transaction; times are nanoseconds since
// the tracker's start (never when not reached).
type txRecord struct {
	acct    acctKey
	nonce   uint64
	gen     uint32
	toShard uint64
	to      uint64
	amount  uint64
	state   uint8
	reason  string

	slot                                               uint64 // of the including block
	offered, included, crosslinked, finalized, claimed int64
	// linkedAt is the beacon slot in which the crosslink covering the
	// including block was first seen, claimSlot the slot of the claiming
	// block (cross-shard; 0 until then).
	linkedAt, claimSlot uint64
}

func (r *txRecord) cross() bool { return r.toShard != r.acct.shard }

// nonceKey identifies a transaction in a block.
type nonceKey struct {
	acct  acctKey
	nonce uint64
}

// receiptKey identifies the receipt an included cross-shard transfer left
// (the receipt's own nonce is the source block's business).
type receiptKey struct {
	src, dst, sender, recipient, amount, slot uint64
}

// finalWait is a crosslinked transaction waiting for the beacon block
// that crosslinked it to be finalized: it is once the finalized
// checkpoint's slot passes the beacon slot at which the crosslink was
// first seen.
type finalWait struct {
	rec        *txRecord
	beaconSlot uint64
}

// tracker holds every offered transaction and moves it through the
// stages as the observer reports blocks, crosslinks, finality and claims.
type tracker struct {
	start time.Time
	// chain is the slot time and epoch length the claim stages are
	// measured in (setChain; zero: no claim stages).
	chain stageClock

	mu         sync.Mutex
	all        []*txRecord
	byNonce    map[nonceKey]*txRecord
	byReceipt  map[receiptKey][]*txRecord
	unlinked   map[uint64][]*txRecord // per shard: included, not crosslinked
	unfinal    []finalWait
	rejections map[string]uint64
	timeline   []Sample
	slots      map[uint64]*slotStats // beacon slot -> the shard blocks read for it
}

// slotStats count, over the shards, the slots read with a block, without
// one, and with a full block (MAX_SHARD_TRANSACTIONS).
type slotStats struct{ blocks, empty, full int }

func newTracker(start time.Time) *tracker {
	return &tracker{start: start, byNonce: make(map[nonceKey]*txRecord), byReceipt: make(map[receiptKey][]*txRecord),
		unlinked: make(map[uint64][]*txRecord), rejections: make(map[string]uint64), slots: make(map[uint64]*slotStats)}
}

// setChain sets the slot time, epoch length and challenge window (epochs)
// of the chain, for the claim stages; the tracker's start is slot 1's
// start.
func (t *tracker) setChain(slot time.Duration, slotsPerEpoch, window uint64) {
	t.chain = stageClock{slot: slot, spe: slotsPerEpoch, window: window}
}

// at converts a wall time to tracker time.
func (t *tracker) at(now time.Time) int64 { return int64(now.Sub(t.start)) }

// bucket returns the timeline sample of tracker time ns (under t.mu).
func (t *tracker) bucket(ns int64) *Sample {
	i := int(ns / int64(time.Second))
	if i < 0 {
		i = 0
	}
	for len(t.timeline) <= i {
		t.timeline = append(t.timeline, Sample{T: float64(len(t.timeline))})
	}
	return &t.timeline[i]
}

// offer records a transaction taken for submission at now, at the offered
// rate rate.
func (t *tracker) offer(g *genTx, now time.Time, rate float64) *txRecord {
	ns := t.at(now)
	r := &txRecord{acct: acctKey{uint64(g.tx.Shard), g.tx.From}, nonce: g.tx.Nonce, gen: g.gen, toShard: uint64(g.tx.ToShard),
		to: g.tx.To, amount: uint64(g.tx.Amount), offered: ns, included: never, crosslinked: never, finalized: never, claimed: never}
	t.mu.Lock()
	t.all = append(t.all, r)
	t.byNonce[nonceKey{r.acct, r.nonce}] = r
	b := t.bucket(ns)
	b.Offered++
	b.Rate = rate
	t.mu.Unlock()
	return r
}

// result records the node's answer to a submission at now.
func (t *tracker) result(r *txRecord, now time.Time, state uint8, reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r.state = state
	switch state {
	case txAccepted:
		t.bucket(t.at(now)).Accepted++
	default:
		r.reason = classify(reason)
		t.rejections[r.reason]++
	}
}

// classify turns a node's rejection message into a short reason.
func classify(msg string) string {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "pool full"):
		return "pool full"
	case strings.Contains(m, "bad signature"):
		return "bad signature"
	case strings.Contains(m, "next nonce"):
		return "nonce gap (an earlier nonce was refused)"
	case strings.Contains(m, "another transaction has that nonce"), strings.Contains(m, "is at nonce"), strings.Contains(m, "expects"):
		return "stale nonce"
	case strings.Contains(m, "balance"):
		return "balance"
	case strings.Contains(m, "not served"):
		return "shard not served"
	case strings.Contains(m, "timeout"), strings.Contains(m, "deadline exceeded"):
		return "timeout"
	case strings.Contains(m, "connection refused"), strings.Contains(m, "connection reset"), strings.Contains(m, "eof"):
		return "connection error"
	}
	if len(msg) > 60 {
		msg = msg[:60] + "..."
	}
	return msg
}

// block records a canonical block of shard seen at now: its transactions
// are included, its claims claim the receipts of earlier transfers.
func (t *tracker) block(shard, slot uint64, b *st.ShardBlock, now time.Time) {
	ns := t.at(now)
	t.mu.Lock()
	defer t.mu.Unlock()
	ss := t.slot(slot)
	ss.blocks++
	if len(b.Body.Transactions) >= params.MaxShardTransactions {
		ss.full++
	}
	n := 0
	for _, tx := range b.Body.Transactions {
		r := t.byNonce[nonceKey{acctKey{shard, tx.From}, tx.Nonce}]
		if r == nil || r.included != never || r.to != tx.To || r.amount != uint64(tx.Amount) || r.toShard != uint64(tx.ToShard) {
			continue
		}
		r.included, r.slot = ns, slot
		n++
		t.unlinked[shard] = append(t.unlinked[shard], r)
		if r.cross() {
			k := receiptKey{src: shard, dst: r.toShard, sender: r.acct.index, recipient: r.to, amount: r.amount, slot: slot}
			t.byReceipt[k] = append(t.byReceipt[k], r)
		}
	}
	t.bucket(ns).Included += float64(n)
	for _, c := range b.Body.Claims {
		rc := c.Receipt
		k := receiptKey{src: uint64(rc.SrcShard), dst: uint64(rc.DstShard), sender: rc.Sender, recipient: rc.Recipient,
			amount: uint64(rc.Amount), slot: uint64(rc.SrcSlot)}
		rs := t.byReceipt[k]
		if len(rs) == 0 {
			continue
		}
		rs[0].claimed, rs[0].claimSlot = ns, slot
		if len(rs) == 1 {
			delete(t.byReceipt, k)
		} else {
			t.byReceipt[k] = rs[1:]
		}
	}
}

// slot returns the counts of a slot (under t.mu).
func (t *tracker) slot(slot uint64) *slotStats {
	ss := t.slots[slot]
	if ss == nil {
		ss = &slotStats{}
		t.slots[slot] = ss
	}
	return ss
}

// emptySlot records that a shard has no canonical block at slot.
func (t *tracker) emptySlot(slot uint64) {
	t.mu.Lock()
	t.slot(slot).empty++
	t.mu.Unlock()
}

// slotTotals sums the counts of the slots in [from, to].
func (t *tracker) slotTotals(from, to uint64) slotStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out slotStats
	for s, ss := range t.slots {
		if s >= from && s <= to {
			out.blocks += ss.blocks
			out.empty += ss.empty
			out.full += ss.full
		}
	}
	return out
}

// crosslink records that shard's current crosslink covers its blocks up to
// headerSlot, seen at now during beacon slot beaconSlot.
func (t *tracker) crosslink(shard, headerSlot, beaconSlot uint64, now time.Time) {
	ns := t.at(now)
	t.mu.Lock()
	defer t.mu.Unlock()
	rest := t.unlinked[shard][:0]
	for _, r := range t.unlinked[shard] {
		if r.slot <= headerSlot {
			r.crosslinked, r.linkedAt = ns, beaconSlot
			t.unfinal = append(t.unfinal, finalWait{rec: r, beaconSlot: beaconSlot})
		} else {
			rest = append(rest, r)
		}
	}
	t.unlinked[shard] = rest
}

// finalized records the finalized checkpoint's start slot seen at now.
func (t *tracker) finalized(slot uint64, now time.Time) {
	ns := t.at(now)
	t.mu.Lock()
	defer t.mu.Unlock()
	rest := t.unfinal[:0]
	for _, w := range t.unfinal {
		if w.beaconSlot < slot {
			w.rec.finalized = ns
		} else {
			rest = append(rest, w)
		}
	}
	t.unfinal = rest
}

// snapshot returns copies of the records, the rejection counts and the
// timeline.
func (t *tracker) snapshot() ([]txRecord, map[string]uint64, []Sample) {
	t.mu.Lock()
	defer t.mu.Unlock()
	recs := make([]txRecord, len(t.all))
	for i, r := range t.all {
		recs[i] = *r
	}
	rej := make(map[string]uint64, len(t.rejections))
	for k, v := range t.rejections {
		rej[k] = v
	}
	return recs, rej, append([]Sample(nil), t.timeline...)
}
