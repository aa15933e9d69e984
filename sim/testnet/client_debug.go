package testnet

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
)

// Client calls of the nodes' debug API (--debug-api, docs/api.md) and
// readers of what a scenario samples: the slashed validators, the peer
// identity and Prometheus metrics.

// PeerID returns the node's libp2p peer ID (/eth/v1/node/identity).
func (c *Client) PeerID(ctx context.Context) (string, error) {
	var d struct {
		PeerID string `json:"peer_id"`
	}
	if err := c.get(ctx, "/eth/v1/node/identity", &d); err != nil {
		return "", err
	}
	if d.PeerID == "" {
		return "", fmt.Errorf("GET /eth/v1/node/identity: %w: no peer_id", ErrHTTP)
	}
	return d.PeerID, nil
}

// HeadState returns the node's head state, read as SSZ from
// /eth/v1/debug/beacon/states/head and decoded with cfg (the node's chain
// config: it sizes the state's vectors).
func (c *Client) HeadState(ctx context.Context, cfg *params.Config) (*bt.BeaconState, error) {
	const path = "/eth/v1/debug/beacon/states/head"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/octet-stream")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxStateBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, statusError(http.MethodGet, path, resp.StatusCode, raw)
	}
	if len(raw) > maxStateBytes {
		return nil, fmt.Errorf("GET %s: %w: state larger than %d bytes", path, ErrHTTP, maxStateBytes)
	}
	st := bt.NewBeaconState(cfg)
	if err := st.UnmarshalSSZ(raw); err != nil {
		return nil, fmt.Errorf("GET %s: decode state: %w", path, err)
	}
	return st, nil
}

// maxStateBytes bounds a state HeadState reads (a 16,384-validator
// minimal-preset state is about 2 MB).
const maxStateBytes = 64 << 20

// ValidatorInfo is one validator of a state, as the validators route
// gives it.
type ValidatorInfo struct {
	Index, Balance             uint64
	Slashed                    bool
	ActivationEpoch, ExitEpoch uint64
}

// Validators returns every validator of the node's head state, by index.
func (c *Client) Validators(ctx context.Context) ([]ValidatorInfo, error) {
	var d []struct {
		Index     u64 `json:"index"`
		Balance   u64 `json:"balance"`
		Validator struct {
			Slashed         bool `json:"slashed"`
			ActivationEpoch u64  `json:"activation_epoch"`
			ExitEpoch       u64  `json:"exit_epoch"`
		} `json:"validator"`
	}
	if err := c.get(ctx, "/eth/v1/beacon/states/head/validators", &d); err != nil {
		return nil, err
	}
	out := make([]ValidatorInfo, len(d))
	for i, v := range d {
		out[i] = ValidatorInfo{Index: uint64(v.Index), Balance: uint64(v.Balance), Slashed: v.Validator.Slashed,
			ActivationEpoch: uint64(v.Validator.ActivationEpoch), ExitEpoch: uint64(v.Validator.ExitEpoch)}
	}
	slices.SortFunc(out, func(a, b ValidatorInfo) int { return cmp.Compare(a.Index, b.Index) })
	return out, nil
}

// Slashed returns the indices of the slashed validators of the node's head
// state, ascending.
func (c *Client) Slashed(ctx context.Context) ([]uint64, error) {
	vs, err := c.Validators(ctx)
	if err != nil {
		return nil, err
	}
	return SlashedOf(vs), nil
}

// SlashedOf returns the indices of the slashed validators among vs, in
// their order.
func SlashedOf(vs []ValidatorInfo) []uint64 {
	var out []uint64
	for _, v := range vs {
		if v.Slashed {
			out = append(out, v.Index)
		}
	}
	return out
}

// post sends a JSON body to a debug route and decodes the answer's data.
func (c *Client) post(ctx context.Context, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, path, b, out)
}

// debugPath is the prefix of the debug routes.
const debugPath = "/shardlab/v1/debug/"

// BlockPeers makes the node disconnect and refuse the peers.
func (c *Client) BlockPeers(ctx context.Context, peers []string) error {
	return c.post(ctx, debugPath+"peers/block", map[string][]string{"peers": peers}, nil)
}

// UnblockPeers lifts the node's blocklist (every peer when peers is
// empty).
func (c *Client) UnblockPeers(ctx context.Context, peers []string) error {
	return c.post(ctx, debugPath+"peers/unblock", map[string][]string{"peers": peers}, nil)
}

// SetDuties takes the node's validators offline (false) or back on.
func (c *Client) SetDuties(ctx context.Context, on bool) error {
	return c.post(ctx, debugPath+"duties", map[string]bool{"enabled": on}, nil)
}

// ByzantineVote makes hosted validator v cast a double vote (kind
// "double_vote") or a surround vote ("surround_vote") at its duty slot of
// the current epoch, which it returns.
func (c *Client) ByzantineVote(ctx context.Context, kind string, v uint64) (uint64, error) {
	var d struct {
		Slot u64 `json:"slot"`
	}
	if err := c.post(ctx, debugPath+kind, map[string]uint64{"validator": v}, &d); err != nil {
		return 0, err
	}
	return uint64(d.Slot), nil
}

