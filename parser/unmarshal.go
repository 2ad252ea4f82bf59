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
	d := decoder{attachments: attachments}
	return d.into(raw, rv.Elem())
}

type decoder struct {
	attachments [][]byte
}

// into decodes the validated value raw into the settable v.
func (d *decoder) into(raw []byte, v reflect.Value) error {
	if !mayHavePlaceholder(raw) {
		return json.Unmarshal(raw, v.Addr().Interface())
	}
	if v.Kind() != reflect.Pointer && reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		return json.Unmarshal(raw, v.Addr().Interface()) // the type decodes itself
	}
	isPh, num, err := placeholder(raw, len(d.attachments))
	if err != nil {
		return err
	}
	if isPh {
		return d.attachment(d.attachments[num], v)
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.into(raw, v.Elem())
	case reflect.Interface:
		if v.NumMethod() != 0 {
			break
		}
		x, err := d.any(raw)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(x))
		return nil
	case reflect.Slice:
		if raw[0] != '[' {
			break
		}
		s := reflect.MakeSlice(v.Type(), 0, 0)
		err := arrayElems(raw, func(elem []byte) error {
			s = reflect.Append(s, reflect.Zero(v.Type().Elem()))
			return d.into(elem, s.Index(s.Len()-1))
		})
		if err != nil {
			return err
		}
		v.Set(s)
		return nil
	case reflect.Array:
		if raw[0] != '[' {
			break
		}
		i := 0
		err := arrayElems(raw, func(elem []byte) error {
			if i >= v.Len() {
				return nil // extra elements are dropped, as encoding/json does
			}
			i++
			return d.into(elem, v.Index(i-1))
		})
		for ; err == nil && i < v.Len(); i++ {
			v.Index(i).SetZero()
		}
		return err
	case reflect.Map:
		if raw[0] != '{' {
			break
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		return objectMembers(raw, func(key, val []byte) error {
			k, err := mapKeyValue(v.Type().Key(), unquote(key))
			if err != nil {
				return err
			}
			elem := reflect.New(v.Type().Elem()).Elem()
			if err := d.into(val, elem); err != nil {
				return err
			}
			v.SetMapIndex(k, elem)
			return nil
		})
	case reflect.Struct:
		if raw[0] != '{' {
			break
		}
		fields := cachedFields(v.Type())
		return objectMembers(raw, func(key, val []byte) error {
			f := lookupField(fields, unquote(key))
			if f == nil {
				return nil // unknown members are ignored, as encoding/json does
			}
			fv, err := fieldByIndex(v, f.index)
			if err != nil {
				return err
			}
			return d.into(val, fv)
		})
	}
	// Not a container that can hold an attachment: let encoding/json report
	// (or accept) it, placeholder objects included.
	return json.Unmarshal(raw, v.Addr().Interface())
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

// any decodes the validated raw as json.Unmarshal into an interface{} would,
// with placeholders turned into []byte.
func (d *decoder) any(raw []byte) (any, error) {
	if !mayHavePlaceholder(raw) {
		var x any
		err := json.Unmarshal(raw, &x)
		return x, err
	}
	isPh, num, err := placeholder(raw, len(d.attachments))
	if err != nil {
		return nil, err
	}
	if isPh {
		return d.attachments[num], nil
	}
	switch raw[0] {
	case '[':
		a := []any{}
		err := arrayElems(raw, func(elem []byte) error {
			x, err := d.any(elem)
			a = append(a, x)
			return err
		})
		return a, err
	case '{':
		m := map[string]any{}
		err := objectMembers(raw, func(key, val []byte) error {
			x, err := d.any(val)
			m[unquote(key)] = x
			return err
		})
		return m, err
	}
	var x any
	err = json.Unmarshal(raw, &x)
	return x, err
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
