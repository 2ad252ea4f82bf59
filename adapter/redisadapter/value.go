package redisadapter

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/seed9706/socketio/adapter"
	"github.com/seed9706/socketio/parser"
)

// The adapters exchange JavaScript values, as JSON or as msgpack. Both are
// decoded into, and encoded from, one small tree of Go values:
//
//	nil, undefined{}, bool, float64 (every JS number), string, []byte (a Buffer),
//	[]any, *object (keys in JS property order), rawJSON (outgoing only)
//
// Keeping JS semantics in the tree (numbers are doubles, objects keep
// property order, undefined is not null) is what makes the bytes we publish
// match notepack.io and JSON.stringify.

// undefined is JS undefined: left out of objects, null in JSON arrays.
type undefined struct{}

// rawJSON is already-encoded JSON embedded in an outgoing message.
type rawJSON []byte

// object is a JS object. Keys are stored in insertion order; ordered()
// lists them as Object.keys does: integer-like keys first, ascending, then
// the others in insertion order.
type object struct {
	keys   []string
	vals   []any
	hasInt bool           // some key is integer-like
	pos    map[string]int // key -> index, built once the object grows large
}

// indexAfter is the size from which object lookups use a map.
const indexAfter = 16

// maxDepth bounds the nesting of decoded values (JSON and msgpack).
const maxDepth = 500

var (
	errDepth     = errors.New("redisadapter: value nested too deeply")
	errTruncated = errors.New("redisadapter: truncated msgpack")
)

func newObject(pairs ...any) *object {
	o := &object{}
	for i := 0; i+1 < len(pairs); i += 2 {
		o.set(pairs[i].(string), pairs[i+1])
	}
	return o
}

// arrayIndex reports whether k is a canonical array index (JS integer key).
func arrayIndex(k string) (uint64, bool) {
	if k == "" || len(k) > 10 || (k[0] == '0' && len(k) > 1) {
		return 0, false
	}
	n, err := strconv.ParseUint(k, 10, 64)
	return n, err == nil && n < math.MaxUint32
}

func (o *object) index(k string) int {
	if o.pos != nil {
		if i, ok := o.pos[k]; ok {
			return i
		}
		return -1
	}
	for i, key := range o.keys {
		if key == k {
			return i
		}
	}
	return -1
}

// set assigns k like a JS property assignment: an existing key keeps its place.
func (o *object) set(k string, v any) {
	if i := o.index(k); i >= 0 {
		o.vals[i] = v
		return
	}
	if _, ok := arrayIndex(k); ok {
		o.hasInt = true
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
	switch {
	case o.pos != nil:
		o.pos[k] = len(o.keys) - 1
	case len(o.keys) > indexAfter:
		o.pos = make(map[string]int, 2*len(o.keys))
		for i, key := range o.keys {
			o.pos[key] = i
		}
	}
}

// ordered returns the indexes of the keys in Object.keys order, nil when
// it is the insertion order (no integer-like key).
func (o *object) ordered() []int {
	if !o.hasInt {
		return nil
	}
	idx := make([]int, len(o.keys))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		an, aInt := arrayIndex(o.keys[a])
		bn, bInt := arrayIndex(o.keys[b])
		switch {
		case aInt && bInt:
			return cmp.Compare(an, bn)
		case aInt != bInt:
			if aInt {
				return -1
			}
			return 1
		}
		return 0 // other keys keep their insertion order
	})
	return idx
}

func (o *object) get(k string) any {
	if o == nil {
		return nil
	}
	if i := o.index(k); i >= 0 {
		return o.vals[i]
	}
	return nil
}

func (o *object) has(k string) bool {
	if o == nil {
		return false
	}
	i := o.index(k)
	return i >= 0 && o.vals[i] != (undefined{})
}

// Accessors that read a field the way the JS code would use it.

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(v any) (float64, bool) {
	f, ok := v.(float64)
	return f, ok
}

func obj(v any) *object {
	o, _ := v.(*object)
	return o
}

// strs reads an array of room names; numbers become their JS string form.
func strs(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		switch e := e.(type) {
		case string:
			out = append(out, e)
		case float64:
			b, _ := parser.Marshal(e)
			out = append(out, string(b))
		}
	}
	return out
}

func strList(list []string) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
}

// decodeMessage decodes a request or response: JSON when the first byte is
// '{', msgpack otherwise (the rule of @socket.io/redis-adapter).
func decodeMessage(b []byte) (any, error) {
	if len(b) > 0 && b[0] == '{' {
		return parseJSON(b, nil)
	}
	return decodeMsgpack(b)
}

// jsonWriter writes a tree as JSON.stringify would. In packet mode, []byte
// becomes a placeholder and an attachment (what socket.io-parser does);
// otherwise it is written as Buffer.toJSON: {"type":"Buffer","data":[...]}.
type jsonWriter struct {
	buf         []byte
	packet      bool
	attachments [][]byte
}

func toJSON(v any) []byte {
	w := jsonWriter{}
	w.value(v)
	return w.buf
}