// Equivocate arms the node to publish a second block if it proposes slot.
func (c *Client) Equivocate(ctx context.Context, slot uint64) error {
	return c.post(ctx, debugPath+"equivocate", map[string]uint64{"slot": slot}, nil)
}

// InvalidShardBlock makes a shard node publish, at the next slot, a block
// of shard with a wrong state root; it returns the block's slot and
// proposer.
func (c *Client) InvalidShardBlock(ctx context.Context, shard uint64) (slot, proposer uint64, err error) {
	return c.FraudShardBlock(ctx, shard, "state_root")
}

// FraudShardBlock is InvalidShardBlock for a kind of fraud: "state_root"
// or "early_claim" (a claim of a receipt not yet past the challenge
// window).
func (c *Client) FraudShardBlock(ctx context.Context, shard uint64, kind string) (slot, proposer uint64, err error) {
	var d struct {
		Slot     u64 `json:"slot"`
		Proposer u64 `json:"proposer"`
	}
	if err := c.post(ctx, debugPath+"shards/"+strconv.FormatUint(shard, 10)+"/invalid_block", map[string]string{"kind": kind}, &d); err != nil {
		return 0, 0, err
	}
	return uint64(d.Slot), uint64(d.Proposer), nil
}

// MetricsURL is the Prometheus endpoint of the node (its --metrics-port).
func (s NodeSpec) MetricsURL() string {
	return "http://127.0.0.1:" + strconv.Itoa(s.MetricsPort) + "/metrics"
}

// Metrics reads a Prometheus text exposition at url and returns the value
// of each wanted metric: a name, or a name with label matchers
// (beacon_validator_proposals_total{result="proposed"}); the values of
// every series matching it are summed. A wanted metric absent from the
// exposition is absent from the result.
func Metrics(ctx context.Context, url string, wanted []string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read metrics: %w: %s", ErrHTTP, resp.Status)
	}
	sels := make([]MetricSelector, len(wanted))
	for i, w := range wanted {
		if sels[i], err = ParseMetricSelector(w); err != nil {
			return nil, err
		}
	}
	return sumMetrics(resp.Body, wanted, sels)
}

// sumMetrics sums the samples of the exposition matching each selector.
func sumMetrics(r io.Reader, wanted []string, sels []MetricSelector) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(io.LimitReader(r, 64<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, labels, value, ok := parseSample(line)
		if !ok {
			continue
		}
		for i, s := range sels {
			if s.matches(name, labels) {
				out[wanted[i]] += value
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	return out, nil
}

// MetricSelector is a metric name with label matchers (equality only).
type MetricSelector struct {
	Name   string
	Labels map[string]string
}

// ParseMetricSelector reads `name` or `name{label="value",...}`.
func ParseMetricSelector(s string) (MetricSelector, error) {
	name, rest, hasLabels := strings.Cut(strings.TrimSpace(s), "{")
	sel := MetricSelector{Name: name}
	if !validMetricName(name) {
		return sel, fmt.Errorf("metric %q: expected a Prometheus metric name, optionally with {label=\"value\",...}", s)
	}
	if !hasLabels {
		return sel, nil
	}
	labels, ok := parseLabels(strings.TrimSuffix(rest, "}"))
	if !ok || !strings.HasSuffix(rest, "}") {
		return sel, fmt.Errorf("metric %q: expected labels as {label=\"value\",...}", s)
	}
	sel.Labels = labels
	return sel, nil
}

func (s MetricSelector) matches(name string, labels map[string]string) bool {
	if name != s.Name {
		return false
	}
	for k, v := range s.Labels {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func validMetricName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r == '_' || r == ':' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9'
		if !ok {
			return false
		}
	}
	return true
}

// parseSample reads one sample line: name{labels} value [timestamp].
func parseSample(line string) (name string, labels map[string]string, value float64, ok bool) {
	rest := line
	if i := strings.IndexAny(line, "{ "); i >= 0 && line[i] == '{' {
		end := strings.LastIndex(line, "}")
		if end < i {
			return "", nil, 0, false
		}
		name, rest = line[:i], line[end+1:]
		if labels, ok = parseLabels(line[i+1 : end]); !ok {
			return "", nil, 0, false
		}
	} else {
		name, rest, _ = strings.Cut(line, " ")
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return "", nil, 0, false
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil || math.IsNaN(v) {
		return "", nil, 0, false
	}
	return name, labels, v, true
}

// parseLabels reads label="value" pairs separated by commas (values may
// hold escaped quotes).
func parseLabels(s string) (map[string]string, bool) {
	out := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), ",")) {
		k, rest, ok := strings.Cut(s, "=")
		if !ok || !validMetricName(strings.TrimSpace(k)) {
			return nil, false
		}
		rest = strings.TrimSpace(rest)
		if !strings.HasPrefix(rest, `"`) {
			return nil, false
		}
		var val strings.Builder
		i := 1
		for ; i < len(rest) && rest[i] != '"'; i++ {
			if rest[i] == '\\' && i+1 < len(rest) {
				i++
				switch rest[i] {
				case 'n':
					val.WriteByte('\n')
				default:
					val.WriteByte(rest[i])
				}
				continue
			}
			val.WriteByte(rest[i])
		}
		if i >= len(rest) {
			return nil, false
		}
		out[strings.TrimSpace(k)] = val.String()
		s = rest[i+1:]
	}
	return out, true
}
