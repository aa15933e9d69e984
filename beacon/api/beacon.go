package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/hash"
)

// The /eth/v1/beacon genesis, header and block endpoints.

// Fork names, as the version field and the Eth-Consensus-Version header
// give them.
const (
	VersionPhase0 = "phase0"
	VersionShard  = "shard"
)

// BlockVersion returns the fork name of a block: "phase0" for a
// *types.BeaconBlock, "shard" for a *types.ShardBeaconBlock.
func BlockVersion(b types.AnyBlock) (string, error) {
	switch b.(type) {
	case *types.BeaconBlock:
		return VersionPhase0, nil
	case *types.ShardBeaconBlock:
		return VersionShard, nil
	}
	return "", fmt.Errorf("unknown block type %T", b)
}

type genesisData struct {
	GenesisTime           uint64
	GenesisValidatorsRoot types.Root
	GenesisForkVersion    types.Version
}

func (s *Server) beaconGenesis(w http.ResponseWriter, r *http.Request) error {
	root, err := s.be.GenesisRoot()
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnavailable) {
			return Errorf(http.StatusNotFound, "chain genesis info is not yet known")
		}
		return fmt.Errorf("look up genesis: %w", err)
	}
	g, err := s.genesisInfo(root)
	if err != nil {
		return err
	}
	return WriteData(w, g)
}

// genesisInfo returns the genesis data, computed once per genesis root:
// genesis_validators_root, which v0.8.3 does not define (it appeared in
// v0.10), is hash_tree_root(List[Validator, VALIDATOR_REGISTRY_LIMIT](
// genesis.validators)).
func (s *Server) genesisInfo(root types.Root) (genesisData, error) {
	s.genesisMu.Lock()
	defer s.genesisMu.Unlock()
	if s.genesisOK && s.genesisFor == root {
		return s.genesisData, nil
	}
	st, err := s.be.State(root)
	if errors.Is(err, ErrNotFound) || (err == nil && st == nil) {
		return genesisData{}, Errorf(http.StatusServiceUnavailable, "the genesis state is not available")
	}
	if err != nil {
		return genesisData{}, fmt.Errorf("look up the genesis state: %w", err)
	}
	gvr, err := ValidatorsRoot(st.Validators, s.be.Config().ValidatorRegistryLimit)
	if err != nil {
		return genesisData{}, err
	}
	s.genesisData = genesisData{
		GenesisTime:           st.GenesisTime,
		GenesisValidatorsRoot: gvr,
		// v0.8.3 has no GENESIS_FORK_VERSION: genesis runs on the zero
		// version, which stays the previous version when the shard fork
		// upgrades the genesis state itself.
		GenesisForkVersion: st.Fork.PreviousVersion,
	}
	s.genesisFor, s.genesisOK = root, true
	return s.genesisData, nil
}

// ValidatorsRoot is hash_tree_root(List[Validator, limit](vals)).
func ValidatorsRoot(vals []types.Validator, limit uint64) (types.Root, error) {
	chunks := make([][32]byte, len(vals))
	for i := range vals {
		chunks[i] = vals[i].TreeRoot()
	}
	root, err := hash.Merkleize(chunks, limit)
	if err != nil {
		return types.Root{}, fmt.Errorf("merkleize %d validators: %w", len(vals), err)
	}
	return hash.MixInLength(root, uint64(len(vals))), nil
}

type headerMessage struct {
	Slot types.Slot
	// ProposerIndex is not part of a v0.8.3 header: it is the proposer the
	// block's post-state computes for its slot, absent for the genesis block
	// and when that state is not available.
	ProposerIndex *types.ValidatorIndex `json:",omitempty"`
	ParentRoot    types.Root
	StateRoot     types.Root
	BodyRoot      types.Root
}

type signedHeader struct {
	Message   headerMessage
	Signature types.BLSSignature
}

type headerData struct {
	Root      types.Root
	Canonical bool
	Header    signedHeader
}

func (s *Server) headerOf(rb *resolvedBlock) (headerData, error) {
	hb, ok := rb.block.(interface {
		Header() (types.BeaconBlockHeader, error)
	})
	if !ok {
		return headerData{}, fmt.Errorf("block %s of type %T has no header", rb.root, rb.block)
	}
	h, err := hb.Header()
	if err != nil {
		return headerData{}, fmt.Errorf("header of block %s: %w", rb.root, err)
	}
	return headerData{
		Root:      rb.root,
		Canonical: rb.canonical,
		Header: signedHeader{
			Message: headerMessage{
				Slot:          h.Slot,
				ProposerIndex: s.proposerOf(rb),
				ParentRoot:    h.ParentRoot,
				StateRoot:     h.StateRoot,
				BodyRoot:      h.BodyRoot,
			},
			Signature: h.Signature,
		},
	}, nil
}

