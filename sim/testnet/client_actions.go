package testnet

import (
	"context"
	"strconv"
)

// Client calls of the debug routes for exits, single validators' duties,
// wrong data root votes and receipt claim attacks (docs/api.md, "Debug
// API").

// Exit makes the node sign and gossip hosted validator v's voluntary
// exit; it returns the exit's epoch.
func (c *Client) Exit(ctx context.Context, v uint64) (uint64, error) {
	var d struct {
		Epoch u64 `json:"epoch"`
	}
	if err := c.post(ctx, debugPath+"exit", map[string]uint64{"validator": v}, &d); err != nil {
		return 0, err
	}
	return uint64(d.Epoch), nil
}

// SetValidatorDuties takes hosted validators offline (on false) or back
// online (on true; with no validators, all of them); it returns the
// node's validators offline now.
func (c *Client) SetValidatorDuties(ctx context.Context, validators []uint64, on bool) ([]uint64, error) {
	if validators == nil {
		validators = []uint64{}
	}
	var d struct {
		Offline []u64 `json:"offline"`
	}
	body := map[string]any{"validators": validators, "enabled": on}
	if err := c.post(ctx, debugPath+"validators/duties", body, &d); err != nil {
		return nil, err
	}
	return uints(d.Offline), nil
}

// WrongDataRootVotes makes the node cast, for the voters it hosts among
// the first share of shard's crosslink committee of the epoch that has
// just begun, a crosslink vote for a wrong data root at their duty slot.
// It returns the duty slot, every voter and the voters the node hosts.
func (c *Client) WrongDataRootVotes(ctx context.Context, shard uint64, share float64) (slot uint64, voters, hosted []uint64, err error) {
	var d struct {
		Slot   u64   `json:"slot"`
		Voters []u64 `json:"voters"`
		Hosted []u64 `json:"hosted"`
	}
	if err := c.post(ctx, debugPath+"wrong_data_root", map[string]any{"shard": shard, "share": share}, &d); err != nil {
		return 0, nil, nil, err
	}
	return uint64(d.Slot), uints(d.Voters), uints(d.Hosted), nil
}

func uints(vs []u64) []uint64 {
	out := make([]uint64, len(vs))
	for i, v := range vs {
		out[i] = uint64(v)
	}
	return out
}

// ReplayedClaim is a claim a shard node replayed (ClaimAttack): the shard
// whose chain included it, the shard it went to, and its receipt's source
// shard and nonce.
type ReplayedClaim struct {
	Shard, Target, Src, Nonce uint64
}

// ClaimAttack makes a shard node serving shard gossip again the latest
// claim its chain of shard included: to shard (kind "twice") or to
// another shard ("wrong_shard").
func (c *Client) ClaimAttack(ctx context.Context, shard uint64, kind string) (ReplayedClaim, error) {
	var d struct {
		Shard  u64 `json:"shard"`
		Target u64 `json:"target"`
		Src    u64 `json:"src"`
		Nonce  u64 `json:"nonce"`
	}
	if err := c.post(ctx, debugPath+"shards/"+strconv.FormatUint(shard, 10)+"/claim_attack", map[string]string{"kind": kind}, &d); err != nil {
		return ReplayedClaim{}, err
	}
	return ReplayedClaim{Shard: uint64(d.Shard), Target: uint64(d.Target), Src: uint64(d.Src), Nonce: uint64(d.Nonce)}, nil
}
