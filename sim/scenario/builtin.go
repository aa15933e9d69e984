package scenario

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

//go:embed builtin/*.yaml
var builtins embed.FS

// Builtin is an embedded scenario.
type Builtin struct {
	Name, Description string
}

// Builtins lists the embedded scenarios by name.
func Builtins() ([]Builtin, error) {
	entries, err := fs.ReadDir(builtins, "builtin")
	if err != nil {
		return nil, fmt.Errorf("list built-in scenarios: %w", err)
	}
	var out []Builtin
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".yaml")
		sc, err := LoadBuiltin(name)
		if err != nil {
			return nil, err
		}
		out = append(out, Builtin{Name: sc.Name, Description: sc.Description})
	}
	slices.SortFunc(out, func(a, b Builtin) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// builtinSource is the YAML of a built-in scenario.
func builtinSource(name string) ([]byte, error) {
	data, err := builtins.ReadFile(path.Join("builtin", name+".yaml"))
	if err != nil {
		return nil, fmt.Errorf("load scenario %q: %w: no such file or built-in (see 'shardlab scenario list')", name, ErrInvalid)
	}
	return data, nil
}

// LoadBuiltin parses a built-in scenario.
func LoadBuiltin(name string, sets ...string) (*Scenario, error) {
	data, err := builtinSource(name)
	if err != nil {
		return nil, err
	}
	return Parse("builtin/"+name+".yaml", data, sets...)
}

// Load parses a scenario file, or the built-in of that name when no such
// file exists.
func Load(fileOrName string, sets ...string) (*Scenario, error) {
	data, err := os.ReadFile(fileOrName)
	if err == nil {
		return Parse(fileOrName, data, sets...)
	}
	if !os.IsNotExist(err) || strings.ContainsAny(fileOrName, "/.") {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	return LoadBuiltin(fileOrName, sets...)
}
