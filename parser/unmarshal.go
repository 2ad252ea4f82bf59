package parser

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// Unmarshal decodes the JSON raw (an argument from Packet.Args, or a whole
// payload) into v, like json.Unmarshal, except that attachment placeholders
// {"_placeholder":true,"num":i} become attachments[i] (shared, not copied)
// wherever the target is a []byte, an interface{} or a pointer to them, at any
// depth. Without attachments it is json.Unmarshal. A placeholder whose num is
// out of range is ErrIllegalAttachments.
func Unmarshal(raw []byte, attachments [][]byte, v any) error {
	if len(attachments) == 0 || !mayHavePlaceholder(raw) {
		return json.Unmarshal(raw, v)
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &json.InvalidUnmarshalError{Type: reflect.TypeOf(v)}
	}
	raw = trimSpace(raw)
	if !validJSON(raw) {
		return json.Unmarshal(raw, v) // for encoding/json's syntax error
	}
	x, err := newPhIndex(raw, len(attachments))
	if err != nil {
		return err
	}
	d := decoder{phIndex: x, attachments: attachments}
	_, err = d.into(0, rv.Elem())
	return err
}

// decoder walks validated JSON top-down, consulting the placeholder index so
// that it only descends where an attachment is, and hands everything else to
// encoding/json.
type decoder struct {
	*phIndex
	attachments [][]byte
}

// std decodes the value at b[i] with encoding/json and returns its end.
func (d *decoder) std(i int, v reflect.Value) (int, error) {
	end := skipValue(d.b, i)
	return end, json.Unmarshal(d.b[i:end], v.Addr().Interface())
}

// into decodes the value at b[i] into the settable v and returns its end.
func (d *decoder) into(i int, v reflect.Value) (int, error) {
	if !d.holds[i] || v.Kind() != reflect.Pointer && reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		return d.std(i, v) // no attachment in here, or a type that decodes itself
	}
	if num, ok := d.nums[i]; ok {
		return skipValue(d.b, i), d.attachment(d.attachments[num], v)
	}
	b := d.b
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.into(i, v.Elem())
	case reflect.Interface:
		if v.NumMethod() != 0 {
			break
		}
		end, x, err := d.any(i)
		if err == nil {
			v.Set(reflect.ValueOf(x))
		}
		return end, err
	case reflect.Slice:
		if b[i] != '[' {
			break
		}
		s := reflect.MakeSlice(v.Type(), 0, 0)
		end, err := forArray(b, i, func(at int) (int, error) {
			s = reflect.Append(s, reflect.Zero(v.Type().Elem()))
			return d.into(at, s.Index(s.Len()-1))
		})
		if err == nil {
			v.Set(s)
		}
		return end, err
	case reflect.Array:
		if b[i] != '[' {
			break
		}
		n := 0
		end, err := forArray(b, i, func(at int) (int, error) {
			if n >= v.Len() {
				return skipValue(b, at), nil // extra elements are dropped, as encoding/json does
			}
			n++
			return d.into(at, v.Index(n-1))
		})
		for ; err == nil && n < v.Len(); n++ {
			v.Index(n).SetZero()
		}
		return end, err
	case reflect.Map:
		if b[i] != '{' {
			break
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		return forObject(b, i, func(key []byte, at int) (int, error) {
			k, err := mapKeyValue(v.Type().Key(), unquote(key))
			if err != nil {
				return 0, err
			}
			elem := reflect.New(v.Type().Elem()).Elem()
			end, err := d.into(at, elem)
			if err == nil {
				v.SetMapIndex(k, elem)
			}
			return end, err
		})
	case reflect.Struct:
		if b[i] != '{' {
			break
		}
		fields := cachedFields(v.Type())
		return forObject(b, i, func(key []byte, at int) (int, error) {
			f := lookupField(fields, unquote(key))
			if f == nil {
				return skipValue(b, at), nil // unknown members are ignored, as encoding/json does
			}
			fv, err := fieldByIndex(v, f.index)
			if err != nil {
				return 0, err
			}
			return d.into(at, fv)
		})
	}
	// Not a container that can hold an attachment: let encoding/json report
	// (or accept) it, placeholder objects included.
	return d.std(i, v)
}

// attachment stores b into v: a []byte-like, an empty interface, or a pointer to them.
func (d *decoder) attachment(b []byte, v reflect.Value) error {
	switch {
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
		v.SetBytes(b)
		return nil
	case v.Kind() == reflect.Interface && v.NumMethod() == 0:
		v.Set(reflect.ValueOf(b))
		return nil
	case v.Kind() == reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.attachment(b, v.Elem())
	}
	return &json.UnmarshalTypeError{Value: "attachment", Type: v.Type()}
}

// any decodes the value at b[i] as json.Unmarshal into an interface{} would,
// with placeholders turned into []byte, and returns its end.
func (d *decoder) any(i int) (int, any, error) {
	b := d.b
	if num, ok := d.nums[i]; ok {
		return skipValue(b, i), d.attachments[num], nil
	}
	if !d.holds[i] {
		end := skipValue(b, i)
		var x any
		err := json.Unmarshal(b[i:end], &x)
		return end, x, err
	}
	if b[i] == '[' {
		a := []any{}
		end, err := forArray(b, i, func(at int) (int, error) {
			end, x, err := d.any(at)
			a = append(a, x)
			return end, err
		})
		return end, a, err
	}
	m := map[string]any{} // only arrays and objects hold placeholders
	end, err := forObject(b, i, func(key []byte, at int) (int, error) {
		end, x, err := d.any(at)
		m[unquote(key)] = x
		return end, err
	})
	return end, m, err
}

// lookupField finds the member for key: exact name first, then, like
// encoding/json, a case-insensitive match.
func lookupField(fields []field, key string) *field {
	for i := range fields {
		if fields[i].name == key {
			return &fields[i]
		}
	}
	for i := range fields {
		if strings.EqualFold(fields[i].name, key) {
			return &fields[i]
		}
	}
	return nil
}

// fieldByIndex walks to a promoted field, allocating nil embedded pointers.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, error) {
	for n, i := range index {
		if n > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return reflect.Value{}, fmt.Errorf("parser: cannot set embedded pointer to unexported struct %s", v.Type().Elem())
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	return v, nil
}

// mapKeyValue converts an object key to a map key of type t, as encoding/json does.
func mapKeyValue(t reflect.Type, key string) (reflect.Value, error) {
	if reflect.PointerTo(t).Implements(textUnmarshalerType) {
		k := reflect.New(t)
		if err := k.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(key)); err != nil {
			return reflect.Value{}, err
		}
		return k.Elem(), nil
	}
	switch t.Kind() {
	case reflect.String:
		return reflect.ValueOf(key).Convert(t), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(key, 10, 64)
		if err != nil || reflect.Zero(t).OverflowInt(n) {
			return reflect.Value{}, &json.UnmarshalTypeError{Value: "number " + key, Type: t}
		}
		return reflect.ValueOf(n).Convert(t), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, err := strconv.ParseUint(key, 10, 64)
		if err != nil || reflect.Zero(t).OverflowUint(n) {
			return reflect.Value{}, &json.UnmarshalTypeError{Value: "number " + key, Type: t}
		}
		return reflect.ValueOf(n).Convert(t), nil
	}
	return reflect.Value{}, &json.UnmarshalTypeError{Value: "object", Type: t}
}