// proposerOf returns get_beacon_proposer_index of the block's post-state,
// which is the block's proposer (it depends only on the slot, the epoch's
// seed and active set, and effective balances, which a block does not
// change), or nil.
func (s *Server) proposerOf(rb *resolvedBlock) *types.ValidatorIndex {
	slot := rb.block.GetSlot()
	if uint64(slot) == s.be.Config().GenesisSlot {
		return nil
	}
	st, err := s.be.State(rb.root)
	if err != nil || st == nil || st.Slot != slot {
		return nil
	}
	idx, err := s.be.Transition().BeaconProposerIndex(st)
	if err != nil {
		return nil
	}
	return &idx
}

// pathBlock resolves the request's {block_id}.
func (s *Server) pathBlock(r *http.Request) (*resolvedBlock, error) {
	id, err := ParseBlockID(r.PathValue("block_id"))
	if err != nil {
		return nil, err
	}
	return s.resolveBlock(id)
}

func (s *Server) beaconHeader(w http.ResponseWriter, r *http.Request) error {
	rb, err := s.pathBlock(r)
	if err != nil {
		return err
	}
	h, err := s.headerOf(rb)
	if err != nil {
		return err
	}
	return WriteData(w, h)
}

// beaconHeaders lists the head's header, or the canonical header at ?slot=,
// keeping only children of ?parent_root= when given (without a slot, the
// canonical child of parent_root).
func (s *Server) beaconHeaders(w http.ResponseWriter, r *http.Request) error {
	slot, haveSlot, err := QueryUint(r, "slot")
	if err != nil {
		return err
	}
	var parent *types.Root
	if vals := r.URL.Query()["parent_root"]; len(vals) > 0 {
		if len(vals) > 1 {
			return Errorf(http.StatusBadRequest, "query parameter parent_root given %d times", len(vals))
		}
		p, err := ParseRoot(vals[0])
		if err != nil {
			return Errorf(http.StatusBadRequest, "invalid parent_root %q: %s", truncate(vals[0]), err.Error())
		}
		parent = &p
	}
	if _, err := s.genesisRoot(); err != nil {
		return err
	}
	var root types.Root
	found := true
	switch {
	case haveSlot:
		root, err = s.be.CanonicalRoot(types.Slot(slot))
		if errors.Is(err, ErrNotFound) {
			found = false
		} else if err != nil {
			return fmt.Errorf("look up the canonical block at slot %d: %w", slot, err)
		}
	case parent != nil:
		root, found, err = s.canonicalChild(*parent)
		if err != nil {
			return err
		}
	default:
		root, _ = s.be.Head()
	}
	out := []headerData{}
	if found {
		rb, err := s.blockByRoot(root)
		if err != nil {
			return err
		}
		if parent == nil || rb.block.GetParentRoot() == *parent {
			h, err := s.headerOf(rb)
			if err != nil {
				return err
			}
			out = append(out, h)
		}
	}
	return WriteData(w, out)
}

// canonicalChild returns the first canonical block after parent's slot
// (within SLOTS_PER_HISTORICAL_ROOT slots), if any.
func (s *Server) canonicalChild(parent types.Root) (types.Root, bool, error) {
	pb, err := s.be.Block(parent)
	if errors.Is(err, ErrNotFound) {
		return types.Root{}, false, nil
	}
	if err != nil {
		return types.Root{}, false, fmt.Errorf("look up block %s: %w", parent, err)
	}
	_, headSlot := s.be.Head()
	limit := uint64(pb.GetSlot()) + s.be.Config().SlotsPerHistoricalRoot
	for slot := uint64(pb.GetSlot()) + 1; slot <= uint64(headSlot) && slot <= limit; slot++ {
		root, err := s.be.CanonicalRoot(types.Slot(slot))
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return types.Root{}, false, fmt.Errorf("look up the canonical block at slot %d: %w", slot, err)
		}
		return root, true, nil
	}
	return types.Root{}, false, nil
}

type versioned struct {
	Version string
	Data    json.RawMessage
}

func (s *Server) beaconBlock(w http.ResponseWriter, r *http.Request) error {
	id, err := ParseBlockID(r.PathValue("block_id"))
	if err != nil {
		return err
	}
	enc, err := Negotiate(r, true)
	if err != nil {
		return err
	}
	rb, err := s.resolveBlock(id)
	if err != nil {
		return err
	}
	v, err := BlockVersion(rb.block)
	if err != nil {
		return err
	}
	if enc == EncodingSSZ {
		body, err := rb.block.MarshalSSZ()
		if err != nil {
			return fmt.Errorf("encode block %s: %w", rb.root, err)
		}
		WriteSSZ(w, v, body)
		return nil
	}
	data, err := EncodeSigned(rb.block)
	if err != nil {
		return err
	}
	w.Header().Set(VersionHeader, v)
	return WriteJSON(w, http.StatusOK, versioned{Version: v, Data: data})
}

type rootData struct {
	Root types.Root
}

func (s *Server) beaconBlockRoot(w http.ResponseWriter, r *http.Request) error {
	rb, err := s.pathBlock(r)
	if err != nil {
		return err
	}
	return WriteData(w, rootData{Root: rb.root})
}
