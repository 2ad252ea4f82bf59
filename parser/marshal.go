package parser

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
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
//   - json.RawMessage is validated and copied, minus whitespace and string
//     escapes JS would not write (JS-made JSON is copied byte for byte); a
//     RawArg likewise;
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
	case []string:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		e.buf = append(e.buf, '[')
		for i, el := range x {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = appendString(e.buf, el)
		}
		e.buf = append(e.buf, ']')
	case map[string]string:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return nil
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
			e.buf = append(appendString(e.buf, k), ':')
			e.buf = appendString(e.buf, x[k])
		}
		e.buf = append(e.buf, '}')
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
