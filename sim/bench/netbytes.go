package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shardlab/shardlab/p2p"
)

// netBytes are a process's libp2p stream bytes so far.
type netBytes struct{ in, out float64 }

// parseBandwidth sums the p2p.BandwidthMetric samples of a Prometheus text
// exposition by direction (a shard node's beacon and shard hosts each
// report theirs); ok is false without any.
func parseBandwidth(r io.Reader) (b netBytes, ok bool, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, p2p.BandwidthMetric+"{") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, perr := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || perr != nil {
			return b, ok, fmt.Errorf("parse %s sample %q", p2p.BandwidthMetric, line)
		}
		switch labels := line[:i]; {
		case strings.Contains(labels, `direction="in"`):
			b.in += v
		case strings.Contains(labels, `direction="out"`):
			b.out += v
		default:
			continue
		}
		ok = true
	}
	return b, ok, sc.Err()
}

// readBandwidth scrapes a node's metrics endpoint (http://127.0.0.1:PORT).
func readBandwidth(ctx context.Context, port int) (netBytes, bool) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(port)+"/metrics", nil)
	if err != nil {
		return netBytes{}, false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return netBytes{}, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return netBytes{}, false
	}
	b, ok, err := parseBandwidth(resp.Body)
	return b, ok && err == nil
}
