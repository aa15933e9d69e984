package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shardlab/shardlab/sim/testnet"
)

// Profile is a CPU profile written during the measured window.
type Profile struct {
	// Name is the process's name (beacon-0, shard-1) or "bench" for the
	// benchmark itself; Path the file (pprof format: `go tool pprof -top
	// PATH`).
	Name string `json:"name"`
	Path string `json:"path"`
}

// profiler collects CPU profiles of the window: every node's through its
// pprof endpoint (testnet.Config.Pprof), the benchmark's with
// runtime/pprof.
type profiler struct {
	dir    string
	client *http.Client

	wg    sync.WaitGroup
	mu    sync.Mutex
	out   []Profile
	notes []string
	self  *os.File
}

// newProfiler returns a profiler writing into dir (created).
func newProfiler(dir string) (*profiler, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cpu profile dir: %w", err)
	}
	return &profiler{dir: dir, client: &http.Client{}}, nil
}

// start begins profiling every process with a pprof port for window
// (rounded up to whole seconds, the endpoint's unit) and the benchmark
// until stop.
func (p *profiler) start(ctx context.Context, procs []*testnet.Process, window time.Duration) {
	secs := int(math.Ceil(window.Seconds()))
	for _, pr := range procs {
		url := pr.Spec.PprofURL()
		if url == "" {
			p.note(pr.Spec.Name + ": no pprof endpoint")
			continue
		}
		name := pr.Spec.Name
		p.wg.Go(func() { p.fetch(ctx, name, fmt.Sprintf("%sprofile?seconds=%d", url, secs)) })
	}
	path := filepath.Join(p.dir, "bench.pprof")
	f, err := os.Create(path)
	if err != nil {
		p.note("bench: " + err.Error())
		return
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		p.note("bench: " + err.Error())
		return
	}
	p.self = f
}

// fetch writes one node's profile.
func (p *profiler) fetch(ctx context.Context, name, url string) {
	path := filepath.Join(p.dir, name+".pprof")
	if err := download(ctx, p.client, url, path); err != nil {
		p.note(fmt.Sprintf("%s: %v", name, err))
		return
	}
	p.add(Profile{Name: name, Path: path})
}

// download writes url's body into path.
func download(ctx context.Context, c *http.Client, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("fetch cpu profile: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("fetch cpu profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("fetch cpu profile: %s: %s", resp.Status, b)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write cpu profile: %w", err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("write cpu profile: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write cpu profile: %w", err)
	}
	return nil
}

// stop ends the benchmark's profile, waits for the nodes' and returns
// every profile written and what failed.
func (p *profiler) stop() ([]Profile, []string) {
	if p.self != nil {
		pprof.StopCPUProfile()
		if err := p.self.Close(); err != nil {
			p.note("bench: " + err.Error())
		} else {
			p.add(Profile{Name: "bench", Path: p.self.Name()})
		}
		p.self = nil
	}
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	slices.SortFunc(p.out, func(a, b Profile) int { return strings.Compare(a.Name, b.Name) })
	return p.out, p.notes
}

func (p *profiler) add(pr Profile) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out = append(p.out, pr)
}

func (p *profiler) note(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.notes = append(p.notes, "cpu profile "+s)
}