func (w *jsonWriter) value(v any) {
	switch v := v.(type) {
	case nil, undefined:
		w.buf = append(w.buf, "null"...)
	case bool:
		w.buf = strconv.AppendBool(w.buf, v)
	case float64:
		w.buf = appendJSNumber(w.buf, v)
	case string:
		w.buf = appendJSString(w.buf, v)
	case rawJSON:
		if len(v) == 0 {
			w.buf = append(w.buf, "null"...)
		} else {
			w.buf = append(w.buf, v...)
		}
	case []byte:
		if w.packet {
			w.buf = append(w.buf, `{"_placeholder":true,"num":`...)
			w.buf = strconv.AppendInt(w.buf, int64(len(w.attachments)), 10)
			w.buf = append(w.buf, '}')
			w.attachments = append(w.attachments, v)
			return
		}
		w.buf = append(w.buf, `{"type":"Buffer","data":[`...)
		for i, c := range v {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.buf = strconv.AppendUint(w.buf, uint64(c), 10)
		}
		w.buf = append(w.buf, "]}"...)
	case []any:
		w.buf = append(w.buf, '[')
		for i, e := range v {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.value(e)
		}
		w.buf = append(w.buf, ']')
	case *object:
		w.buf = append(w.buf, '{')
		first := true
		order := v.ordered()
		for i := range v.keys {
			if order != nil {
				i = order[i]
			}
			k := v.keys[i]
			if v.vals[i] == (undefined{}) {
				continue
			}
			if !first {
				w.buf = append(w.buf, ',')
			}
			first = false
			w.buf = appendJSString(w.buf, k)
			w.buf = append(w.buf, ':')
			w.value(v.vals[i])
		}
		w.buf = append(w.buf, '}')
	default:
		w.buf = append(w.buf, "null"...)
	}
}

// packetTree is the socket.io-parser packet object that the adapters
// publish: {type: 2, data: [event, ...args], nsp} (no nsp when nsp is "":
// the ClusterAdapter form). Binary attachments go back into the data as
// Buffers, and the type stays EVENT as in JS, where the encoder picks
// BINARY_EVENT only when it writes to a client.
func packetTree(p *parser.Packet, nsp string) (*object, error) {
	data, err := parseJSON(p.Data, attachmentsOrEmpty(p.Attachments))
	if err != nil {
		return nil, err
	}
	o := newObject("type", float64(parser.Event), "data", data)
	if nsp != "" {
		o.set("nsp", nsp)
	}
	return o, nil
}

func attachmentsOrEmpty(a [][]byte) [][]byte {
	if a == nil {
		return [][]byte{}
	}
	return a
}

// treePacket turns a received packet object back into an EVENT (or
// BINARY_EVENT) packet of namespace nsp.
func treePacket(v any, nsp string) (*parser.Packet, error) {
	o := obj(v)
	if o == nil {
		return nil, errors.New("redisadapter: packet is not an object")
	}
	if t, _ := num(o.get("type")); t != float64(parser.Event) && t != float64(parser.BinaryEvent) {
		return nil, fmt.Errorf("redisadapter: unexpected packet type %v", o.get("type"))
	}
	data, ok := o.get("data").([]any)
	if !ok || len(data) == 0 {
		return nil, errors.New("redisadapter: packet data is not an event array")
	}
	if _, ok := data[0].(string); !ok {
		return nil, errors.New("redisadapter: event name is not a string")
	}
	w := jsonWriter{packet: true}
	w.value(data)
	p := &parser.Packet{Type: parser.Event, Namespace: nsp, Data: w.buf, Attachments: w.attachments}
	if len(w.attachments) > 0 {
		p.Type = parser.BinaryEvent
	}
	return p, nil
}

// firstAckArg returns the first argument of a client's ACK packet as a tree
// (undefined when it has none).
func firstAckArg(p *parser.Packet) (any, error) {
	if len(p.Data) == 0 {
		return undefined{}, nil
	}
	v, err := parseJSON(p.Data, attachmentsOrEmpty(p.Attachments))
	if err != nil {
		return nil, err
	}
	if arr, ok := v.([]any); ok && len(arr) > 0 {
		return arr[0], nil
	}
	return undefined{}, nil
}

// ackPacket wraps one received ack value into an ACK packet whose only
// argument is that value (no argument for undefined).
func ackPacket(v any, nsp string) *parser.Packet {
	w := jsonWriter{packet: true}
	if v == (undefined{}) {
		w.buf = append(w.buf, "[]"...)
	} else {
		w.value([]any{v})
	}
	p := &parser.Packet{Type: parser.Ack, Namespace: nsp, Data: w.buf, Attachments: w.attachments}
	if len(w.attachments) > 0 {
		p.Type = parser.BinaryAck
	}
	return p
}

// wireOpts is the {rooms, except, flags} object of broadcasts; withFlags is
// false for the requests that carry only {rooms, except}.
func wireOpts(opts adapter.BroadcastOptions, withFlags bool) *object {
	o := newObject("rooms", strList(dedup(opts.Rooms)), "except", strList(dedup(opts.Except)))
	if withFlags {
		o.set("flags", wireFlags(opts.Flags))
	}
	return o
}

func wireFlags(f adapter.Flags) *object {
	o := &object{}
	if f.Volatile {
		o.set("volatile", true)
	}
	if f.Compress {
		o.set("compress", true)
	}
	if f.Timeout > 0 {
		o.set("timeout", float64(f.Timeout.Milliseconds()))
	}
	return o
}

// readOpts reads {rooms, except, flags}; flags are kept only with withFlags.
func readOpts(v any, withFlags bool) adapter.BroadcastOptions {
	o := obj(v)
	opts := adapter.BroadcastOptions{Rooms: strs(o.get("rooms")), Except: strs(o.get("except"))}
	if f := obj(o.get("flags")); f != nil && withFlags {
		opts.Flags.Volatile = f.get("volatile") == true
		opts.Flags.Compress = f.get("compress") == true
		if ms, ok := num(f.get("timeout")); ok && ms > 0 {
			opts.Flags.Timeout = time.Duration(ms * float64(time.Millisecond))
		}
	}
	return opts
}

func dedup(list []string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
