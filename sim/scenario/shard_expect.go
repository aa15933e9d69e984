package scenario

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Shard-layer expectations. Value checks (fraud_proofs, receipts_claimed,
// claims_rejected, garbage) pass when op value holds at some slot of the
// window; boolean checks pass when they hold (value 1, the default) or
// fail (value 0) as described at each.

// shardExpectKey reads the shard keys of an expectation.
func (p *parser) shardExpectKey(k string, v *yaml.Node, e *Expectation) {
	switch k {
	case "shard":
		e.Shard = p.uint(v)
	case "reason":
		e.Reason = p.str(v)
	case "account":
		e.Account = p.uint(v)
	}
}

// isShardCheck reports whether check is a shard-layer one.
func isShardCheck(check string) bool { return slices.Contains(shardChecks, check) }

// evaluateShard checks a shard-layer expectation against the report.
func evaluateShard(e Expectation, rep *Report) Outcome {
	o := Outcome{Name: e.Name, Check: e.Check, From: e.From, To: e.To}
	ser := rep.Shard
	if ser == nil || int(e.To) >= len(ser.Samples) {
		o.Expected, o.Observed = e.Check, "no shard samples"
		return o
	}
	want := !slices.Contains(boolChecks, e.Check) || e.Value != 0
	window := fmt.Sprintf("at slot %d", e.From)
	if e.To > e.From {
		window = fmt.Sprintf("within slots %d..%d", e.From, e.To)
	}
	switch e.Check {
	case "receipts_conserved":
		// Every slot of the window (not some): a single violation fails.
		o.Expected = fmt.Sprintf("receipts conserved at every slot %d..%d", e.From, e.To)
		o.Observed, o.Pass = "conserved", true
		for t := e.From; t <= e.To; t++ {
			if s := ser.Samples[t]; !s.Conserved {
				o.Observed, o.Pass = fmt.Sprintf("not conserved at slot %d (in flight %d Gwei)", t, s.InFlight), false
				break
			}
		}
		if !want {
			o.Expected, o.Pass = "receipts not conserved "+window, !o.Pass
		}
		return o
	case "crosslink_rolled_back":
		o.Expected = fmt.Sprintf("crosslink of shard %d rolled back %s", e.Shard, window)
		o.Observed = "not rolled back"
		for t := max(e.From, 1); t <= e.To; t++ {
			a, b := ser.Samples[t-1].Crosslinks[e.Shard], ser.Samples[t].Crosslinks[e.Shard]
			if b < a {
				o.Observed, o.Pass = fmt.Sprintf("end epoch %d -> %d at slot %d", a, b, t), true
				break
			}
		}
	case "fraud_crosslinked":
		o.Expected = fmt.Sprintf("a wrong data root is shard %d's current crosslink %s", e.Shard, window)
		o.Observed = "never"
		for t := e.From; t <= e.To; t++ {
			if r := ser.Samples[t].DataRoots[e.Shard]; slices.Contains(ser.WrongRoots, r) {
				o.Observed, o.Pass = fmt.Sprintf("data root %s at slot %d", r, t), true
				break
			}
		}
	case "offenders_slashed":
		offenders := slices.Clone(ser.Complicit)
		for _, f := range ser.Frauds {
			offenders = append(offenders, f.Proposer)
		}
		slices.Sort(offenders)
		offenders = slices.Compact(offenders)
		o.Expected = fmt.Sprintf("slashed = the offenders %v on every node %s", orEmpty(offenders), window)
		o.Observed = "no sample"
		for t := e.From; t <= e.To; t++ {
			o.Observed, o.Pass = holds(Expectation{Check: "slashed", Validators: offenders}, nodesOf(e, rep.Samples[t].Nodes))
			if o.Pass {
				break
			}
		}
	case "balance_change":
		key := accountKey(e.Shard, e.Account)
		a, b := ser.Samples[e.From].Balances[key], ser.Samples[e.To].Balances[key]
		change := float64(int64(b - a))
		o.Expected = fmt.Sprintf("balance of account %s changes by %s %g Gwei over slots %d..%d", key, e.Op, e.Value, e.From, e.To)
		o.Observed = fmt.Sprintf("%d -> %d (%+g)", a, b, change)
		o.Pass = compare(change, e.Op, e.Value)
		return o
	case "shard_claims", "claims_from_shard":
		if e.Op == "advancing" || e.Op == "not_advancing" {
			a, _ := shardValue(e, ser.Samples[e.From])
			b, _ := shardValue(e, ser.Samples[e.To])
			o.Expected = fmt.Sprintf("%s of shard %d %s over slots %d..%d", e.Check, e.Shard, strings.ReplaceAll(e.Op, "_", " "), e.From, e.To)
			o.Observed = fmt.Sprintf("%g -> %g", a, b)
			o.Pass = (e.Op == "advancing") == (b > a)
			return o
		}
		fallthrough
	default:
		o.Expected = fmt.Sprintf("%s %s %g %s", checkLabel(e), e.Op, e.Value, window)
		for t := e.From; t <= e.To; t++ {
			v, obs := shardValue(e, ser.Samples[t])
			o.Observed = obs
			if o.Pass = compare(v, e.Op, e.Value); o.Pass {
				if e.To > e.From {
					o.Observed += fmt.Sprintf(" (at slot %d)", t)
				}
				break
			}
		}
		return o
	}
	if !want {
		o.Expected = "not: " + o.Expected
		o.Pass = !o.Pass
	}
	return o
}

// nodesOf is the nodes of s the expectation looks at (all without nodes).
func nodesOf(e Expectation, all []NodeSample) []NodeSample {
	if len(e.Nodes) == 0 {
		return all
	}
	var out []NodeSample
	for _, i := range e.Nodes {
		if i < len(all) {
			out = append(out, all[i])
		}
	}
	return out
}

// checkLabel names a value check with its reason filter.
func checkLabel(e Expectation) string {
	if e.Reason != "" {
		return fmt.Sprintf("%s (%s)", e.Check, e.Reason)
	}
	return e.Check
}

// shardValue is a value check's value in s, and how it reads.
func shardValue(e Expectation, s ShardSample) (float64, string) {
	switch e.Check {
	case "fraud_proofs":
		return float64(s.FraudProofs), fmt.Sprint(s.FraudProofs)
	case "receipts_claimed":
		share := 0.0
		if s.ReceiptsSent > 0 {
			share = float64(s.ReceiptsClaimed) / float64(s.ReceiptsSent)
		}
		return share, fmt.Sprintf("%.3f (%d of %d)", share, s.ReceiptsClaimed, s.ReceiptsSent)
	case "claims_rejected":
		return countOf(s.ClaimsRefused, e.Reason), "refused: " + describe(s.ClaimsRefused) + fmt.Sprintf("; accepted %d", s.ClaimsAccepted)
	case "garbage":
		return countOf(s.Garbage, e.Reason), "garbage: " + describe(s.Garbage)
	case "shard_claims":
		return float64(s.ClaimedBy[e.Shard]), fmt.Sprint(s.ClaimedBy[e.Shard])
	case "claims_from_shard":
		return float64(s.ClaimedFrom[e.Shard]), fmt.Sprint(s.ClaimedFrom[e.Shard])
	}
	return 0, "unknown check"
}

// countOf is m[reason], or the sum of m for an empty reason.
func countOf(m map[string]uint64, reason string) float64 {
	if reason != "" {
		return float64(m[reason])
	}
	var n uint64
	for _, v := range m {
		n += v
	}
	return float64(n)
}

// describe formats counts by key, sorted.
func describe(m map[string]uint64) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// accountKey names account j of shard ("3/0").
func accountKey(shard, j uint64) string { return fmt.Sprintf("%d/%d", shard, j) }
