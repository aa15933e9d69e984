package netsim

import (
	"crypto/sha256"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/shard/chain"
	shardcore "github.com/shardlab/shardlab/shard/core"
	shardhandler "github.com/shardlab/shardlab/shard/handler"
	st "github.com/shardlab/shardlab/shard/types"
)

// Byzantine behaviour on the shard layer: fraudulent shard blocks,
// crosslink votes for a wrong data root, fishermen switched off. Every
// action builds its messages with the production code (shard/core's block
// builder, beacon/validator's attestation data and signatures) and changes
// only what makes it an offence; the honest handlers answer as they would
// on a real network.

// ShardFraudKind is how a fraudulent shard block breaks the rules.
type ShardFraudKind int

// The kinds of fraudulent shard blocks.
const (
	// FraudStateRoot commits to a wrong post-state root.
	FraudStateRoot ShardFraudKind = iota
	// FraudOverdraft carries a transfer of more than the sender holds
	// (minting, were it executed).
	FraudOverdraft
	// FraudReceiptsRoot commits to a wrong receipts root.
	FraudReceiptsRoot
	// FraudEarlyClaim includes the claim of a receipt whose crosslink is
	// current but not yet past the challenge window (its window proof made
	// against the head instead of the window state).
	FraudEarlyClaim
	// Withheld is a valid block whose proposer gossips nothing: only its
	// header reaches the beacon chain, through complicit crosslink votes
	// (WrongDataRootVotes); its body stays unavailable.
	Withheld
)

// String is the kind's scenario name.
func (k ShardFraudKind) String() string {
	switch k {
	case FraudOverdraft:
		return "overdraft"
	case FraudReceiptsRoot:
		return "receipts_root"
	case Withheld:
		return "withheld"
	case FraudEarlyClaim:
		return "early_claim"
	}
	return "state_root"
}

