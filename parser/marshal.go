package parser

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// maxEncodeDepth bounds the nesting Marshal follows, which also stops
// reference cycles.
const maxEncodeDepth = 1000

// Marshal returns the JSON encoding of v, byte for byte what JavaScript's
// JSON.stringify writes for the equivalent value:
//   - no whitespace; only `"`, `\` and control characters are escaped (as \b \f
//     \n \r \t or \u00xx), so `<>&`, U+2028 and U+2029 are written as they are,
//     and invalid UTF-8 becomes U+FFFD;
//   - numbers as JS prints them (1e+21, 5e-7, 0.1, -0 as 0), NaN and ±Inf as null;
//   - nil, nil pointers, nil maps and nil slices as null;
//   - map keys in JS property order: integer-like keys ascending, then the others
//     sorted (Go maps have no insertion order; this keeps output deterministic);
//   - structs by the encoding/json rules (field tags, omitempty, omitzero, "-",
//     ",string", embedded fields); json.Marshaler and encoding.TextMarshaler are
//     honoured, their output re-escaped the JS way;
//   - json.RawMessage is validated and written as it is (whitespace removed);
//   - []byte as a base64 string, like encoding/json (in packets built with
//     NewEvent and NewAck, []byte becomes an attachment instead).
func Marshal(v any) ([]byte, error) {
	e := encoder{buf: make([]byte, 0, 64)}
	if err := e.value(v); err != nil {
		return nil, err
	}
	return e.buf, nil
}

// AppendMarshal is Marshal appending to dst.
func AppendMarshal(dst []byte, v any) ([]byte, error) {
	e := encoder{buf: dst}
	err := e.value(v)
	return e.buf, err
}

type encoder struct {
	buf         []byte
	binary      bool     // []byte values become placeholders + attachments
	attachments [][]byte // collected when binary
	depth       int
}

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	rawMessageType    = reflect.TypeFor[json.RawMessage]()
	numberType        = reflect.TypeFor[json.Number]()
)

// value encodes v, with fast paths for the types events usually carry.
func (e *encoder) value(v any) error {
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case string:
		e.buf = appendString(e.buf, x)
	case bool:
		e.buf = strconv.AppendBool(e.buf, x)
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int64:
		e.buf = strconv.AppendInt(e.buf, x, 10)
	case int32:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case uint64:
		e.buf = strconv.AppendUint(e.buf, x, 10)
	case float64:
		e.buf = appendFloat(e.buf, x, 64)
	case json.RawMessage:
		return e.raw(x)
	case RawArg:
		return e.rawArg(x)
	case *RawArg:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.rawArg(*x)
	case json.Number:
		return e.number(x)
	case []byte:
		e.bytes(x)
	case []any:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if err := e.enter(); err != nil {
			return err
		}
		e.buf = append(e.buf, '[')
		for i, el := range x {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.value(el); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, ']')
		e.depth--
	case map[string]any:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if err := e.enter(); err != nil {
			return err
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, compareKeys)
		e.buf = append(e.buf, '{')
		for i, k := range keys {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = appendString(e.buf, k)
			e.buf = append(e.buf, ':')
			if err := e.value(x[k]); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, '}')
		e.depth--
	default:
		return e.reflect(reflect.ValueOf(v))
	}
	return nil
}

func (e *encoder) enter() error {
	if e.depth++; e.depth > maxEncodeDepth {
		return fmt.Errorf("%w: nesting deeper than %d (a cycle?)", ErrUnsupportedValue, maxEncodeDepth)
	}
	return nil
}

// bytes writes b as a placeholder (packets) or a base64 string (Marshal).
func (e *encoder) bytes(b []byte) {
	if !e.binary {
		if b == nil {
			e.buf = append(e.buf, "null"...)
			return
		}
		e.buf = append(e.buf, '"')
		e.buf = base64.StdEncoding.AppendEncode(e.buf, b)
		e.buf = append(e.buf, '"')
		return
	}
	e.buf = append(e.buf, `{"_placeholder":true,"num":`...)
	e.buf = strconv.AppendInt(e.buf, int64(len(e.attachments)), 10)
	e.buf = append(e.buf, '}')
	e.attachments = append(e.attachments, b)
}

