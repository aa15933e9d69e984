package types

import (
	"encoding/binary"
	"fmt"

	"github.com/shardlab/shardlab/beacon/params"
)

// Hand-written SSZ for the two containers whose shape depends on the config.

const (
	forkSize        = 16
	headerSize      = 8 + 32 + 32 + 32 + 96
	eth1DataSize    = 32 + 8 + 32
	validatorSize   = 48 + 32 + 8 + 1 + 8*4
	crosslinkSize   = 8 + 32 + 8 + 8 + 32
	checkpointSize  = 8 + 32
	offsetSize      = 4
	pendingAttFixed = 4 + attDataSize + 8 + 8
	attDataSize     = 32 + checkpointSize*2 + crosslinkSize
)

// stateFixedSize is the size of the fixed part of a BeaconState for cfg.
func stateFixedSize(cfg *params.Config) int {
	sphr := int(cfg.SlotsPerHistoricalRoot)
	ephv := int(cfg.EpochsPerHistoricalVector)
	return 8 + 8 + forkSize + headerSize +
		32*sphr*2 + offsetSize + // block_roots, state_roots, historical_roots
		eth1DataSize + offsetSize + 8 + // eth1_data, eth1_data_votes, eth1_deposit_index
		offsetSize + offsetSize + // validators, balances
		8 + 32*ephv*3 + // start_shard, randao_mixes, active_index_roots, compact_committees_roots
		8*int(cfg.EpochsPerSlashingsVector) +
		offsetSize + offsetSize + // pending attestations
		crosslinkSize*int(cfg.ShardCount)*2 +
		1 + checkpointSize*3
}

// SizeSSZ returns the encoded size of s.
func (s *BeaconState) SizeSSZ() int {
	n := stateFixedSize(s.cfg) + 32*len(s.HistoricalRoots) + eth1DataSize*len(s.Eth1DataVotes) +
		validatorSize*len(s.Validators) + 8*len(s.Balances)
	for _, l := range [][]PendingAttestation{s.PreviousEpochAttestations, s.CurrentEpochAttestations} {
		for i := range l {
			n += offsetSize + l[i].SizeSSZ()
		}
	}
	return n
}

// checkShape reports a state whose vectors do not have the config's lengths or
// whose lists exceed their limits: such a state has no SSZ encoding.
func (s *BeaconState) checkShape() error {
	cfg := s.cfg
	if cfg == nil {
		return fmt.Errorf("%w: state has no config (build it with NewBeaconState)", ErrInvalidSSZ)
	}
	vec := []struct {
		name      string
		got, want int
	}{
		{"block_roots", len(s.BlockRoots), int(cfg.SlotsPerHistoricalRoot)},
		{"state_roots", len(s.StateRoots), int(cfg.SlotsPerHistoricalRoot)},
		{"randao_mixes", len(s.RandaoMixes), int(cfg.EpochsPerHistoricalVector)},
		{"active_index_roots", len(s.ActiveIndexRoots), int(cfg.EpochsPerHistoricalVector)},
		{"compact_committees_roots", len(s.CompactCommitteesRoots), int(cfg.EpochsPerHistoricalVector)},
		{"slashings", len(s.Slashings), int(cfg.EpochsPerSlashingsVector)},
		{"previous_crosslinks", len(s.PreviousCrosslinks), int(cfg.ShardCount)},
		{"current_crosslinks", len(s.CurrentCrosslinks), int(cfg.ShardCount)},
	}
	for _, v := range vec {
		if v.got != v.want {
			return fmt.Errorf("%w: %s has length %d, want %d", ErrInvalidSSZ, v.name, v.got, v.want)
		}
	}
	lists := []struct {
		name string
		got  int
		max  uint64
	}{
		{"historical_roots", len(s.HistoricalRoots), cfg.HistoricalRootsLimit},
		{"eth1_data_votes", len(s.Eth1DataVotes), cfg.SlotsPerEth1VotingPeriod},
		{"validators", len(s.Validators), cfg.ValidatorRegistryLimit},
		{"balances", len(s.Balances), cfg.ValidatorRegistryLimit},
		{"previous_epoch_attestations", len(s.PreviousEpochAttestations), cfg.MaxPendingAttestations()},
		{"current_epoch_attestations", len(s.CurrentEpochAttestations), cfg.MaxPendingAttestations()},
	}
	for _, l := range lists {
		if uint64(l.got) > l.max {
			return fmt.Errorf("%w: %s has %d elements, limit %d", ErrInvalidSSZ, l.name, l.got, l.max)
		}
	}
	if s.JustificationBits > 0x0f {
		return fmt.Errorf("%w: justification_bits 0x%02x has bits beyond the 4 of the vector", ErrInvalidSSZ, byte(s.JustificationBits))
	}
	return nil
}

