package netsim

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/shardlab/shardlab/beacon/handler"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/p2p"
)

// The simulated eth1 chain and the registry actions. Deposit puts new
// validators into the deposit contract (a validator.DepositTree over the
// genesis deposits); every node's proposers see it through the handler's
// Eth1 source (handler.Config.Eth1), as a real node would see its eth1
// client: they vote for it in the eth1 voting period after the deposit,
// and once the vote wins they include the deposits with their proofs, so
// deposit processing, the activation queue and the churn limit run in the
// beacon code as on a real chain.

// eth1Chain is the simulated eth1 chain: the deposit contract's deposits
// and the slot at whose start each batch was made.
type eth1Chain struct {
	s       *Sim
	tree    *validator.DepositTree // nil until the first deposit
	batches []eth1Batch
}

// eth1Batch is the contract's deposit count after a batch made at slot.
type eth1Batch struct {
	slot  types.Slot
	count uint64
}

// Eth1Vote votes for the contract as of the start of slot's eth1 voting
// period (so every proposer of a period votes alike); before the first
// deposit it votes for no change.
func (e *eth1Chain) Eth1Vote(slot types.Slot) (types.Eth1Data, bool) {
	start := slot - slot%types.Slot(e.s.pcfg.SlotsPerEth1VotingPeriod)
	count := uint64(0)
	for _, b := range e.batches {
		if b.slot <= start {
			count = b.count
		}
	}
	if count == 0 {
		return types.Eth1Data{}, false
	}
	root, err := e.tree.Root(count)
	if err != nil {
		return types.Eth1Data{}, false
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], count)
	return types.Eth1Data{DepositRoot: root, DepositCount: count, BlockHash: sha256.Sum256(append([]byte("netsim eth1 block "), n[:]...))}, true
}

// Deposit is deposit index proven against the tree of count deposits.
func (e *eth1Chain) Deposit(index, count uint64) (*types.Deposit, error) {
	if e.tree == nil {
		return nil, fmt.Errorf("prove deposit %d: no deposit was made", index)
	}
	return e.tree.Deposit(index, count)
}

// genesisTree is the deposit tree of the genesis deposits, as the genesis
// state was built (interop keys, unsigned).
func (s *Sim) genesisTree() (*validator.DepositTree, error) {
	keys, err := validator.NewInteropKeys(0, s.cfg.Validators)
	if err != nil {
		return nil, err
	}
	deps, err := validator.InteropDeposits(s.pcfg, keys, s.cfg.Validators, validator.SkipDepositSignatures())
	if err != nil {
		return nil, err
	}
	data := make([]types.DepositData, len(deps))
	for i, d := range deps {
		data[i] = d.Data
	}
	t := validator.NewDepositTree(data)
	if root, _ := t.Root(t.Len()); root != s.genesisState.Eth1Data.DepositRoot {
		return nil, fmt.Errorf("genesis deposit tree root %x differs from the genesis state's", root[:4])
	}
	return t, nil
}

// Deposit makes count new validators deposit MAX_EFFECTIVE_BALANCE now
// (interop keys following the last one used, with proofs of possession).
// The last beacon node hosts them: it attests and proposes for them once
// the chain activates them. It returns their key indices (which are their
// validator indices when every deposit is processed in order).
func (s *Sim) Deposit(count uint64) (first uint64, err error) {
	if count == 0 {
		return 0, fmt.Errorf("deposit: %w: count 0", ErrInvalidConfig)
	}
	if s.eth1.tree == nil {
		if s.eth1.tree, err = s.genesisTree(); err != nil {
			return 0, fmt.Errorf("deposit: %w", err)
		}
	}
	first = s.eth1.tree.Len()
	keys, err := validator.NewInteropKeys(first, count)
	if err != nil {
		return 0, fmt.Errorf("deposit: %w", err)
	}
	for i := range count {
		d, err := validator.DepositData(s.pcfg, keys, first+i, types.Gwei(s.pcfg.MaxEffectiveBalance))
		if err != nil {
			return 0, fmt.Errorf("deposit: %w", err)
		}
		s.eth1.tree.Push(d)
	}
	host := s.nodes[s.cfg.Nodes-1]
	if host.keys, err = validator.JoinKeys(host.keys, keys); err != nil {
		return 0, fmt.Errorf("deposit: %w", err)
	}
	host.h.SetKeys(host.keys)
	s.eth1.batches = append(s.eth1.batches, eth1Batch{slot: s.nextSlot, count: s.eth1.tree.Len()})
	s.log.Info("deposited", "validators", count, "first", first, "slot", s.nextSlot)
	return first, nil
}

// Exit makes validator v (by its hosting node) sign a voluntary exit for
// the current epoch and gossip it; the node's pool keeps it until a block
// includes it. It is an error when the head state does not accept it yet
// (say, before PERSISTENT_COMMITTEE_PERIOD epochs of activity).
func (s *Sim) Exit(v types.ValidatorIndex) error {
	for _, n := range s.nodes[:s.cfg.Nodes] {
		epoch := types.Epoch(uint64(n.chain.CurrentSlot()) / s.pcfg.SlotsPerEpoch) // the node's clock
		e, err := n.h.VoluntaryExit(v, epoch)
		if errors.Is(err, handler.ErrNotHosted) {
			continue
		}
		if err != nil {
			return err
		}
		data, err := e.MarshalSSZ()
		if err != nil {
			return fmt.Errorf("exit validator %d: %w", v, err)
		}
		s.publish(n.index, p2p.VoluntaryExitTopic, data)
		return nil
	}
	return fmt.Errorf("exit validator %d: %w: no node hosts it", v, ErrInvalidConfig)
}