func (e *encoder) raw(r json.RawMessage) error {
	if r == nil {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	var err error
	e.buf, err = appendNormalized(e.buf, r)
	return err
}

// RawArg is raw JSON together with the attachments its placeholders refer
// to, typically an argument from Packet.Args and the packet's Attachments. In
// an event or ack it is written byte for byte (whitespace removed) except its
// placeholders, which are renumbered to the new packet's attachments: a server
// re-emits what it received, binary included, exactly as it came. Marshal
// writes each placeholder's attachment as a base64 string.
type RawArg struct {
	JSON        json.RawMessage
	Attachments [][]byte
}

func (e *encoder) rawArg(r RawArg) error {
	raw := trimSpace(r.JSON)
	if len(r.Attachments) == 0 || !mayHavePlaceholder(raw) {
		return e.raw(r.JSON)
	}
	if !validJSON(raw) {
		return fmt.Errorf("%w: %.40q", ErrInvalidJSON, raw)
	}
	x, err := newPhIndex(raw, len(r.Attachments))
	if err != nil {
		return err
	}
	_, err = e.rewrite(x, 0, r.Attachments)
	return err
}

// rewrite copies the value at x.b[i], replacing its placeholders, and returns its end.
func (e *encoder) rewrite(x *phIndex, i int, attachments [][]byte) (int, error) {
	b := x.b
	if num, ok := x.nums[i]; ok {
		e.bytes(attachments[num])
		return skipValue(b, i), nil
	}
	if !x.holds[i] {
		end := skipValue(b, i)
		var err error
		e.buf, err = appendNormalized(e.buf, b[i:end])
		return end, err
	}
	sep := byte(0)
	if b[i] == '[' {
		e.buf = append(e.buf, '[')
		end, err := forArray(b, i, func(at int) (int, error) {
			if sep != 0 {
				e.buf = append(e.buf, sep)
			}
			sep = ','
			return e.rewrite(x, at, attachments)
		})
		e.buf = append(e.buf, ']')
		return end, err
	}
	e.buf = append(e.buf, '{') // only arrays and objects hold placeholders
	end, err := forObject(b, i, func(key []byte, at int) (int, error) {
		if sep != 0 {
			e.buf = append(e.buf, sep)
		}
		sep = ','
		var err error
		if e.buf, err = appendNormalized(e.buf, key); err != nil {
			return 0, err
		}
		e.buf = append(e.buf, ':')
		return e.rewrite(x, at, attachments)
	})
	e.buf = append(e.buf, '}')
	return end, err
}

func (e *encoder) number(n json.Number) error {
	if n == "" {
		n = "0" // as encoding/json
	}
	if end, err := number([]byte(n), 0); err != nil || end != len(n) {
		return fmt.Errorf("%w: json.Number %q", ErrInvalidJSON, string(n))
	}
	e.buf = append(e.buf, n...)
	return nil
}

func (e *encoder) reflect(v reflect.Value) error {
	if !v.IsValid() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	t := v.Type()
	switch t {
	case rawMessageType:
		return e.raw(v.Bytes())
	case numberType:
		return e.number(json.Number(v.String()))
	}
	if v.Kind() == reflect.Interface {
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.elem(v.Elem())
	}
	if t.Implements(marshalerType) {
		return e.marshaler(v)
	}
	if v.Kind() != reflect.Pointer && v.CanAddr() && reflect.PointerTo(t).Implements(marshalerType) {
		return e.marshaler(v.Addr())
	}
	if t.Implements(textMarshalerType) {
		return e.textMarshaler(v)
	}
	if v.Kind() != reflect.Pointer && v.CanAddr() && reflect.PointerTo(t).Implements(textMarshalerType) {
		return e.textMarshaler(v.Addr())
	}
	if isScalar(v.Kind()) {
		e.scalar(v)
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if err := e.enter(); err != nil {
			return err
		}
		err := e.elem(v.Elem())
		e.depth--
		return err
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !reflect.PointerTo(t.Elem()).Implements(marshalerType) && !reflect.PointerTo(t.Elem()).Implements(textMarshalerType) {
			e.bytes(v.Bytes())
			return nil
		}
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.array(v)
	case reflect.Array:
		return e.array(v)
	case reflect.Map:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.mapValue(v)
	case reflect.Struct:
		return e.structValue(v)
	default:
		return fmt.Errorf("%w: type %s", ErrUnsupportedValue, t)
	}
}

func isScalar(k reflect.Kind) bool {
	return k >= reflect.Bool && k <= reflect.Float64 || k == reflect.String
}

// scalar writes a bool, number or string kind.
func (e *encoder) scalar(v reflect.Value) {
	switch v.Kind() {
	case reflect.Bool:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
	case reflect.Float32:
		e.buf = appendFloat(e.buf, v.Float(), 32)
	case reflect.Float64:
		e.buf = appendFloat(e.buf, v.Float(), 64)
	case reflect.String:
		e.buf = appendString(e.buf, v.String())
	}
}

// elem encodes the target of a pointer or interface, through the fast paths
// when it is one of their types.
func (e *encoder) elem(v reflect.Value) error {
	if v.Kind() != reflect.Pointer && v.Kind() != reflect.Interface && !v.CanAddr() && v.CanInterface() {
		return e.value(v.Interface())
	}
	return e.reflect(v)
}

func (e *encoder) marshaler(v reflect.Value) error {
	if v.Kind() == reflect.Pointer && v.IsNil() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	out, err := v.Interface().(json.Marshaler).MarshalJSON()
	if err != nil {
		return fmt.Errorf("parser: json: error calling MarshalJSON for type %s: %w", v.Type(), err)
	}
	n, err := appendNormalized(e.buf, out)
	if err != nil {
		return fmt.Errorf("%w (from MarshalJSON of %s)", err, v.Type())
	}
	e.buf = n
	return nil
}

func (e *encoder) textMarshaler(v reflect.Value) error {
	if v.Kind() == reflect.Pointer && v.IsNil() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	out, err := v.Interface().(encoding.TextMarshaler).MarshalText()
	if err != nil {
		return fmt.Errorf("parser: json: error calling MarshalText for type %s: %w", v.Type(), err)
	}
	e.buf = appendString(e.buf, string(out))
	return nil
}

func (e *encoder) array(v reflect.Value) error {
	if err := e.enter(); err != nil {
		return err
	}
	e.buf = append(e.buf, '[')
	for i := range v.Len() {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.elem(v.Index(i)); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ']')
	e.depth--
	return nil
}

type mapEntry struct {
	key string
	val reflect.Value
}

func (e *encoder) mapValue(v reflect.Value) error {
	if err := e.enter(); err != nil {
		return err
	}
	entries := make([]mapEntry, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		k, err := mapKey(it.Key())
		if err != nil {
			return err
		}
		entries = append(entries, mapEntry{k, it.Value()})
	}
	slices.SortFunc(entries, func(a, b mapEntry) int { return compareKeys(a.key, b.key) })
	e.buf = append(e.buf, '{')
	for i, en := range entries {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = appendString(e.buf, en.key)
		e.buf = append(e.buf, ':')
		if err := e.elem(en.val); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	e.depth--
	return nil
}

// mapKey follows encoding/json: string kinds, then TextMarshaler, then integers.
func mapKey(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if tm, ok := k.Interface().(encoding.TextMarshaler); ok {
		if k.Kind() == reflect.Pointer && k.IsNil() {
			return "", nil
		}
		b, err := tm.MarshalText()
		return string(b), err
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", fmt.Errorf("%w: map key type %s", ErrUnsupportedValue, k.Type())
}

// arrayIndex reports whether key is a JS array index ("0", "17", no leading
// zero, below 2^32-1): JS orders such keys first, numerically.
func arrayIndex(key string) (uint64, bool) {
	if key == "" || len(key) > 10 || key[0] == '0' && len(key) > 1 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, n < 1<<32-1
}

// compareKeys orders object keys the way JS enumerates them, with sorted
// order standing in for insertion order.
func compareKeys(a, b string) int {
	ai, aok := arrayIndex(a)
	bi, bok := arrayIndex(b)
	switch {
	case aok && bok:
		return cmpUint(ai, bi)
	case aok:
		return -1
	case bok:
		return 1
	}
	return strings.Compare(a, b)
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (e *encoder) structValue(v reflect.Value) error {
	if err := e.enter(); err != nil {
		return err
	}
	e.buf = append(e.buf, '{')
	first := true
fields:
	for _, f := range cachedFields(v.Type()) {
		fv := v
		for _, i := range f.index {
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue fields // field of a nil embedded pointer
				}
				fv = fv.Elem()
			}
			fv = fv.Field(i)
		}
		if f.omitEmpty && isEmpty(fv) || f.omitZero && isZero(fv) {
			continue
		}
		if !first {
			e.buf = append(e.buf, ',')
		}
		first = false
		e.buf = append(e.buf, f.key...)
		switch {
		case f.quoted:
			if err := e.quoted(fv); err != nil {
				return err
			}
		case f.plain:
			e.scalar(fv)
		default:
			if err := e.elem(fv); err != nil {
				return err
			}
		}
	}
	e.buf = append(e.buf, '}')
	e.depth--
	return nil
}

// quoted writes a scalar field tagged ",string" as a JSON string.
func (e *encoder) quoted(v reflect.Value) error {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() == reflect.String {
		e.buf = appendString(e.buf, string(appendString(nil, v.String())))
		return nil
	}
	e.buf = append(e.buf, '"')
	if err := e.reflect(v); err != nil {
		return err
	}
	e.buf = append(e.buf, '"')
	return nil
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

type isZeroer interface{ IsZero() bool }

func isZero(v reflect.Value) bool {
	if z, ok := v.Interface().(isZeroer); ok {
		if v.Kind() == reflect.Pointer && v.IsNil() {
			return true
		}
		return z.IsZero()
	}
	return v.IsZero()
}

// field is one JSON member of a struct type.
type field struct {
	name      string
	key       []byte // `"name":`, escaped once
	index     []int
	tagged    bool
	omitEmpty bool
	omitZero  bool
	quoted    bool
	plain     bool // a scalar kind without MarshalJSON or MarshalText: written directly
}

var fieldCache sync.Map // reflect.Type -> []field

func cachedFields(t reflect.Type) []field {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]field)
	}
	f, _ := fieldCache.LoadOrStore(t, typeFields(t))
	return f.([]field)
}

