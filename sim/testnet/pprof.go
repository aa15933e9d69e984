package testnet

import "strconv"

// pprofPortOffset places process i's pprof endpoint on BasePort+300+i
// (Config.Pprof).
const pprofPortOffset = 300

// layoutPprof gives s its pprof port when the testnet profiles its nodes:
// from the port layout, or a free port without a base port.
func (c Config) layoutPprof(s *NodeSpec) error {
	if !c.Pprof {
		return nil
	}
	if c.BasePort > 0 {
		s.PprofPort = c.BasePort + pprofPortOffset + s.Index
		return nil
	}
	p, err := freePort(false)
	if err != nil {
		return err
	}
	s.PprofPort = p
	return nil
}

// PprofURL is the base URL of the node's pprof endpoint ("" without one).
func (s NodeSpec) PprofURL() string {
	if s.PprofPort == 0 {
		return ""
	}
	return "http://127.0.0.1:" + strconv.Itoa(s.PprofPort) + "/debug/pprof/"
}
