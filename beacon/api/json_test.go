package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

func TestSnakeCase(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Slot", "slot"},
		{"ParentRoot", "parent_root"},
		{"Eth1Data", "eth1_data"},
		{"Eth1DataVotes", "eth1_data_votes"},
		{"Eth1DepositIndex", "eth1_deposit_index"},
		{"CustodyBit0Indices", "custody_bit_0_indices"},
		{"CustodyBit1Indices", "custody_bit_1_indices"},
		{"Header1", "header_1"},
		{"Attestation2", "attestation_2"},
		{"BLSPubkey", "bls_pubkey"},
		{"PeerID", "peer_id"},
		{"ShardFraudProofs", "shard_fraud_proofs"},
		{"ToShard", "to_shard"},
		{"ActivationEligibilityEpoch", "activation_eligibility_epoch"},
		{"CompactCommitteesRoots", "compact_committees_roots"},
		{"SrcSlot", "src_slot"},
	}
	for _, tc := range tests {
		if got := SnakeCase(tc.in); got != tc.want {
			t.Errorf("SnakeCase(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSignedRejectsUnsigned(t *testing.T) {
	t.Parallel()
	if _, err := EncodeSigned(&types.Checkpoint{}); err == nil {
		t.Fatal("EncodeSigned of a Checkpoint succeeded")
	}
	if err := DecodeSigned([]byte(`{"message":{},"signature":"0x"}`), &types.Checkpoint{}); !errors.Is(err, ErrInvalidJSON) {
		t.Fatalf("DecodeSigned of a Checkpoint: %v", err)
	}
}

func keysOf(t *testing.T, js []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(js))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// TestSpecFieldNames checks the JSON keys of containers against the v0.8.3
// spec's field names, in order.
func TestSpecFieldNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    any
		want string
	}{
		{types.NewBeaconState(params.Minimal()), "genesis_time slot fork latest_block_header block_roots state_roots historical_roots " +
			"eth1_data eth1_data_votes eth1_deposit_index validators balances start_shard randao_mixes active_index_roots " +
			"compact_committees_roots slashings previous_epoch_attestations current_epoch_attestations previous_crosslinks " +
			"current_crosslinks justification_bits previous_justified_checkpoint current_justified_checkpoint finalized_checkpoint"},
		{&types.Validator{}, "pubkey withdrawal_credentials effective_balance slashed activation_eligibility_epoch activation_epoch exit_epoch withdrawable_epoch"},
		{&types.IndexedAttestation{}, "custody_bit_0_indices custody_bit_1_indices data signature"},
		{&types.ProposerSlashing{}, "proposer_index header_1 header_2"},
		{&types.AttesterSlashing{}, "attestation_1 attestation_2"},
		{&types.Attestation{}, "aggregation_bits data custody_bits signature"},
		{&types.ShardBeaconBlockBody{}, "randao_reveal eth1_data graffiti proposer_slashings attester_slashings attestations deposits voluntary_exits transfers shard_fraud_proofs"},
		{&types.Crosslink{}, "shard parent_root start_epoch end_epoch data_root"},
		{&types.CompactCommittee{}, "pubkeys compact_validators"},
	}
	for _, tc := range tests {
		js, err := EncodeJSON(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(keysOf(t, js), " "); got != tc.want {
			t.Errorf("%T keys:\n got %s\nwant %s", tc.v, got, tc.want)
		}
	}
}

func TestJSONConventions(t *testing.T) {
	t.Parallel()
	type inner struct{ A uint64 }
	type sample struct {
		Max     uint64
		Small   uint8
		Signed  int
		Flag    bool
		Name    string
		Root    types.Root
		Bytes   []byte
		Bits    []byte `ssz:"bitlist" ssz-max:"16"`
		JBits   types.JustificationBits
		Nil     []uint64
		NilPtr  *inner
		Omitted *inner `json:",omitempty"`
		Renamed uint64 `json:"other"`
		Skipped uint64 `json:"-"`
		Map     map[string]string
		private uint64
	}
	v := sample{Max: ^uint64(0), Small: 7, Signed: -3, Flag: true, Name: "a\"<\x01é", Root: types.Root{0xab},
		Bytes: []byte{1, 2}, Bits: []byte{0x05}, JBits: 0x0b, Map: map[string]string{"b": "2", "a": "1"}}
	js, err := EncodeJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"max":"18446744073709551615","small":"7","signed":-3,"flag":true,"name":"a\"\u003c\u0001é",` +
		`"root":"0xab00000000000000000000000000000000000000000000000000000000000000","bytes":"0x0102","bits":"0x05",` +
		`"j_bits":"0x0b","nil":[],"nil_ptr":{"a":"0"},"other":"0","map":{"a":"1","b":"2"}}`
	if string(js) != want {
		t.Fatalf("got  %s\nwant %s", js, want)
	}
	var back sample
	if err := DecodeJSON(js, &back); err != nil {
		t.Fatal(err)
	}
	v.Nil, v.NilPtr = []uint64{}, &inner{}
	if diff := cmp.Diff(v, back, cmp.AllowUnexported(sample{})); diff != "" {
		t.Fatalf("round trip:\n%s", diff)
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		into any
		want string
	}{
		{"syntax", `{"epoch":`, &types.Checkpoint{}, "unexpected EOF"},
		{"trailing", `{"epoch":"1","root":"0x` + strings.Repeat("00", 32) + `"} {}`, &types.Checkpoint{}, "trailing data"},
		{"number not string", `{"epoch":1,"root":"0x` + strings.Repeat("00", 32) + `"}`, &types.Checkpoint{}, "epoch: want an unsigned integer as a decimal string, got a number"},
		{"negative", `{"epoch":"-1","root":"0x` + strings.Repeat("00", 32) + `"}`, &types.Checkpoint{}, `epoch: want an unsigned 64-bit integer`},
		{"overflow", `{"epoch":"18446744073709551616","root":"0x` + strings.Repeat("00", 32) + `"}`, &types.Checkpoint{}, "epoch: want an unsigned 64-bit"},
		{"hex without 0x", `{"epoch":"1","root":"` + strings.Repeat("00", 32) + `"}`, &types.Checkpoint{}, "root: want 0x-prefixed hex"},
		{"short root", `{"epoch":"1","root":"0x00"}`, &types.Checkpoint{}, "root: want 32 bytes of hex, got 1"},
		{"bad hex", `{"epoch":"1","root":"0xzz"}`, &types.Checkpoint{}, "root: want 0x-prefixed hex"},
		{"missing field", `{"epoch":"1"}`, &types.Checkpoint{}, `missing field "root"`},
		{"unknown field", `{"epoch":"1","root":"0x` + strings.Repeat("00", 32) + `","x":1}`, &types.Checkpoint{}, `unknown field "x"`},
		{"not an object", `[]`, &types.Checkpoint{}, "want an object, got an array"},
		{"null", `null`, &types.Checkpoint{}, "want an object, got null"},
		{"bool", `{"pubkey":"0x` + strings.Repeat("00", 48) + `","withdrawal_credentials":"0x` + strings.Repeat("00", 32) +
			`","effective_balance":"0","slashed":"yes","activation_eligibility_epoch":"0","activation_epoch":"0","exit_epoch":"0","withdrawable_epoch":"0"}`,
			&types.Validator{}, "slashed: want a boolean"},
		{"bitlist without delimiter", attestationJSON(`"0x00"`, `[]`), &types.Attestation{}, "aggregation_bits: bitlist has no delimiter bit"},
		{"bitlist empty", attestationJSON(`"0x"`, `[]`), &types.Attestation{}, "aggregation_bits: bitlist has no delimiter bit"},
		{"bitlist too long", attestationJSON(`"0x`+strings.Repeat("ff", 513)+`"`, `[]`), &types.Attestation{}, "exceeds its limit 4096"},
		{"fixed array length", `{"proof":["0x` + strings.Repeat("00", 32) + `"],"data":{}}`, &types.Deposit{}, "proof: want an array of exactly 33 elements, got 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := DecodeJSON([]byte(tc.in), tc.into)
			if !errors.Is(err, ErrInvalidJSON) {
				t.Fatalf("err = %v, want ErrInvalidJSON", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %q, want it to contain %q", err, tc.want)
			}
		})
	}
	err := DecodeJSON([]byte(`[1]`), new([]types.Root))
	if err == nil || !strings.Contains(err.Error(), "[0]: want 0x-prefixed hex") {
		t.Fatalf("element path: %v", err)
	}
	if err := DecodeJSON([]byte(`{}`), types.Checkpoint{}); !errors.Is(err, ErrInvalidJSON) {
		t.Fatalf("non-pointer: %v", err)
	}
}