// MarshalSSZ encodes s.
func (s *BeaconState) MarshalSSZ() ([]byte, error) {
	if err := s.checkShape(); err != nil {
		return nil, err
	}
	return s.MarshalSSZTo(make([]byte, 0, s.SizeSSZ()))
}

// MarshalSSZTo appends the encoding of s to dst.
func (s *BeaconState) MarshalSSZTo(dst []byte) ([]byte, error) {
	if err := s.checkShape(); err != nil {
		return nil, err
	}
	var err error
	offset := stateFixedSize(s.cfg)
	putOffset := func(n int) {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(offset))
		offset += n
	}
	pendingSize := func(l []PendingAttestation) int {
		n := 0
		for i := range l {
			n += offsetSize + l[i].SizeSSZ()
		}
		return n
	}
	dst = binary.LittleEndian.AppendUint64(dst, s.GenesisTime)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(s.Slot))
	if dst, err = s.Fork.MarshalSSZTo(dst); err != nil {
		return nil, err
	}
	if dst, err = s.LatestBlockHeader.MarshalSSZTo(dst); err != nil {
		return nil, err
	}
	dst = appendRoots(dst, s.BlockRoots)
	dst = appendRoots(dst, s.StateRoots)
	putOffset(32 * len(s.HistoricalRoots))
	if dst, err = s.Eth1Data.MarshalSSZTo(dst); err != nil {
		return nil, err
	}
	putOffset(eth1DataSize * len(s.Eth1DataVotes))
	dst = binary.LittleEndian.AppendUint64(dst, s.Eth1DepositIndex)
	putOffset(validatorSize * len(s.Validators))
	putOffset(8 * len(s.Balances))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(s.StartShard))
	dst = appendRoots(dst, s.RandaoMixes)
	dst = appendRoots(dst, s.ActiveIndexRoots)
	dst = appendRoots(dst, s.CompactCommitteesRoots)
	for _, g := range s.Slashings {
		dst = binary.LittleEndian.AppendUint64(dst, uint64(g))
	}
	putOffset(pendingSize(s.PreviousEpochAttestations))
	putOffset(pendingSize(s.CurrentEpochAttestations))
	for _, l := range [][]Crosslink{s.PreviousCrosslinks, s.CurrentCrosslinks} {
		for i := range l {
			if dst, err = l[i].MarshalSSZTo(dst); err != nil {
				return nil, err
			}
		}
	}
	dst = append(dst, byte(s.JustificationBits))
	for _, c := range []*Checkpoint{&s.PreviousJustifiedCheckpoint, &s.CurrentJustifiedCheckpoint, &s.FinalizedCheckpoint} {
		if dst, err = c.MarshalSSZTo(dst); err != nil {
			return nil, err
		}
	}
	// Variable parts, in field order.
	dst = appendRoots(dst, s.HistoricalRoots)
	for i := range s.Eth1DataVotes {
		if dst, err = s.Eth1DataVotes[i].MarshalSSZTo(dst); err != nil {
			return nil, err
		}
	}
	for i := range s.Validators {
		if dst, err = s.Validators[i].MarshalSSZTo(dst); err != nil {
			return nil, err
		}
	}
	for _, b := range s.Balances {
		dst = binary.LittleEndian.AppendUint64(dst, uint64(b))
	}
	for _, l := range [][]PendingAttestation{s.PreviousEpochAttestations, s.CurrentEpochAttestations} {
		off := offsetSize * len(l)
		for i := range l {
			dst = binary.LittleEndian.AppendUint32(dst, uint32(off))
			off += l[i].SizeSSZ()
		}
		for i := range l {
			if dst, err = l[i].MarshalSSZTo(dst); err != nil {
				return nil, err
			}
		}
	}
	return dst, nil
}

