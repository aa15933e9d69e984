package scenario

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// compileSchema compiles schema.json.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	data, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// asJSON turns a YAML document into the JSON value the schema checks.
func asJSON(t *testing.T, src []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSchemaAcceptsBuiltins checks every built-in against schema.json.
func TestSchemaAcceptsBuiltins(t *testing.T) {
	sch := compileSchema(t)
	entries, err := fs.ReadDir(builtins, "builtin")
	if err != nil || len(entries) == 0 {
		t.Fatalf("built-ins: %v", err)
	}
	for _, e := range entries {
		t.Run(e.Name(), func(t *testing.T) {
			src, err := builtins.ReadFile("builtin/" + e.Name())
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(asJSON(t, src)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSchemaRejects checks the schema and the parser agree on bad files.
func TestSchemaRejects(t *testing.T) {
	sch := compileSchema(t)
	tests := []struct{ name, src string }{
		{"unknown key", "name: x\nnetwrok: {}\n"},
		{"two actions", "name: x\ntimeline:\n  - {at: {slot: 1}, heal: true, crash: [1]}\n"},
		{"no at", "name: x\ntimeline:\n  - {heal: true}\n"},
		{"bad check", "name: x\nexpect:\n  - {check: finality, at: {epoch: 1}}\n"},
		{"slot and epoch", "name: x\ntimeline:\n  - {at: {slot: 1, epoch: 1}, heal: true}\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := sch.Validate(asJSON(t, []byte(tc.src))); err == nil {
				t.Fatal("schema accepted it")
			}
			if _, err := Parse("x.yaml", []byte(tc.src)); err == nil {
				t.Fatal("parser accepted it")
			}
		})
	}
}
