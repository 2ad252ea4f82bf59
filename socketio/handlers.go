package socketio

import "slices"

// handlerSet holds a socket's event handlers, in registration order per
// event. A server typically registers a handful per socket, so a short
// flat list searched linearly (24 bytes a handler) replaces a map of
// slices (hundreds of bytes) until it grows past maxFlatHandlers.
type handlerSet struct {
	flat   []flatHandler
	once   uint16                // bit i set: flat[i] is a Once handler
	byName map[string][]listener // replaces flat once it would outgrow maxFlatHandlers
}

// maxFlatHandlers is the most handlers the flat list holds (bits of once).
const maxFlatHandlers = 16

type flatHandler struct {
	name string
	fn   func(*Event)
}

type listener struct {
	fn   func(*Event)
	once bool
}

func (h *handlerSet) add(name string, fn func(*Event), once bool) {
	if h.byName == nil && len(h.flat) == maxFlatHandlers {
		h.byName = make(map[string][]listener)
		for i, f := range h.flat {
			h.byName[f.name] = append(h.byName[f.name], listener{fn: f.fn, once: h.once&(1<<i) != 0})
		}
		h.flat, h.once = nil, 0
	}
	if h.byName != nil {
		h.byName[name] = append(h.byName[name], listener{fn: fn, once: once})
		return
	}
	if len(h.flat) == cap(h.flat) { // grow by a few: most sockets stop at a handful
		grown := make([]flatHandler, len(h.flat), min(cap(h.flat)+4, maxFlatHandlers))
		copy(grown, h.flat)
		h.flat = grown
	}
	if once {
		h.once |= 1 << len(h.flat)
	}
	h.flat = append(h.flat, flatHandler{name: name, fn: fn})
}

// trim gives the flat list its exact size: called once the connection
// handlers, which register most handlers, returned.
func (h *handlerSet) trim() {
	switch {
	case len(h.flat) == 0:
		h.flat = nil
	case len(h.flat) < cap(h.flat):
		h.flat = slices.Clone(h.flat)
	}
}

// remove drops every handler of name.
func (h *handlerSet) remove(name string) {
	if h.byName != nil {
		delete(h.byName, name)
		return
	}
	h.filter(func(f flatHandler, _ bool) bool { return f.name != name })
}

// filter keeps the flat handlers for which keep is true, in order.
func (h *handlerSet) filter(keep func(f flatHandler, once bool) bool) {
	n, mask := 0, uint16(0)
	for i, f := range h.flat {
		once := h.once&(1<<i) != 0
		if !keep(f, once) {
			continue
		}
		if once {
			mask |= 1 << n
		}
		h.flat[n] = f
		n++
	}
	clear(h.flat[n:]) // let the dropped funcs go
	h.flat, h.once = h.flat[:n], mask
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
	anyOnce := false
	for i, f := range h.flat {
		if f.name == name {
			once := h.once&(1<<i) != 0
			dst = append(dst, listener{fn: f.fn, once: once})
			anyOnce = anyOnce || once
		}
	}
	if anyOnce {
		h.filter(func(f flatHandler, once bool) bool { return !once || f.name != name })
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
