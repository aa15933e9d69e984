package spectest

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// HandlerStats counts the cases of one (config, runner, handler).
type HandlerStats struct {
	Config  string `json:"config"`
	Runner  string `json:"runner"`
	Handler string `json:"handler"`
	// Registered is false when no Handler exists for the pair: all its cases
	// are then not run.
	Registered bool `json:"registered"`
	Passed     int  `json:"passed"`
	Failed     int  `json:"failed"`
	NotRun     int  `json:"not_run"`
}

// Name returns runner/handler.
func (h *HandlerStats) Name() string { return h.Runner + "/" + h.Handler }

// CaseError is a failed or declined case with its error text.
type CaseError struct {
	Case  string `json:"case"` // Case.Path
	Error string `json:"error"`
}

// Report is the outcome of Run.
type Report struct {
	Dir     string   `json:"dir"`
	Configs []string `json:"configs"`
	Filter  string   `json:"filter,omitempty"`

	// Handlers has one entry per (config, runner, handler) that had cases,
	// sorted by config (KnownConfigs order), runner and handler.
	Handlers []*HandlerStats `json:"handlers"`
	// Failures lists the failed cases in path order.
	Failures []CaseError `json:"failures"`
	// Declined lists the cases whose registered Handler returned ErrNotRun.
	// Cases without a Handler are only counted (see Handlers).
	Declined []CaseError `json:"declined,omitempty"`

	Passed  int     `json:"passed"`
	Failed  int     `json:"failed"`
	NotRun  int     `json:"not_run"`
	Seconds float64 `json:"seconds"`

	reg   *Registry
	index map[string]*HandlerStats
}

func newReport(dir string, configs []string, filter string, reg *Registry) *Report {
	return &Report{
		Dir:      dir,
		Configs:  slices.Clone(configs),
		Filter:   filter,
		Failures: []CaseError{},
		Handlers: []*HandlerStats{},
		reg:      reg,
		index:    make(map[string]*HandlerStats),
	}
}

func (r *Report) add(res *Result) {
	c := res.Case
	k := c.Config + "/" + key(c.Runner, c.Handler)
	st := r.index[k]
	if st == nil {
		_, ok := r.reg.Lookup(c.Runner, c.Handler)
		st = &HandlerStats{Config: c.Config, Runner: c.Runner, Handler: c.Handler, Registered: ok}
		r.index[k] = st
		r.Handlers = append(r.Handlers, st)
	}
	switch res.Status {
	case Passed:
		st.Passed++
		r.Passed++
	case Failed:
		st.Failed++
		r.Failed++
		r.Failures = append(r.Failures, CaseError{Case: c.Path(), Error: errText(res.Err)})
	case NotRun:
		st.NotRun++
		r.NotRun++
		if !errors.Is(res.Err, ErrNoHandler) {
			r.Declined = append(r.Declined, CaseError{Case: c.Path(), Error: errText(res.Err)})
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func configRank(c string) int {
	if i := slices.Index(KnownConfigs, c); i >= 0 {
		return i
	}
	return len(KnownConfigs)
}

func (r *Report) finish(d time.Duration) {
	slices.SortFunc(r.Handlers, func(a, b *HandlerStats) int {
		return cmp.Or(
			cmp.Compare(configRank(a.Config), configRank(b.Config)),
			cmp.Compare(a.Config, b.Config),
			cmp.Compare(a.Runner, b.Runner),
			cmp.Compare(a.Handler, b.Handler),
		)
	})
	byCase := func(a, b CaseError) int { return cmp.Compare(a.Case, b.Case) }
	slices.SortFunc(r.Failures, byCase)
	slices.SortFunc(r.Declined, byCase)
	r.Seconds = d.Seconds()
}

// OK reports whether no case failed. Cases that were not run do not make a
// report fail; callers that need every case run check NotRun or Unregistered.
func (r *Report) OK() bool { return r.Failed == 0 }

// Total is the number of cases in the report.
func (r *Report) Total() int { return r.Passed + r.Failed + r.NotRun }

// Unregistered lists the runner/handler pairs that had cases but no Handler,
// sorted and without duplicates across configs.
func (r *Report) Unregistered() []string {
	var out []string
	for _, h := range r.Handlers {
		if !h.Registered {
			out = append(out, h.Name())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Summary is the closing line: "N passed, M failed".
func (r *Report) Summary() string {
	return fmt.Sprintf("%d passed, %d failed", r.Passed, r.Failed)
}

// MaxListedFailures bounds the failures WriteText prints (the JSON form of a
// Report always has them all).
const MaxListedFailures = 200

// WriteText prints one line per config and runner/handler with its passed,
// failed and not-run counts, then the failures, the not-run total, and the
// Summary as the last line.
func (r *Report) WriteText(w io.Writer) error {
	cw, nw := len("config"), len("runner/handler")
	for _, h := range r.Handlers {
		cw, nw = max(cw, len(h.Config)), max(nw, len(h.Name()))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s  %-*s  %7s  %7s  %7s\n", cw, "config", nw, "runner/handler", "passed", "failed", "not run")
	for _, h := range r.Handlers {
		line := fmt.Sprintf("%-*s  %-*s  %7d  %7d  %7d", cw, h.Config, nw, h.Name(), h.Passed, h.Failed, h.NotRun)
		if !h.Registered {
			line += "  (no handler)"
		}
		b.WriteString(line + "\n")
	}
	for i, f := range r.Failures {
		if i == MaxListedFailures {
			fmt.Fprintf(&b, "... and %d more failures\n", len(r.Failures)-i)
			break
		}
		fmt.Fprintf(&b, "FAIL %s: %s\n", f.Case, indentTail(f.Error))
	}
	for i, d := range r.Declined {
		if i == MaxListedFailures {
			fmt.Fprintf(&b, "... and %d more cases not run\n", len(r.Declined)-i)
			break
		}
		fmt.Fprintf(&b, "NOT RUN %s: %s\n", d.Case, indentTail(d.Error))
	}
	if r.NotRun > 0 {
		fmt.Fprintf(&b, "%d not run", r.NotRun)
		if u := r.Unregistered(); len(u) > 0 {
			fmt.Fprintf(&b, " (no handler for %s)", strings.Join(u, ", "))
		}
		b.WriteString("\n")
	}
	b.WriteString(r.Summary() + "\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// indentTail indents the continuation lines of a multi-line error.
func indentTail(s string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}
