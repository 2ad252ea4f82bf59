package socketio

import (
	"slices"
	"sync"
	"sync/atomic"
)

// handlerSet holds a socket's event handlers, in registration order per
// event. A server typically registers the same handful of handlers on
// every socket, so the flat form keeps only the funcs per socket (8 bytes
// a handler) and points to a list of their names shared by every socket
// that registered the same names in the same order; the names are searched
// linearly. Past maxFlatHandlers the handlers move to a map of slices.
type handlerSet struct {
	names  *nameSeq       // names[i] is fns[i]'s event; nil when empty
	fns    []func(*Event) // the flat handlers
	once   uint16         // bit i set: fns[i] is a Once handler
	byName map[string][]listener
}

// maxFlatHandlers is the most handlers the flat form holds (bits of once).
const maxFlatHandlers = 16

type listener struct {
	fn   func(*Event)
	once bool
}

// nameSeq is a list of handler names. A shared one is a node of a
// process-wide trie, immutable but for its children: the sockets that
// registered the same names in the same order share it. A private one
// belongs to one socket's handlerSet (guarded by its Socket.mu).
type nameSeq struct {
	list    []string
	private bool

	mu   sync.Mutex          // guards next
	next map[string]*nameSeq // shared children: list plus one name
}

var (
	rootNames   = &nameSeq{}
	sharedNodes atomic.Int32 // trie nodes, bounded: dynamic names make private lists instead
)

const maxSharedNodes = 4096

// with returns the list plus name: a shared child, or (for a private list,
// or once the trie is full) a private list.
func (q *nameSeq) with(name string) *nameSeq {
	if q.private {
		q.list = append(q.list, name)
		return q
	}
	q.mu.Lock()
	child := q.next[name]
	if child == nil && sharedNodes.Add(1) <= maxSharedNodes {
		child = &nameSeq{list: append(slices.Clip(q.list), name)}
		if q.next == nil {
			q.next = make(map[string]*nameSeq)
		}
		q.next[name] = child
	}
	q.mu.Unlock()
	if child == nil {
		return &nameSeq{list: append(slices.Clip(q.list), name), private: true}
	}
	return child
}

func (h *handlerSet) add(name string, fn func(*Event), once bool) {
	if h.byName == nil && len(h.fns) == maxFlatHandlers {
		h.byName = make(map[string][]listener)
		for i, f := range h.fns {
			n := h.names.list[i]
			h.byName[n] = append(h.byName[n], listener{fn: f, once: h.once&(1<<i) != 0})
		}
		h.names, h.fns, h.once = nil, nil, 0
	}
	if h.byName != nil {
		h.byName[name] = append(h.byName[name], listener{fn: fn, once: once})
		return
	}
	if h.names == nil {
		h.names = rootNames
	}
	h.names = h.names.with(name)
	if len(h.fns) == cap(h.fns) { // grow by a few: most sockets stop at a handful
		grown := make([]func(*Event), len(h.fns), min(cap(h.fns)+4, maxFlatHandlers))
		copy(grown, h.fns)
		h.fns = grown
	}
	if once {
		h.once |= 1 << len(h.fns)
	}
	h.fns = append(h.fns, fn)
}

// trim gives the flat list its exact size: called once the connection
// handlers, which register most handlers, returned.
func (h *handlerSet) trim() {
	switch {
	case len(h.fns) == 0:
		h.fns = nil
	case len(h.fns) < cap(h.fns):
		h.fns = slices.Clone(h.fns)
	}
}

// remove drops every handler of name.
func (h *handlerSet) remove(name string) {
	if h.byName != nil {
		delete(h.byName, name)
		return
	}
	h.filter(func(n string, _ bool) bool { return n != name })
}

// filter keeps the flat handlers for which keep is true, in order; the
// names become a private list.
func (h *handlerSet) filter(keep func(name string, once bool) bool) {
	if h.names == nil {
		return
	}
	names := h.names.list
	if !h.names.private {
		names = slices.Clone(names)
	}
	n, mask := 0, uint16(0)
	for i, f := range h.fns {
		once := h.once&(1<<i) != 0
		if !keep(names[i], once) {
			continue
		}
		if once {
			mask |= 1 << n
		}
		h.fns[n], names[n] = f, names[i]
		n++
	}
	clear(h.fns[n:]) // let the dropped funcs go
	clear(names[n:])
	h.fns, h.once = h.fns[:n], mask
	if n == 0 {
		h.names = nil
		return
	}
	h.names = &nameSeq{list: names[:n], private: true}
}

// take appends the handlers of name to dst, in order, and drops those of
// them registered with Once.
func (h *handlerSet) take(dst []listener, name string) []listener {
	if h.byName != nil {
		list := h.byName[name]
		dst = append(dst, list...)
		if hasOnce(list) {
			n := 0
			for _, l := range list {
				if !l.once {
					list[n] = l
					n++
				}
			}
			clear(list[n:])
			if n == 0 {
				delete(h.byName, name)
			} else {
				h.byName[name] = list[:n]
			}
		}
		return dst
	}
	if h.names == nil {
		return dst
	}
	anyOnce := false
	for i, n := range h.names.list {
		if n == name {
			once := h.once&(1<<i) != 0
			dst = append(dst, listener{fn: h.fns[i], once: once})
			anyOnce = anyOnce || once
		}
	}
	if anyOnce {
		h.filter(func(n string, once bool) bool { return !once || n != name })
	}
	return dst
}

func hasOnce(list []listener) bool {
	for _, l := range list {
		if l.once {
			return true
		}
	}
	return false
}