// ParseShardFraudKind reads a kind's scenario name.
func ParseShardFraudKind(s string) (ShardFraudKind, error) {
	for _, k := range []ShardFraudKind{FraudStateRoot, FraudOverdraft, FraudReceiptsRoot, FraudEarlyClaim, Withheld} {
		if k.String() == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("%w: fraud kind %q, expected state_root, overdraft, receipts_root, early_claim or withheld", ErrByzantine, s)
}

// ShardFraud is a fraudulent shard block the simulation published (or,
// Withheld, built and kept).
type ShardFraud struct {
	Kind     ShardFraudKind
	Shard    types.Shard
	Slot     types.Slot
	Root     types.Root
	Proposer types.ValidatorIndex
	// Receipts counts the receipts the block sends.
	Receipts int
	block    *st.ShardBlock
}

// shardByzantine is the Sim's shard-layer byzantine state.
type shardByzantine struct {
	frauds    []ShardFraud
	complicit []types.ValidatorIndex // wrong data root voters, in vote order
	wrong     []types.Root           // the wrong data roots voted
	fishOff   map[int]bool           // shard nodes whose fisherman is off
	censored  map[types.Shard]bool   // shards whose proposers leave claims out
	claims    claimStats
	garbage   garbageStats
	initial   uint64 // the shards' genesis balance total (0: not yet read)
}

// ShardFrauds returns the fraudulent shard blocks published so far.
func (s *Sim) ShardFrauds() []ShardFraud { return slices.Clone(s.byz.frauds) }

// ComplicitVoters returns the validators that voted a wrong crosslink
// data root (WrongDataRootVotes), ascending.
func (s *Sim) ComplicitVoters() []types.ValidatorIndex {
	out := slices.Clone(s.byz.complicit)
	slices.Sort(out)
	return slices.Compact(out)
}

// WrongDataRoots returns the wrong crosslink data roots voted so far.
func (s *Sim) WrongDataRoots() []types.Root { return slices.Clone(s.byz.wrong) }

// SetFisherman turns the fisherman of shard node i (an index among all
// nodes) on or off: off, the node still refuses invalid shard blocks but
// builds no fraud proof. It stays so across restarts.
func (s *Sim) SetFisherman(i int, on bool) error {
	if i < 0 || i >= len(s.nodes) || !s.isShardNode(i) {
		return fmt.Errorf("fisherman of node %d: %w: not a shard node", i, ErrByzantine)
	}
	if s.byz.fishOff == nil {
		s.byz.fishOff = make(map[int]bool)
	}
	s.byz.fishOff[i] = !on
	return nil
}

// CensorClaims makes the proposers of shard leave every receipt claim out
// of their blocks (on) or include them again (off).
func (s *Sim) CensorClaims(shard types.Shard, on bool) error {
	if uint64(shard) >= s.pcfg.ShardCount {
		return fmt.Errorf("censor claims: %w: shard %d of %d", ErrByzantine, shard, s.pcfg.ShardCount)
	}
	if s.byz.censored == nil {
		s.byz.censored = make(map[types.Shard]bool)
	}
	s.byz.censored[shard] = on
	return nil
}

// fishermanOff reports whether node i's fisherman is off.
func (s *Sim) fishermanOff(i int) bool { return s.byz.fishOff[i] }

// PublishFraudulentShardBlock has the scheduled proposer of shard publish,
// at the start of the next slot to run, a block of that slot breaking the
// rules as kind says. The block is built by shard/core on the head of the
// first shard node serving the shard, with one valid cross-shard transfer
// (so that it sends a receipt), then made fraudulent and signed; it is
// gossiped from another node, so that the serving node's handler judges it
// as any gossip block. A Withheld block is built and signed but gossiped to
// nobody. Call it before the slot runs.
func (s *Sim) PublishFraudulentShardBlock(shard types.Shard, kind ShardFraudKind) error {
	slot := s.nextSlot
	if slot == 0 {
		return fmt.Errorf("fraudulent shard block: %w: no beacon block to reference at slot 0", ErrByzantine)
	}
	if uint64(shard) >= s.pcfg.ShardCount {
		return fmt.Errorf("fraudulent shard block: %w: shard %d of %d", ErrByzantine, shard, s.pcfg.ShardCount)
	}
	n := s.firstServing(shard)
	if n == nil {
		return fmt.Errorf("fraudulent shard block: %w: no shard node serves shard %d", ErrByzantine, shard)
	}
	from := 0
	if from == n.index {
		from = 1 % len(s.nodes)
	}
	s.At(time.Duration(slot)*s.slot, func() {
		if err := s.publishFraud(n, from, shard, slot, kind); err != nil {
			n.log.Warn("fraudulent shard block failed", "shard", uint64(shard), "slot", slot, "err", err)
		}
	})
	return nil
}

// publishFraud builds, breaks, signs and gossips the fraudulent block.
func (s *Sim) publishFraud(n *node, from int, shard types.Shard, slot types.Slot, kind ShardFraudKind) error {
	ch := n.shard.chains[shard]
	beaconRoot, _ := n.chain.Head()
	beacon, ok := n.chain.StateAt(beaconRoot)
	if !ok {
		return fmt.Errorf("no beacon head state")
	}
	domain := s.shardTxDomain()
	parent := ch.Head()
	pre := ch.HeadState()
	dst := types.Shard((uint64(shard) + 1) % s.pcfg.ShardCount)
	send := s.signedTx(pre, 0, dst, 1_000, domain)
	built, err := shardcore.BuildBlock(s.tr, shardcore.BlockContext{Parent: &parent.Header, BeaconRoot: beaconRoot, Beacon: beacon},
		pre, slot, []*st.Transaction{send}, nil, nil, shardcore.ExecOptions{TxDomain: domain})
	if err != nil {
		return err
	}
	b := built.Block
	switch kind {
	case FraudStateRoot:
		b.StateRoot = fraudRoot("state root", slot)
	case FraudReceiptsRoot:
		b.ReceiptsRoot = fraudRoot("receipts root", slot)
	case FraudEarlyClaim:
		claim, err := shardhandler.EarlyClaim(s.pcfg, n.shard.h.WindowState(beaconRoot, beacon), beacon, pre, s.sourceChain)
		if err != nil {
			return err
		}
		b.Body.Claims = append(b.Body.Claims, claim)
	case FraudOverdraft:
		over := s.signedTx(pre, 1, dst, 0, domain)
		over.Amount = pre.Accounts[1].Balance + 1_000_000_000
		shardcore.SignTx(domain, over, shardcore.AccountKey(shard, 1))
		b.Body.Transactions = append(b.Body.Transactions, over)
	}
	keys, err := s.shardKeys()
	if err != nil {
		return err
	}
	sk, ok := keys.SecretKey(uint64(b.ProposerIndex))
	if !ok {
		return fmt.Errorf("no key for proposer %d", b.ProposerIndex)
	}
	if err := shardcore.SignBlock(s.tr, b, sk); err != nil {
		return err
	}
	root, err := b.SigningRoot()
	if err != nil {
		return err
	}
	data, err := b.MarshalSSZ()
	if err != nil {
		return err
	}
	s.byz.frauds = append(s.byz.frauds, ShardFraud{Kind: kind, Shard: shard, Slot: slot, Root: root,
		Proposer: b.ProposerIndex, Receipts: len(built.Receipts), block: b})
	if kind == Withheld {
		n.log.Info("withholding shard block", "shard", uint64(shard), "slot", slot, "root", root, "validator", uint64(b.ProposerIndex))
		return nil
	}
	n.log.Info("publishing fraudulent shard block", "shard", uint64(shard), "slot", slot, "root", root,
		"validator", uint64(b.ProposerIndex), "kind", kind.String())
	s.publish(from, p2p.ShardBlockTopic(uint64(shard)), data)
	return nil
}

// signedTx is a transfer of amount from account j of pre's shard to
// account j of dst, with j's next nonce in pre, signed.
func (s *Sim) signedTx(pre *st.ShardState, j uint64, dst types.Shard, amount types.Gwei, d shardcore.TxDomain) *st.Transaction {
	tx := &st.Transaction{Shard: pre.Shard, From: j, Nonce: pre.Accounts[j].Nonce, ToShard: dst, To: j, Amount: amount}
	shardcore.SignTx(d, tx, shardcore.AccountKey(pre.Shard, j))
	return tx
}

// shardTxDomain is the chain's transaction signing domain.
func (s *Sim) shardTxDomain() shardcore.TxDomain {
	if s.sh.txDomain == (shardcore.TxDomain{}) {
		if v, err := shardhandler.Verifier(s.nodes[0].chain); err == nil {
			s.sh.txDomain = v.TxDomain(s.pcfg)
		}
	}
	return s.sh.txDomain
}

// fraudRoot is a deterministic root no honest execution gives.
func fraudRoot(what string, slot types.Slot) types.Root {
	return sha256.Sum256(fmt.Appendf(nil, "netsim fraudulent %s at slot %d", what, slot))
}

// WrongDataRootVotes makes the first share (rounded up) of shard's
// crosslink committee of the current epoch vote, at the start of their
// duty slot, a crosslink whose data root is wrong: the header list ending
// with the latest fraudulent block of the shard in the crosslink's range
// when there is one (complicit voters), else a root no shard chain gives.
// Each voter's vote is recorded in its host's slashing protection first,
// so the host's honest attester refuses to sign the other vote: the
// voters vote only the wrong root. Call it at an epoch's start.
func (s *Sim) WrongDataRootVotes(shard types.Shard, share float64) error {
	if share <= 0 || share > 1 || math.IsNaN(share) {
		return fmt.Errorf("wrong data root votes: %w: share %v not in (0, 1]", ErrByzantine, share)
	}
	spe := types.Slot(s.pcfg.SlotsPerEpoch)
	if s.nextSlot%spe != 0 {
		return fmt.Errorf("wrong data root votes: %w: call at an epoch's start, not slot %d", ErrByzantine, s.nextSlot)
	}
	slot, sc, voters, err := s.nodes[0].h.WrongDataRootDuty(shard, share, s.nextSlot)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrByzantine, err)
	}
	s.byz.complicit = append(s.byz.complicit, voters...)
	s.At(time.Duration(slot)*s.slot+time.Millisecond, func() { s.castWrongDataRoot(slot, sc, voters) })
	return nil
}

