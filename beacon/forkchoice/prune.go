package forkchoice

// Prune forgets what the fork choice can no longer use: every block (and its
// state) that descends neither from the finalized block nor from the
// justified block, and every checkpoint state of an epoch before the
// finalized epoch or of a forgotten block (the justified checkpoint's state is
// always kept). Latest messages are kept; one that names a forgotten block
// counts for nothing, as it would have in the spec, since such a block cannot
// descend from the justified block. It returns the number of blocks removed.
//
// If the finalized block is not in the store (which New and OnBlock never
// allow), Prune does nothing.
func (s *Store) Prune() int {
	fin, ok := s.nodes[s.finalized.Root]
	if !ok {
		return 0
	}
	keep := make(map[*node]bool, len(s.nodes))
	mark := func(top *node) {
		stack := []*node{top}
		for len(stack) > 0 {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if keep[n] {
				continue
			}
			keep[n] = true
			stack = append(stack, n.children...)
		}
	}
	mark(fin)
	if jn, ok := s.nodes[s.justified.Root]; ok {
		mark(jn)
	}
	removed := 0
	for root, n := range s.nodes {
		if !keep[n] {
			delete(s.nodes, root)
			removed++
		}
	}
	for _, n := range s.nodes {
		if n.parent != nil && !keep[n.parent] {
			n.parent = nil
		}
	}
	for cp := range s.checkpointStates {
		if cp == s.justified {
			continue
		}
		if _, ok := s.nodes[cp.Root]; !ok || cp.Epoch < s.finalized.Epoch {
			delete(s.checkpointStates, cp)
		}
	}
	for cp := range s.views {
		if _, ok := s.checkpointStates[cp]; !ok {
			delete(s.views, cp)
		}
	}
	return removed
}
