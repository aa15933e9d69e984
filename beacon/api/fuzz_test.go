package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/shardlab/shardlab/beacon/api"
	"github.com/shardlab/shardlab/beacon/types"
)

// FuzzParseIDs: the id parsers never panic, and what they accept prints
// back to an equivalent id.
func FuzzParseIDs(f *testing.F) {
	for _, s := range []string{"head", "genesis", "finalized", "justified", "0", "43", "18446744073709551615",
		"18446744073709551616", "0x" + strings.Repeat("ab", 32), "0x" + strings.Repeat("ab", 48), "0x", "", "-1", "+1", " 1", "0x0G"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if id, err := api.ParseBlockID(s); err == nil {
			if id.Kind == api.IDRoot && id.Root.String() != strings.ToLower(s) {
				t.Fatalf("root %q parsed as %s", s, id.Root)
			}
		} else if api.StatusOf(err) != http.StatusBadRequest {
			t.Fatalf("ParseBlockID(%q): status %d", s, api.StatusOf(err))
		}
		sid, err1 := api.ParseStateID(s)
		bid, err2 := api.ParseBlockID(s)
		if (err1 == nil) != (err2 == nil) || (err1 == nil && api.BlockID(sid) != bid) {
			t.Fatalf("state and block ids differ on %q", s)
		}
		if v, err := api.ParseValidatorID(s); err == nil && v.IsPubkey && v.Pubkey.String() != strings.ToLower(s) {
			t.Fatalf("pubkey %q parsed as %s", s, v.Pubkey)
		}
	})
}

// FuzzDecodeJSON: decoding arbitrary input into containers never panics;
// what decodes re-encodes to JSON that decodes to the same value.
func FuzzDecodeJSON(f *testing.F) {
	c := testChain(f)
	blk := c.Blocks[c.Canonical[9]].(*types.ShardBeaconBlock)
	signed, _ := api.EncodeSigned(blk)
	att, _ := api.EncodeJSON(blk.Body.Attestations[0])
	cp, _ := api.EncodeJSON(&types.Checkpoint{Epoch: 3})
	for _, s := range [][]byte{signed, att, cp, []byte(`{}`), []byte(`[]`), []byte(`{"message":{},"signature":"0x"}`), []byte(`"0x"`), []byte(`null`)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, mk := range []func() any{
			func() any { return new(types.Attestation) },
			func() any { return new(types.Checkpoint) },
			func() any { return new(types.ShardBeaconBlockBody) },
		} {
			v := mk()
			if api.DecodeJSON(data, v) != nil {
				continue
			}
			js, err := api.EncodeJSON(v)
			if err != nil {
				t.Fatalf("re-encode %T: %v", v, err)
			}
			w := mk()
			if err := api.DecodeJSON(js, w); err != nil {
				t.Fatalf("decode re-encoded %T: %v", v, err)
			}
			again, _ := api.EncodeJSON(w)
			if !bytes.Equal(js, again) {
				t.Fatalf("%T: encodings differ", v)
			}
		}
		var b types.ShardBeaconBlock
		if api.DecodeSigned(data, &b) == nil {
			if _, err := b.MarshalSSZ(); err != nil {
				t.Fatalf("a decoded block does not encode to SSZ: %v", err)
			}
		}
	})
}

// FuzzRequests sends arbitrary paths, queries and bodies through the
// server: it never panics and always answers with a status and, for
// errors, the JSON error body.
func FuzzRequests(f *testing.F) {
	srv, _ := newServer(f)
	h := srv.Handler()
	for _, s := range []string{
		"/eth/v1/beacon/headers/head", "/eth/v1/beacon/states/5/committees?epoch=0&slot=3&index=1",
		"/eth/v1/beacon/states/head/validators?id=1,0x12&status=active", "/eth/v1/beacon/blocks/0x00",
		"/eth/v1/debug/beacon/states/justified", "/eth/v1/node/health?syncing_status=299",
		"/eth/v1/beacon/headers?parent_root=0x" + strings.Repeat("00", 32),
	} {
		f.Add("GET", s, "", "")
	}
	f.Add("POST", "/eth/v1/beacon/states/head/validators", "application/json", `{"ids":["1"]}`)
	f.Fuzz(func(t *testing.T, method, target, contentType, body string) {
		if method != "GET" && method != "POST" && method != "HEAD" {
			method = "GET"
		}
		u, err := url.ParseRequestURI(target)
		if err != nil || !strings.HasPrefix(u.Path, "/") {
			return
		}
		req, err := http.NewRequest(method, "http://x"+u.RequestURI(), strings.NewReader(body))
		if err != nil {
			return
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code < 200 || rec.Code > 599 {
			t.Fatalf("status %d", rec.Code)
		}
		health := strings.HasPrefix(u.Path, "/eth/v1/node/health") && rec.Code != http.StatusBadRequest
		if rec.Code >= 400 && method != "HEAD" && !health && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: %d with a non-JSON body %q", method, target, rec.Code, rec.Body)
		}
	})
}