// castWrongDataRoot has each host of voters sign and gossip their vote.
func (s *Sim) castWrongDataRoot(slot types.Slot, sc validator.SlotCommittee, voters []types.ValidatorIndex) {
	for i := range s.cfg.Nodes {
		n := s.nodes[i]
		first, count, _ := s.ValidatorRange(i)
		var mine []types.ValidatorIndex
		for _, v := range voters {
			if uint64(v) >= first && uint64(v) < first+count {
				mine = append(mine, v)
			}
		}
		if len(mine) == 0 || n.down {
			continue
		}
		if err := s.castWrongVote(n, slot, sc, mine); err != nil {
			n.log.Warn("wrong data root vote failed", "slot", slot, "shard", uint64(sc.Shard), "err", err)
		}
	}
}

// castWrongVote has n's handler build, sign and record its voters' wrong
// vote (beacon/handler, as a real node's debug API does) and gossips it.
func (s *Sim) castWrongVote(n *node, slot types.Slot, sc validator.SlotCommittee, voters []types.ValidatorIndex) error {
	a, signed, err := n.h.WrongDataRootVote(slot, sc, voters, s.wrongDataRoot)
	if err != nil {
		return err
	}
	data, err := a.MarshalSSZ()
	if err != nil {
		return err
	}
	if root := a.Data.Crosslink.DataRoot; !slices.Contains(s.byz.wrong, root) {
		s.byz.wrong = append(s.byz.wrong, root)
	}
	n.log.Info("wrong data root vote", "slot", slot, "shard", uint64(sc.Shard), "validators", len(signed), "root", a.Data.Crosslink.DataRoot)
	s.publish(n.index, p2p.BeaconAttestationTopic, data)
	return nil
}

