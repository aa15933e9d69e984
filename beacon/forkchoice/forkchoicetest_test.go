package forkchoice

// Shared test fixtures: an interop genesis of 64 validators on the minimal
// preset, a chain builder producing real blocks (post-states computed by
// beacon/core, signatures optional) and attestations built as the validator
// guide says.

import (
	"crypto/sha256"
	"encoding/binary"
	"maps"
	"sync"
	"testing"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
)

const numValidators = 64

var genesisFixture struct {
	once    sync.Once
	tr      *core.Transition
	keys    []*bls.SecretKey
	genesis *types.BeaconState
	err     error
}

// loadGenesis builds (once per test binary) the interop genesis state.
func loadGenesis(t testing.TB) (*core.Transition, []*bls.SecretKey, *types.BeaconState) {
	t.Helper()
	g := &genesisFixture
	g.once.Do(func() {
		cfg := params.Minimal()
		g.tr = core.New(cfg)
		domain := core.ComputeDomain(cfg.DomainDeposit, types.Version{})
		var tree core.DepositTree
		deposits := make([]*types.Deposit, numValidators)
		for i := range deposits {
			sk := bls.InteropSecretKey(uint64(i))
			g.keys = append(g.keys, sk)
			pk := sk.PublicKey().Bytes()
			creds := types.Root(sha256.Sum256(pk[:]))
			creds[0] = cfg.BLSWithdrawalPrefix[0]
			data := types.DepositData{Pubkey: pk, WithdrawalCredentials: creds, Amount: types.Gwei(cfg.MaxEffectiveBalance)}
			data.Signature = sk.Sign(data.SigningRoot(), domain).Bytes()
			deposits[i] = &types.Deposit{Data: data}
			tree.Append(data.TreeRoot())
		}
		for i, d := range deposits {
			d.Proof, g.err = tree.Proof(i, i+1)
			if g.err != nil {
				return
			}
		}
		g.genesis, g.err = g.tr.InitializeBeaconStateFromEth1(types.Root{0x42}, cfg.MinGenesisTime, deposits, core.SkipSigs)
		if g.err == nil && !g.tr.IsValidGenesisState(g.genesis) {
			g.err = core.ErrInvalidGenesis
		}
	})
	if g.err != nil {
		t.Fatalf("build genesis: %v", g.err)
	}
	return g.tr, g.keys, g.genesis
}

// chain builds blocks and attestations on top of the genesis, remembering
// every block's post-state. It is independent of any Store.
type chain struct {
	t       testing.TB
	tr      *core.Transition
	cfg     *params.Config
	keys    []*bls.SecretKey
	genesis *types.BeaconState
	// sign makes the builder sign blocks, RANDAO reveals and attestations;
	// otherwise signatures are left zero (fine under core.SkipSigs).
	sign bool

	genesisRoot types.Root
	blocks      map[types.Root]*types.BeaconBlock
	states      map[types.Root]*types.BeaconState
}

func newChain(t testing.TB) *chain {
	t.Helper()
	tr, keys, genesis := loadGenesis(t)
	c := &chain{
		t: t, tr: tr, cfg: tr.Config(), keys: keys, genesis: genesis,
		blocks: map[types.Root]*types.BeaconBlock{},
		states: map[types.Root]*types.BeaconState{},
	}
	stateRoot, err := genesis.HashTreeRoot()
	if err != nil {
		t.Fatal(err)
	}
	gb := &types.BeaconBlock{StateRoot: stateRoot}
	c.genesisRoot = mustRoot(t, gb)
	c.blocks[c.genesisRoot] = gb
	c.states[c.genesisRoot] = genesis
	return c
}

// store returns a fresh Store at the chain's genesis.
func (c *chain) store() *Store {
	c.t.Helper()
	s, err := New(c.tr, c.genesis)
	if err != nil {
		c.t.Fatalf("New: %v", err)
	}
	return s
}