func appendRoots(dst []byte, roots []Root) []byte {
	for i := range roots {
		dst = append(dst, roots[i][:]...)
	}
	return dst
}

// UnmarshalBeaconState decodes a state shaped for cfg. Malformed input (wrong
// sizes, bad offsets, lists over their limits, non-canonical booleans or bits)
// is an error wrapping ErrInvalidSSZ.
func UnmarshalBeaconState(cfg *params.Config, buf []byte) (*BeaconState, error) {
	s := NewBeaconState(cfg)
	if err := s.UnmarshalSSZ(buf); err != nil {
		return nil, err
	}
	return s, nil
}

// UnmarshalSSZ decodes buf into s, which must have been built with
// NewBeaconState (it needs the config for the shape). On error s is unchanged.
func (s *BeaconState) UnmarshalSSZ(buf []byte) error {
	if s.cfg == nil {
		return fmt.Errorf("%w: state has no config (build it with NewBeaconState)", ErrInvalidSSZ)
	}
	cfg := s.cfg
	d := decoder{buf: buf}
	fixed := stateFixedSize(cfg)
	if len(buf) < fixed {
		return fmt.Errorf("%w: beacon state: %d bytes, fixed part alone is %d", ErrInvalidSSZ, len(buf), fixed)
	}
	n := NewBeaconState(cfg)
	n.GenesisTime = d.u64()
	n.Slot = Slot(d.u64())
	if err := n.Fork.UnmarshalSSZ(d.next(forkSize)); err != nil {
		return wrapSSZ("fork", err)
	}
	if err := n.LatestBlockHeader.UnmarshalSSZ(d.next(headerSize)); err != nil {
		return wrapSSZ("latest_block_header", err)
	}
	d.roots(n.BlockRoots)
	d.roots(n.StateRoots)
	var offs [6]uint32
	offs[0] = d.u32()
	if err := n.Eth1Data.UnmarshalSSZ(d.next(eth1DataSize)); err != nil {
		return wrapSSZ("eth1_data", err)
	}
	offs[1] = d.u32()
	n.Eth1DepositIndex = d.u64()
	offs[2] = d.u32()
	offs[3] = d.u32()
	n.StartShard = Shard(d.u64())
	d.roots(n.RandaoMixes)
	d.roots(n.ActiveIndexRoots)
	d.roots(n.CompactCommitteesRoots)
	for i := range n.Slashings {
		n.Slashings[i] = Gwei(d.u64())
	}
	offs[4] = d.u32()
	offs[5] = d.u32()
	for _, l := range [][]Crosslink{n.PreviousCrosslinks, n.CurrentCrosslinks} {
		for i := range l {
			if err := l[i].UnmarshalSSZ(d.next(crosslinkSize)); err != nil {
				return wrapSSZ("crosslinks", err)
			}
		}
	}
	n.JustificationBits = JustificationBits(d.next(1)[0])
	if n.JustificationBits > 0x0f {
		return fmt.Errorf("%w: justification_bits 0x%02x has bits set beyond the vector", ErrInvalidSSZ, byte(n.JustificationBits))
	}
	for _, c := range []*Checkpoint{&n.PreviousJustifiedCheckpoint, &n.CurrentJustifiedCheckpoint, &n.FinalizedCheckpoint} {
		if err := c.UnmarshalSSZ(d.next(checkpointSize)); err != nil {
			return wrapSSZ("checkpoint", err)
		}
	}
	if d.pos != fixed {
		return fmt.Errorf("%w: beacon state fixed part decoded to %d, want %d", ErrInvalidSSZ, d.pos, fixed)
	}
	if int(offs[0]) != fixed {
		return fmt.Errorf("%w: beacon state first offset %d, want %d", ErrInvalidSSZ, offs[0], fixed)
	}
	// Variable parts: part i spans [offs[i], offs[i+1]) and the last ends at len(buf).
	part := func(i int) ([]byte, error) {
		start := uint64(offs[i])
		end := uint64(len(buf))
		if i+1 < len(offs) {
			end = uint64(offs[i+1])
		}
		if start > end || end > uint64(len(buf)) {
			return nil, fmt.Errorf("%w: beacon state offsets out of order or beyond the end (%d..%d of %d)", ErrInvalidSSZ, start, end, len(buf))
		}
		return buf[start:end], nil
	}
	var parts [6][]byte
	for i := range parts {
		p, err := part(i)
		if err != nil {
			return err
		}
		parts[i] = p
	}
	var err error
	if n.HistoricalRoots, err = decodeRootList(parts[0], cfg.HistoricalRootsLimit, "historical_roots"); err != nil {
		return err
	}
	if n.Eth1DataVotes, err = decodeFixedList[Eth1Data](parts[1], eth1DataSize, cfg.SlotsPerEth1VotingPeriod, "eth1_data_votes"); err != nil {
		return err
	}
	if n.Validators, err = decodeValidators(parts[2], cfg.ValidatorRegistryLimit); err != nil {
		return err
	}
	if n.Balances, err = decodeGweiList(parts[3], cfg.ValidatorRegistryLimit, "balances"); err != nil {
		return err
	}
	if n.PreviousEpochAttestations, err = decodePendingList(parts[4], cfg.MaxPendingAttestations(), "previous_epoch_attestations"); err != nil {
		return err
	}
	if n.CurrentEpochAttestations, err = decodePendingList(parts[5], cfg.MaxPendingAttestations(), "current_epoch_attestations"); err != nil {
		return err
	}
	*s = *n
	return nil
}

