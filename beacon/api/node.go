package api

import (
	"net/http"
	"runtime"
	"slices"

	"github.com/shardlab/shardlab/beacon/types"
)

// The /eth/v1/node endpoints.

func (s *Server) nodeBackend() (NodeBackend, error) {
	if s.node == nil {
		return nil, Errorf(http.StatusServiceUnavailable, "node information is not available")
	}
	return s.node, nil
}

type identityMetadata struct {
	SeqNumber uint64
	// Attnets is always zero: v0.8.3 has no attestation subnets; the field
	// is there for Beacon API clients.
	Attnets [8]byte
}

type identity struct {
	PeerID             string
	ENR                string   `json:"enr"`
	P2PAddresses       []string `json:"p2p_addresses"`
	DiscoveryAddresses []string
	Metadata           identityMetadata
}

func (s *Server) nodeIdentity(w http.ResponseWriter, r *http.Request) error {
	node, err := s.nodeBackend()
	if err != nil {
		return err
	}
	return WriteData(w, identity{
		PeerID:             node.PeerID(),
		P2PAddresses:       nonNil(node.Addrs()),
		DiscoveryAddresses: []string{},
	})
}

type peer struct {
	PeerID             string
	ENR                string `json:"enr"`
	LastSeenP2PAddress string `json:"last_seen_p2p_address"`
	State              string
	Direction          string
}

func toPeer(p PeerInfo) peer {
	state := p.State
	if state == "" {
		state = "connected"
	}
	return peer{PeerID: p.PeerID, LastSeenP2PAddress: p.Addr, State: state, Direction: p.Direction}
}

var (
	peerStates     = []string{"disconnected", "connecting", "connected", "disconnecting"}
	peerDirections = []string{"inbound", "outbound"}
)

type peersResponse struct {
	Data []peer
	Meta struct {
		Count int
	}
}

func (s *Server) nodePeers(w http.ResponseWriter, r *http.Request) error {
	node, err := s.nodeBackend()
	if err != nil {
		return err
	}
	states := QueryValues(r, "state")
	for _, st := range states {
		if !slices.Contains(peerStates, st) {
			return Errorf(http.StatusBadRequest, "invalid peer state %q: want one of %v", truncate(st), peerStates)
		}
	}
	dirs := QueryValues(r, "direction")
	for _, d := range dirs {
		if !slices.Contains(peerDirections, d) {
			return Errorf(http.StatusBadRequest, "invalid peer direction %q: want inbound or outbound", truncate(d))
		}
	}
	resp := peersResponse{Data: []peer{}}
	for _, p := range node.Peers() {
		pp := toPeer(p)
		if len(states) > 0 && !slices.Contains(states, pp.State) {
			continue
		}
		if len(dirs) > 0 && !slices.Contains(dirs, pp.Direction) {
			continue
		}
		resp.Data = append(resp.Data, pp)
	}
	resp.Meta.Count = len(resp.Data)
	return WriteJSON(w, http.StatusOK, resp)
}

func (s *Server) nodePeer(w http.ResponseWriter, r *http.Request) error {
	node, err := s.nodeBackend()
	if err != nil {
		return err
	}
	id := r.PathValue("peer_id")
	for _, p := range node.Peers() {
		if p.PeerID == id {
			return WriteData(w, toPeer(p))
		}
	}
	return Errorf(http.StatusNotFound, "peer %q not found", truncate(id))
}

func (s *Server) nodePeerCount(w http.ResponseWriter, r *http.Request) error {
	node, err := s.nodeBackend()
	if err != nil {
		return err
	}
	counts := map[string]uint64{}
	for _, st := range peerStates {
		counts[st] = 0
	}
	for _, p := range node.Peers() {
		counts[toPeer(p).State]++
	}
	return WriteData(w, counts)
}

type syncing struct {
	HeadSlot     types.Slot
	SyncDistance uint64
	IsSyncing    bool
}

func (s *Server) nodeSyncing(w http.ResponseWriter, r *http.Request) error {
	node, err := s.nodeBackend()
	if err != nil {
		return err
	}
	st := node.SyncStatus()
	return WriteData(w, syncing{HeadSlot: st.HeadSlot, SyncDistance: st.SyncDistance, IsSyncing: st.IsSyncing})
}

// nodeHealth answers with a status and no body: 200 ready, 206 syncing (or
// the code of ?syncing_status=), 503 not ready.
func (s *Server) nodeHealth(w http.ResponseWriter, r *http.Request) error {
	syncCode := http.StatusPartialContent
	if v, ok, err := QueryUint(r, "syncing_status"); err != nil {
		return err
	} else if ok {
		if v < 100 || v > 599 {
			return Errorf(http.StatusBadRequest, "invalid syncing_status %d: want an HTTP status code", v)
		}
		syncCode = int(v)
	}
	code := http.StatusServiceUnavailable
	if s.node != nil {
		switch st := s.node.SyncStatus(); {
		case !st.Ready:
		case st.IsSyncing:
			code = syncCode
		default:
			code = http.StatusOK
		}
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(code)
	return nil
}

type version struct {
	Version string
}

func (s *Server) nodeVersion(w http.ResponseWriter, r *http.Request) error {
	v := ""
	if s.node != nil {
		v = s.node.Version()
	}
	if v == "" {
		v = "shardlab/dev/" + runtime.GOOS + "-" + runtime.GOARCH
	}
	return WriteData(w, version{Version: v})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