func attestationJSON(bits, _ string) string {
	z32 := `"0x` + strings.Repeat("00", 32) + `"`
	cp := `{"epoch":"0","root":` + z32 + `}`
	return `{"aggregation_bits":` + bits + `,"data":{"beacon_block_root":` + z32 + `,"source":` + cp + `,"target":` + cp +
		`,"crosslink":{"shard":"0","parent_root":` + z32 + `,"start_epoch":"0","end_epoch":"0","data_root":` + z32 + `}},` +
		`"custody_bits":"0x01","signature":"0x` + strings.Repeat("00", 96) + `"}`
}

// TestDecodeListLimits checks ssz-max on lists of containers.
func TestDecodeListLimits(t *testing.T) {
	t.Parallel()
	var body types.BeaconBlockBody
	js, err := EncodeJSON(&body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	slashing, err := EncodeJSON(&types.AttesterSlashing{})
	if err != nil {
		t.Fatal(err)
	}
	var sm any
	_ = json.Unmarshal(slashing, &sm)
	m["attester_slashings"] = []any{sm, sm}
	in, _ := json.Marshal(m)
	err = DecodeJSON(in, &body)
	if err == nil || !strings.Contains(err.Error(), "attester_slashings: list of 2 elements exceeds its limit 1") {
		t.Fatalf("err = %v", err)
	}
	m["attester_slashings"] = []any{sm}
	transfer, _ := EncodeJSON(&types.Transfer{})
	var tm any
	_ = json.Unmarshal(transfer, &tm)
	m["transfers"] = []any{tm}
	in, _ = json.Marshal(m)
	err = DecodeJSON(in, &body)
	if err == nil || !strings.Contains(err.Error(), "transfers: list of 1 elements exceeds its limit 0") {
		t.Fatalf("err = %v", err)
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	far := types.FarFutureEpoch
	tests := []struct {
		name    string
		v       types.Validator
		balance types.Gwei
		epoch   types.Epoch
		want    ValidatorStatus
	}{
		{"initialized", types.Validator{ActivationEligibilityEpoch: far, ActivationEpoch: far, ExitEpoch: far, WithdrawableEpoch: far}, 1, 5, StatusPendingInitialized},
		{"queued", types.Validator{ActivationEligibilityEpoch: 3, ActivationEpoch: far, ExitEpoch: far, WithdrawableEpoch: far}, 1, 5, StatusPendingQueued},
		{"queued with epoch", types.Validator{ActivationEligibilityEpoch: 3, ActivationEpoch: 9, ExitEpoch: far, WithdrawableEpoch: far}, 1, 5, StatusPendingQueued},
		{"ongoing", types.Validator{ActivationEpoch: 5, ExitEpoch: far, WithdrawableEpoch: far}, 1, 5, StatusActiveOngoing},
		{"exiting", types.Validator{ActivationEpoch: 0, ExitEpoch: 9, WithdrawableEpoch: 20}, 1, 5, StatusActiveExiting},
		{"active slashed", types.Validator{Slashed: true, ExitEpoch: 9, WithdrawableEpoch: 20}, 1, 5, StatusActiveSlashed},
		{"exited", types.Validator{ExitEpoch: 5, WithdrawableEpoch: 20}, 1, 5, StatusExitedUnslashed},
		{"exited slashed", types.Validator{Slashed: true, ExitEpoch: 4, WithdrawableEpoch: 20}, 1, 5, StatusExitedSlashed},
		{"withdrawable", types.Validator{ExitEpoch: 4, WithdrawableEpoch: 5}, 1, 5, StatusWithdrawalPossible},
		{"withdrawn", types.Validator{ExitEpoch: 4, WithdrawableEpoch: 5}, 0, 5, StatusWithdrawalDone},
	}
	for _, tc := range tests {
		if got := Status(&tc.v, tc.balance, tc.epoch); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
	for _, s := range []ValidatorStatus{StatusActive, StatusPending, StatusExited, StatusWithdrawal, StatusActiveSlashed} {
		if !knownStatus(s) {
			t.Errorf("%s unknown", s)
		}
	}
	if knownStatus("frozen") {
		t.Error("frozen is known")
	}
	if !slices.Equal([]ValidatorStatus{StatusActiveExiting.General(), StatusWithdrawalDone.General()}, []ValidatorStatus{StatusActive, StatusWithdrawal}) {
		t.Error("General")
	}
}

func TestFraudProofsAsHex(t *testing.T) {
	t.Parallel()
	b := &types.ShardBeaconBlock{Body: types.ShardBeaconBlockBody{ShardFraudProofs: [][]byte{{1, 2, 3}, {}}}}
	js, err := EncodeSigned(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte(`"shard_fraud_proofs":["0x010203","0x"]`)) {
		t.Fatalf("fraud proofs not as hex strings: %s", js)
	}
	var back types.ShardBeaconBlock
	if err := DecodeSigned(js, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(b.Body.ShardFraudProofs, back.Body.ShardFraudProofs); diff != "" {
		t.Fatal(diff)
	}
	// At most MAX_SHARD_FRAUD_PROOFS (2) proofs.
	tooMany := bytes.Replace(js, []byte(`["0x010203","0x"]`), []byte(`["0x01","0x02","0x03"]`), 1)
	if err := DecodeSigned(tooMany, &back); err == nil || !strings.Contains(err.Error(), "shard_fraud_proofs: list of 3 elements exceeds its limit 2") {
		t.Fatalf("err = %v", err)
	}
}

func TestDecodeLeavesValueOnError(t *testing.T) {
	t.Parallel()
	att := &types.Attestation{AggregationBits: []byte{3}, Signature: types.BLSSignature{7}}
	bad := strings.Replace(attestationJSON(`"0x0f"`, ""), `"custody_bits":"0x01"`, `"custody_bits":"0x00"`, 1)
	if err := DecodeJSON([]byte(bad), att); err == nil {
		t.Fatal("decoded a bitlist without delimiter")
	}
	if !bytes.Equal(att.AggregationBits, []byte{3}) || att.Signature != (types.BLSSignature{7}) {
		t.Fatalf("failed decode modified the value: %+v", att)
	}
	blk := &types.BeaconBlock{Slot: 9}
	if err := DecodeSigned([]byte(`{"message":{"slot":"1"},"signature":"0x00"}`), blk); err == nil || blk.Slot != 9 {
		t.Fatalf("failed signed decode: %v, slot %d", err, blk.Slot)
	}
}
