package engineio

// freeList is a bounded free list: unlike a sync.Pool, it never keeps more
// than its capacity, however many connections once let an item go.
type freeList[T any] chan T

// get returns a spare item, or ok false when none is left.
func (l freeList[T]) get() (item T, ok bool) {
	select {
	case item = <-l:
		return item, true
	default:
		return item, false
	}
}

// put keeps item if there is room, else drops it.
func (l freeList[T]) put(item T) {
	select {
	case l <- item:
	default:
	}
}