// decoder reads the fixed part of a buffer whose length was checked up front.
type decoder struct {
	buf []byte
	pos int
}

func (d *decoder) next(n int) []byte {
	b := d.buf[d.pos : d.pos+n]
	d.pos += n
	return b
}
func (d *decoder) u64() uint64 { return binary.LittleEndian.Uint64(d.next(8)) }
func (d *decoder) u32() uint32 { return binary.LittleEndian.Uint32(d.next(4)) }
func (d *decoder) roots(dst []Root) {
	for i := range dst {
		copy(dst[i][:], d.next(32))
	}
}

func wrapSSZ(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrInvalidSSZ, what, err)
}

func checkListLen(b []byte, elem int, limit uint64, what string) (int, error) {
	if len(b)%elem != 0 {
		return 0, fmt.Errorf("%w: %s: %d bytes is not a multiple of %d", ErrInvalidSSZ, what, len(b), elem)
	}
	n := len(b) / elem
	if uint64(n) > limit {
		return 0, fmt.Errorf("%w: %s: %d elements, limit %d", ErrInvalidSSZ, what, n, limit)
	}
	return n, nil
}

func decodeRootList(b []byte, limit uint64, what string) ([]Root, error) {
	n, err := checkListLen(b, 32, limit, what)
	if err != nil {
		return nil, err
	}
	out := make([]Root, n)
	for i := range out {
		copy(out[i][:], b[32*i:])
	}
	return out, nil
}

