package types

// AnyBlock is a beacon block of either kind: a phase 0 BeaconBlock, or a
// ShardBeaconBlock of the shard fork. Code that stores, forwards or chooses
// between blocks (fork choice, stores, the network) handles both through it;
// the state transition dispatches on the concrete type.
type AnyBlock interface {
	Codec
	HashTreeRoot() ([32]byte, error)
	SigningRoot() (Root, error)
	GetSlot() Slot
	GetParentRoot() Root
	GetStateRoot() Root
}

var (
	_ AnyBlock = (*BeaconBlock)(nil)
	_ AnyBlock = (*ShardBeaconBlock)(nil)
)

// GetSlot returns b.Slot.
func (b *BeaconBlock) GetSlot() Slot { return b.Slot }

// GetParentRoot returns b.ParentRoot.
func (b *BeaconBlock) GetParentRoot() Root { return b.ParentRoot }

// GetStateRoot returns b.StateRoot.
func (b *BeaconBlock) GetStateRoot() Root { return b.StateRoot }

// GetSlot returns b.Slot.
func (b *ShardBeaconBlock) GetSlot() Slot { return b.Slot }

// GetParentRoot returns b.ParentRoot.
func (b *ShardBeaconBlock) GetParentRoot() Root { return b.ParentRoot }

// GetStateRoot returns b.StateRoot.
func (b *ShardBeaconBlock) GetStateRoot() Root { return b.StateRoot }