// typeFields lists the JSON members of struct type t with encoding/json's
// rules: embedded structs are promoted breadth first; of several fields with
// one name the shallowest wins, then the only tagged one, else none.
func typeFields(t reflect.Type) []field {
	type level struct {
		typ   reflect.Type
		index []int
	}
	var all []field
	visited := map[reflect.Type]bool{}
	next := []level{{t, nil}}
	for len(next) > 0 {
		current := next
		next = nil
		for _, l := range current {
			if visited[l.typ] {
				continue
			}
			visited[l.typ] = true
			for i := range l.typ.NumField() {
				sf := l.typ.Field(i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if sf.Anonymous {
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validTagName(name) {
					name = ""
				}
				index := append(slices.Clip(l.index), i)
				if name == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
					next = append(next, level{ft, index})
					continue
				}
				f := field{name: name, tagged: name != "", index: index}
				if f.name == "" {
					f.name = sf.Name
				}
				for o := range strings.SplitSeq(opts, ",") {
					switch o {
					case "omitempty":
						f.omitEmpty = true
					case "omitzero":
						f.omitZero = true
					case "string":
						switch ft.Kind() {
						case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
							reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
							reflect.Float32, reflect.Float64, reflect.String:
							f.quoted = true
						}
					}
				}
				f.key = append(appendString(nil, f.name), ':')
				f.plain = isScalar(sf.Type.Kind()) && sf.Type != numberType &&
					!reflect.PointerTo(sf.Type).Implements(marshalerType) &&
					!reflect.PointerTo(sf.Type).Implements(textMarshalerType)
				all = append(all, f)
			}
		}
	}
	// Keep the dominant field of each name, then restore declaration order.
	slices.SortStableFunc(all, func(a, b field) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := len(a.index) - len(b.index); c != 0 {
			return c
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return 1
		}
		return 0
	})
	out := all[:0]
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].name == all[i].name {
			j++
		}
		group := all[i:j]
		if len(group) == 1 || len(group[1].index) > len(group[0].index) || group[0].tagged && !group[1].tagged {
			out = append(out, group[0])
		}
		i = j
	}
	slices.SortFunc(out, func(a, b field) int { return slices.Compare(a.index, b.index) })
	return out
}

func validTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c > 127):
			return false
		}
	}
	return true
}

// appendFloat formats f as JavaScript's Number#toString (which JSON.stringify
// uses): shortest round-trip digits, exponent form below 1e-6 and from 1e21.
func appendFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	if f == 0 {
		return append(b, '0') // also -0
	}
	abs := math.Abs(f)
	format := byte('f')
	if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// Go writes e-07 where JS writes e-7.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// plainASCII marks the bytes JSON.stringify writes as they are.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString writes s as JSON.stringify does: only `"`, `\` and control
// characters are escaped; invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plainASCII[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, "\uFFFD"...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		b = appendEscaped(append(b, s[start:i]...), c)
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendEscaped writes the ASCII character c as JSON.stringify does.
func appendEscaped(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	if c < 0x20 {
		return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
	}
	return append(b, c)
}

// appendReescaped writes the validated JSON string token q as JSON.stringify
// writes the string JSON.parse reads from it: escapes that JS would not write
// are resolved, lone surrogates stay escaped (in lower-case hex).
func appendReescaped(b, q []byte) []byte {
	b = append(b, '"')
	last := len(q) - 1 // the closing quote
	for i := 1; i < last; i++ {
		c := q[i]
		if c != '\\' {
			b = append(b, c)
			continue
		}
		i++
		switch q[i] {
		case '/':
			b = append(b, '/')
		case 'u':
			u := hex4(q[i+1:])
			i += 4
			switch {
			case u < utf8.RuneSelf:
				b = appendEscaped(b, byte(u))
			case !utf16.IsSurrogate(u):
				b = utf8.AppendRune(b, u)
			case u < 0xdc00 && i+6 < last && q[i+1] == '\\' && q[i+2] == 'u' && isLowSurrogate(hex4(q[i+3:])):
				b = utf8.AppendRune(b, utf16.DecodeRune(u, hex4(q[i+3:])))
				i += 6
			default:
				b = append(b, '\\', 'u', hexDigits[u>>12], hexDigits[u>>8&0xf], hexDigits[u>>4&0xf], hexDigits[u&0xf])
			}
		default: // " \ b f n r t, as JS writes them
			b = append(b, '\\', q[i])
		}
	}
	return append(b, '"')
}