func decodeGweiList(b []byte, limit uint64, what string) ([]Gwei, error) {
	n, err := checkListLen(b, 8, limit, what)
	if err != nil {
		return nil, err
	}
	out := make([]Gwei, n)
	for i := range out {
		out[i] = Gwei(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return out, nil
}

// fixedDecoder is a generated fixed-size container.
type fixedDecoder[T any] interface {
	*T
	UnmarshalSSZ([]byte) error
}

func decodeFixedList[T any, P fixedDecoder[T]](b []byte, size int, limit uint64, what string) ([]T, error) {
	n, err := checkListLen(b, size, limit, what)
	if err != nil {
		return nil, err
	}
	out := make([]T, n)
	for i := range out {
		if err := P(&out[i]).UnmarshalSSZ(b[size*i : size*(i+1)]); err != nil {
			return nil, fmt.Errorf("%w: %s[%d]: %w", ErrInvalidSSZ, what, i, err)
		}
	}
	return out, nil
}

func decodeValidators(b []byte, limit uint64) ([]Validator, error) {
	vs, err := decodeFixedList[Validator](b, validatorSize, limit, "validators")
	if err != nil {
		return nil, err
	}
	for i := range vs {
		// The generated decoder reads any non-one byte as false; SSZ allows only 0 and 1.
		if flag := b[validatorSize*i+88]; flag > 1 {
			return nil, fmt.Errorf("%w: validators[%d].slashed is %d, not a boolean", ErrInvalidSSZ, i, flag)
		}
	}
	return vs, nil
}

func decodePendingList(b []byte, limit uint64, what string) ([]PendingAttestation, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if len(b) < offsetSize {
		return nil, fmt.Errorf("%w: %s: %d bytes, too short for an offset", ErrInvalidSSZ, what, len(b))
	}
	first := binary.LittleEndian.Uint32(b)
	if first%offsetSize != 0 || first == 0 || int(first) > len(b) {
		return nil, fmt.Errorf("%w: %s: bad first offset %d", ErrInvalidSSZ, what, first)
	}
	n := int(first / offsetSize)
	if uint64(n) > limit {
		return nil, fmt.Errorf("%w: %s: %d elements, limit %d", ErrInvalidSSZ, what, n, limit)
	}
	out := make([]PendingAttestation, n)
	for i := 0; i < n; i++ {
		start := binary.LittleEndian.Uint32(b[offsetSize*i:])
		end := uint32(len(b))
		if i+1 < n {
			end = binary.LittleEndian.Uint32(b[offsetSize*(i+1):])
		}
		if start > end || int(end) > len(b) {
			return nil, fmt.Errorf("%w: %s: offsets out of order at %d", ErrInvalidSSZ, what, i)
		}
		if err := out[i].UnmarshalSSZ(b[start:end]); err != nil {
			return nil, fmt.Errorf("%w: %s[%d]: %w", ErrInvalidSSZ, what, i, err)
		}
	}
	return out, nil
}

// SizeSSZ returns the encoded size of h.
func (h *HistoricalBatch) SizeSSZ() int { return 32 * (len(h.BlockRoots) + len(h.StateRoots)) }

// MarshalSSZ encodes h; both vectors must have length SLOTS_PER_HISTORICAL_ROOT
// of the config the caller uses (the encoding itself does not record it).
func (h *HistoricalBatch) MarshalSSZ() ([]byte, error) {
	if len(h.BlockRoots) != len(h.StateRoots) {
		return nil, fmt.Errorf("%w: historical batch vectors differ in length (%d, %d)", ErrInvalidSSZ, len(h.BlockRoots), len(h.StateRoots))
	}
	dst := make([]byte, 0, h.SizeSSZ())
	dst = appendRoots(dst, h.BlockRoots)
	return appendRoots(dst, h.StateRoots), nil
}

// UnmarshalHistoricalBatch decodes a HistoricalBatch shaped for cfg.
func UnmarshalHistoricalBatch(cfg *params.Config, buf []byte) (*HistoricalBatch, error) {
	n := int(cfg.SlotsPerHistoricalRoot)
	if len(buf) != 64*n {
		return nil, fmt.Errorf("%w: historical batch: %d bytes, want %d", ErrInvalidSSZ, len(buf), 64*n)
	}
	h := &HistoricalBatch{BlockRoots: make([]Root, n), StateRoots: make([]Root, n)}
	d := decoder{buf: buf}
	d.roots(h.BlockRoots)
	d.roots(h.StateRoots)
	return h, nil
}