func mustRoot(t testing.TB, b *types.BeaconBlock) types.Root {
	t.Helper()
	r, err := b.SigningRoot()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// slotTime is the Unix time at which slot starts.
func (c *chain) slotTime(slot types.Slot) uint64 {
	return c.genesis.GenesisTime + uint64(slot)*c.cfg.SecondsPerSlot
}

// stateAt returns a copy of the post-state of root advanced to slot.
func (c *chain) stateAt(root types.Root, slot types.Slot) *types.BeaconState {
	c.t.Helper()
	pre, ok := c.states[root]
	if !ok {
		c.t.Fatalf("no state for block %s", root)
	}
	st := pre.Copy()
	if err := c.tr.ProcessSlots(st, slot); err != nil {
		c.t.Fatalf("process slots to %d: %v", slot, err)
	}
	return st
}

// build makes a valid block at slot on parent with the given graffiti and
// attestations, and records its post-state. It does not add it to any store.
func (c *chain) build(parent types.Root, slot types.Slot, graffiti byte, atts ...*types.Attestation) (*types.BeaconBlock, types.Root) {
	c.t.Helper()
	st := c.stateAt(parent, slot)
	b := &types.BeaconBlock{
		Slot:       slot,
		ParentRoot: parent,
		Body: types.BeaconBlockBody{
			Eth1Data:     st.Eth1Data,
			Graffiti:     types.Root{graffiti},
			Attestations: atts,
		},
	}
	epoch := c.tr.CurrentEpoch(st)
	proposer, err := c.tr.BeaconProposerIndex(st)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.sign {
		var msg [32]byte
		binary.LittleEndian.PutUint64(msg[:8], uint64(epoch))
		b.Body.RandaoReveal = c.keys[proposer].Sign(msg, c.tr.Domain(st, c.cfg.DomainRandao, epoch)).Bytes()
	}
	if err := c.tr.ProcessBlock(st, b, core.SkipSigs); err != nil {
		c.t.Fatalf("process block at slot %d: %v", slot, err)
	}
	if b.StateRoot, err = st.HashTreeRoot(); err != nil {
		c.t.Fatal(err)
	}
	root := mustRoot(c.t, b)
	if c.sign {
		b.Signature = c.keys[proposer].Sign(root, c.tr.Domain(st, c.cfg.DomainBeaconProposer, epoch)).Bytes()
	}
	c.blocks[root] = b
	c.states[root] = st
	return b, root
}

// committees returns the committees (with their shards) attesting at slot,
// computed from the state of head advanced to slot.
func (c *chain) committees(head types.Root, slot types.Slot) ([]types.Shard, [][]types.ValidatorIndex) {
	c.t.Helper()
	st := c.attState(head, slot)
	epoch := core.ComputeEpochOfSlot(c.cfg, slot)
	perSlot := c.tr.CommitteeCount(st, epoch) / c.cfg.SlotsPerEpoch
	start, err := c.tr.StartShard(st, epoch)
	if err != nil {
		c.t.Fatal(err)
	}
	var shards []types.Shard
	var coms [][]types.ValidatorIndex
	for i := uint64(0); i < perSlot; i++ {
		sh := types.Shard((uint64(start) + perSlot*(uint64(slot)%c.cfg.SlotsPerEpoch) + i) % c.cfg.ShardCount)
		com, err := c.tr.CrosslinkCommittee(st, epoch, sh)
		if err != nil {
			c.t.Fatal(err)
		}
		shards = append(shards, sh)
		coms = append(coms, com)
	}
	return shards, coms
}

// attState is the state an attester at slot uses with head: head's state
// advanced to slot, or to head's own slot when head is later in the same
// epoch (committees, target and crosslinks are the same within an epoch).
func (c *chain) attState(head types.Root, slot types.Slot) *types.BeaconState {
	c.t.Helper()
	hb, ok := c.blocks[head]
	if !ok {
		c.t.Fatalf("unknown head %s", head)
	}
	at := max(slot, hb.Slot)
	if core.ComputeEpochOfSlot(c.cfg, at) != core.ComputeEpochOfSlot(c.cfg, slot) {
		c.t.Fatalf("head at slot %d cannot be voted for at slot %d", hb.Slot, slot)
	}
	return c.stateAt(head, at)
}

// attest returns one attestation per committee of slot, voting for head,
// with the members for which who returns true (all when who is nil);
// committees with no such member are skipped.
func (c *chain) attest(head types.Root, slot types.Slot, who func(types.ValidatorIndex) bool) []*types.Attestation {
	c.t.Helper()
	st := c.attState(head, slot)
	epoch := core.ComputeEpochOfSlot(c.cfg, slot)
	start := core.ComputeStartSlotOfEpoch(c.cfg, epoch)
	targetRoot := head
	if st.Slot != start {
		r, err := c.tr.BlockRootAtSlot(st, start)
		if err != nil {
			c.t.Fatal(err)
		}
		targetRoot = r
	}
	shards, coms := c.committees(head, slot)
	var out []*types.Attestation
	for k, com := range coms {
		parent := st.CurrentCrosslinks[shards[k]]
		data := types.AttestationData{
			BeaconBlockRoot: head,
			Source:          st.CurrentJustifiedCheckpoint,
			Target:          types.Checkpoint{Epoch: epoch, Root: targetRoot},
			Crosslink: types.Crosslink{
				Shard:      shards[k],
				ParentRoot: parent.TreeRoot(),
				StartEpoch: parent.EndEpoch,
				EndEpoch:   min(epoch, parent.EndEpoch+types.Epoch(c.cfg.MaxEpochsPerCrosslink)),
			},
		}
		agg, cust := newBitlist(len(com)), newBitlist(len(com))
		var sigs []*bls.Signature
		msg := (&types.AttestationDataAndCustodyBit{Data: data}).TreeRoot()
		domain := c.tr.Domain(st, c.cfg.DomainAttestation, epoch)
		for i, v := range com {
			if who != nil && !who(v) {
				continue
			}
			agg[i/8] |= 1 << (i % 8)
			if c.sign {
				sigs = append(sigs, c.keys[v].Sign(msg, domain))
			}
		}
		if !hasBits(agg, len(com)) {
			continue
		}
		a := &types.Attestation{AggregationBits: agg, Data: data, CustodyBits: cust}
		if c.sign {
			a.Signature = bls.AggregateSignatures(sigs).Bytes()
		}
		out = append(out, a)
	}
	return out
}

// vote returns attestations by the given validators for head in epoch, each
// at its committee assignment. Validators without an assignment (none on the
// minimal preset) are skipped.
func (c *chain) vote(head types.Root, epoch types.Epoch, vals ...types.ValidatorIndex) []*types.Attestation {
	c.t.Helper()
	st := c.attState(head, core.ComputeStartSlotOfEpoch(c.cfg, epoch))
	bySlot := map[types.Slot]map[types.ValidatorIndex]bool{}
	var slots []types.Slot
	for _, v := range vals {
		_, _, slot, ok, err := c.tr.CommitteeAssignment(st, epoch, v)
		if err != nil {
			c.t.Fatal(err)
		}
		if !ok {
			continue
		}
		if bySlot[slot] == nil {
			bySlot[slot] = map[types.ValidatorIndex]bool{}
			slots = append(slots, slot)
		}
		bySlot[slot][v] = true
	}
	var out []*types.Attestation
	for _, slot := range slots {
		set := bySlot[slot]
		out = append(out, c.attest(head, slot, func(v types.ValidatorIndex) bool { return set[v] })...)
	}
	return out
}

// newBitlist is an SSZ bitlist of n zero bits (with its delimiter bit).
func newBitlist(n int) []byte {
	b := make([]byte, n/8+1)
	b[n/8] |= 1 << (n % 8)
	return b
}

func hasBits(b []byte, n int) bool {
	for i := 0; i < n; i++ {
		if b[i/8]>>(i%8)&1 == 1 {
			return true
		}
	}
	return false
}

// addBlocks feeds blocks to s, ticking the clock to each block's slot first
// when the store is behind.
func addBlocks(t testing.TB, c *chain, s *Store, roots ...types.Root) {
	t.Helper()
	for _, r := range roots {
		b := c.blocks[r]
		if tm := c.slotTime(b.Slot); s.Time() < tm {
			s.OnTick(tm)
		}
		if err := s.OnBlock(b, core.SkipSigs); err != nil {
			t.Fatalf("OnBlock(slot %d, %s): %v", b.Slot, r, err)
		}
	}
}

// addAttestations feeds attestations to s, ticking the clock to the end of
// each attestation's slot first when the store is behind.
func addAttestations(t testing.TB, c *chain, s *Store, atts ...*types.Attestation) {
	t.Helper()
	for _, a := range atts {
		st := c.attState(a.Data.BeaconBlockRoot, core.ComputeStartSlotOfEpoch(c.cfg, a.Data.Target.Epoch))
		slot, err := c.tr.AttestationDataSlot(st, &a.Data)
		if err != nil {
			t.Fatal(err)
		}
		if tm := c.slotTime(slot + 1); s.Time() < tm {
			s.OnTick(tm)
		}
		if err := s.OnAttestation(a, core.SkipSigs); err != nil {
			t.Fatalf("OnAttestation(slot %d, head %s): %v", slot, a.Data.BeaconBlockRoot, err)
		}
	}
}

// finalityFixture is a canonical chain with a block at every slot, each
// including the full attestations of the previous slot, long enough to
// finalize twice on the minimal preset.
type finalityFixture struct {
	c     *chain
	roots []types.Root // roots[s] is the block at slot s (roots[0] is genesis)
	atts  [][]*types.Attestation
}

var finality struct {
	once sync.Once
	f    *finalityFixture
}

const finalitySlots = 48

// loadFinality returns the shared fixture with a chain builder of its own
// (reporting to t, with its own maps) so tests may extend it.
func loadFinality(t testing.TB) *finalityFixture {
	t.Helper()
	finality.once.Do(func() {
		c := newChain(t)
		f := &finalityFixture{c: c, roots: []types.Root{c.genesisRoot}, atts: [][]*types.Attestation{nil}}
		for slot := types.Slot(1); slot <= finalitySlots; slot++ {
			prev := f.roots[slot-1]
			atts := c.attest(prev, slot-1, nil)
			_, r := c.build(prev, slot, 0, atts...)
			f.roots = append(f.roots, r)
			f.atts = append(f.atts, atts)
		}
		finality.f = f
	})
	if finality.f == nil {
		t.Fatal("finality fixture failed to build")
	}
	f := *finality.f
	c := *f.c
	c.t = t
	c.blocks = maps.Clone(c.blocks)
	c.states = maps.Clone(c.states)
	f.c = &c
	return &f
}