func isLowSurrogate(r rune) bool { return r >= 0xdc00 && r < 0xe000 }

// hex4 reads the 4 hex digits at the start of h (validated).
func hex4(h []byte) rune {
	var r rune
	for _, c := range h[:4] {
		switch {
		case c >= 'a':
			c -= 'a' - 10
		case c >= 'A':
			c -= 'A' - 10
		default:
			c -= '0'
		}
		r = r<<4 | rune(c)
	}
	return r
}

// appendNormalized validates the JSON text raw and appends it as
// JSON.stringify(JSON.parse(raw)) would write it, except that numbers, key
// order and duplicate keys are kept as written: whitespace is dropped and
// string escapes JS would not write are resolved. JS-made JSON is copied as is.
func appendNormalized(dst, raw []byte) ([]byte, error) {
	var s scanner
	i := skipSpace(raw, 0)
	end, err := s.value(raw, i)
	if err != nil || skipSpace(raw, end) != len(raw) {
		return dst, fmt.Errorf("%w: %.40q", ErrInvalidJSON, raw)
	}
	raw = raw[i:end]
	if !s.spaced && !s.nonJS {
		return append(dst, raw...), nil
	}
	for i := 0; i < len(raw); {
		switch c := raw[i]; {
		case isSpace(c):
			i++
		case c == '"':
			var sc scanner
			end, _ := sc.str(raw, i)
			if sc.nonJS {
				dst = appendReescaped(dst, raw[i:end])
			} else {
				dst = append(dst, raw[i:end]...)
			}
			i = end
		default:
			dst = append(dst, c)
			i++
		}
	}
	return dst, nil
}