// wrongDataRoot is the data root the complicit voters of crosslink c vote:
// the header list of c's range ending with the latest fraudulent block of
// the shard in it, else a root no chain gives.
func (s *Sim) wrongDataRoot(c types.Crosslink) (types.Root, error) {
	spe := types.Slot(s.pcfg.SlotsPerEpoch)
	start, end := types.Slot(c.StartEpoch)*spe, types.Slot(c.EndEpoch)*spe
	for i := len(s.byz.frauds) - 1; i >= 0; i-- {
		f := s.byz.frauds[i]
		if f.Shard != c.Shard || f.Slot < start || f.Slot >= end {
			continue
		}
		n := s.firstServing(c.Shard)
		if n == nil {
			break
		}
		ch := n.shard.chains[c.Shard]
		gh := ch.GenesisHeader()
		genesis := gh.SigningRoot()
		list := []types.Root{f.Root}
		for r := f.block.ParentRoot; r != genesis; {
			h, ok := ch.Header(r)
			if !ok || h.Slot < start {
				break
			}
			list = append(list, r)
			r = h.ParentRoot
		}
		slices.Reverse(list)
		return shardcore.CrosslinkDataRoot(s.pcfg, list)
	}
	return fraudRoot(fmt.Sprintf("data root of shard %d", c.Shard), types.Slot(c.EndEpoch)), nil
}

// sourceChain is the chain of shard src of its first serving node (nil:
// none serves it).
func (s *Sim) sourceChain(src types.Shard) *chain.Service {
	if n := s.firstServing(src); n != nil {
		return n.shard.chains[src]
	}
	return nil
}
