package spectest

import (
	"fmt"
	"regexp"
	"runtime"
	"sync"
	"time"
)

// Options configures Run.
type Options struct {
	// Dir holds the vectors: Dir/tests/<config>/... (Dir may also be the
	// tests directory itself).
	Dir string
	// Configs are the configs to run; empty means DefaultConfigs (minimal and
	// general). Each must exist under Dir.
	Configs []string
	// Filter, when set, is a regular expression; only cases whose Path
	// (config/runner/handler/suite/case) it matches are run. A plain substring
	// such as "ssz_static/Fork" is a valid filter.
	Filter string
	// Workers is the number of cases run at once; zero or less means
	// GOMAXPROCS.
	Workers int
	// Progress, when set, is called after each case with the number of cases
	// done and the total. Calls are serialised.
	Progress func(done, total int, res *Result)
	// Registry holds the handlers; nil means Default().
	Registry *Registry
}

// Run discovers the cases of opts.Configs under opts.Dir, keeps those matching
// opts.Filter and runs them on a pool of opts.Workers goroutines. The error is
// about the run itself (no vectors, bad filter); failing cases are in the
// Report.
func Run(opts Options) (*Report, error) {
	reg := opts.Registry
	if reg == nil {
		reg = Default()
	}
	var filter *regexp.Regexp
	if opts.Filter != "" {
		re, err := regexp.Compile(opts.Filter)
		if err != nil {
			return nil, fmt.Errorf("compile filter: %w", err)
		}
		filter = re
	}
	configs := opts.Configs
	if len(configs) == 0 {
		configs = DefaultConfigs
	}
	all, err := Discover(opts.Dir, configs)
	if err != nil {
		return nil, err
	}
	cases := all[:0:0]
	for _, c := range all {
		if filter == nil || filter.MatchString(c.Path()) {
			cases = append(cases, c)
		}
	}

	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	start := time.Now()
	rep := newReport(opts.Dir, configs, opts.Filter, reg)
	// Every case gets its result slot up front, so the report does not depend
	// on the order in which workers finish.
	results := make([]Result, len(cases))
	jobs := make(chan int)
	done := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(len(cases), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i] = reg.RunCase(cases[i])
				done <- i
			}
		}()
	}
	go func() {
		for i := range cases {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		close(done)
	}()
	n := 0
	for i := range done {
		n++
		if opts.Progress != nil {
			opts.Progress(n, len(cases), &results[i])
		}
	}
	for i := range results {
		rep.add(&results[i])
	}
	rep.finish(time.Since(start))
	return rep, nil
}
