package redisadapter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"
)

// This file is a msgpack codec for the value tree that writes what
// notepack.io 3 (the redis adapter's default parser) writes, byte for byte:
// integral numbers in their smallest integer form, other numbers as float
// 64, undefined as nil, object properties with undefined values left out.
// The decoder reads what notepack.io writes and decodes what it decodes:
// timestamps (ext -1) become dates, which the tree keeps as their
// JSON.stringify form.

func encodeMsgpack(v any) []byte { return appendMsgpack(make([]byte, 0, 128), v) }

func appendMsgpack(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil, undefined:
		return append(b, 0xc0)
	case bool:
		if v {
			return append(b, 0xc3)
		}
		return append(b, 0xc2)
	case float64:
		return appendNumber(b, v)
	case string:
		n := len(v)
		switch {
		case n < 0x20:
			b = append(b, 0xa0|byte(n))
		case n < 0x100:
			b = append(b, 0xd9, byte(n))
		case n < 0x10000:
			b = append(b, 0xda, byte(n>>8), byte(n))
		default:
			b = append(b, 0xdb)
			b = binary.BigEndian.AppendUint32(b, uint32(n))
		}
		return append(b, v...)
	case []byte:
		n := len(v)
		switch {
		case n < 0x100:
			b = append(b, 0xc4, byte(n))
		case n < 0x10000:
			b = append(b, 0xc5, byte(n>>8), byte(n))
		default:
			b = append(b, 0xc6)
			b = binary.BigEndian.AppendUint32(b, uint32(n))
		}
		return append(b, v...)
	case []any:
		b = appendLen(b, len(v), 0x90, 0xdc)
		for _, e := range v {
			b = appendMsgpack(b, e)
		}
		return b
	case rawJSON:
		t, err := parseJSON(v, nil)
		if err != nil {
			return append(b, 0xc0)
		}
		return appendMsgpack(b, t)
	case *object:
		n := 0
		for _, e := range v.vals {
			if e != (undefined{}) {
				n++
			}
		}
		b = appendLen(b, n, 0x80, 0xde)
		order := v.ordered()
		for i := range v.keys {
			if order != nil {
				i = order[i]
			}
			if v.vals[i] != (undefined{}) {
				b = appendMsgpack(b, v.keys[i])
				b = appendMsgpack(b, v.vals[i])
			}
		}
		return b
	}
	return append(b, 0xc0)
}

// appendLen writes an array (fix 0x90, 16-bit 0xdc) or map (0x80, 0xde)
// header; the 32-bit form is the 16-bit code plus one.
func appendLen(b []byte, n int, fix, code16 byte) []byte {
	switch {
	case n < 0x10:
		return append(b, fix|byte(n))
	case n < 0x10000:
		return append(b, code16, byte(n>>8), byte(n))
	}
	b = append(b, code16+1)
	return binary.BigEndian.AppendUint32(b, uint32(n))
}

// appendNumber encodes a JS number as notepack.io does, 64-bit forms
// included (their halves are computed with JS's 32-bit conversions).
func appendNumber(b []byte, f float64) []byte {
	if math.Floor(f) != f || math.IsInf(f, 0) || math.IsNaN(f) {
		b = append(b, 0xcb)
		return binary.BigEndian.AppendUint64(b, math.Float64bits(f))
	}
	if f >= 0 {
		switch {
		case f < 0x80:
			return append(b, byte(f))
		case f < 0x100:
			return append(b, 0xcc, byte(f))
		case f < 0x10000:
			return append(b, 0xcd, byte(uint16(f)>>8), byte(uint16(f)))
		case f < 0x100000000:
			b = append(b, 0xce)
			return binary.BigEndian.AppendUint32(b, uint32(f))
		}
		b = append(b, 0xcf)
		b = binary.BigEndian.AppendUint32(b, jsUint32(f/4294967296))
		return binary.BigEndian.AppendUint32(b, jsUint32(f))
	}
	switch {
	case f >= -0x20:
		return append(b, byte(int8(f)))
	case f >= -0x80:
		return append(b, 0xd0, byte(int8(f)))
	case f >= -0x8000:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(int16(f)))
	case f >= -0x80000000:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(int32(f)))
	}
	b = append(b, 0xd3)
	b = binary.BigEndian.AppendUint32(b, jsUint32(math.Floor(f/4294967296)))
	return binary.BigEndian.AppendUint32(b, jsUint32(f))
}

// jsUint32 is JavaScript's ToUint32: truncate, then modulo 2^32.
func jsUint32(f float64) uint32 {
	t := math.Mod(math.Trunc(f), 4294967296)
	if t < 0 {
		t += 4294967296
	}
	return uint32(t)
}

// decodeMsgpack decodes one msgpack value, the whole input.
func decodeMsgpack(b []byte) (any, error) {
	d := mpDecoder{b: b}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if d.off != len(b) {
		return nil, errors.New("redisadapter: trailing bytes after msgpack value")
	}
	return v, nil
}

type mpDecoder struct {
	b   []byte
	off int
}

func (d *mpDecoder) take(n int) ([]byte, error) {
	if n < 0 || n > len(d.b)-d.off {
		return nil, errTruncated
	}
	s := d.b[d.off : d.off+n]
	d.off += n
	return s, nil
}

func (d *mpDecoder) uint(n int) (uint64, error) {
	s, err := d.take(n)
	if err != nil {
		return 0, err
	}
	var v uint64
	for _, c := range s {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

func (d *mpDecoder) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, errDepth
	}
	c, err := d.uint(1)
	if err != nil {
		return nil, err
	}
	switch {
	case c < 0x80:
		return float64(c), nil
	case c >= 0xe0:
		return float64(int8(c)), nil
	case c&0xf0 == 0x80:
		return d.object(int(c&0x0f), depth)
	case c&0xf0 == 0x90:
		return d.array(int(c&0x0f), depth)
	case c&0xe0 == 0xa0:
		return d.str(int(c & 0x1f))
	}
	switch c {
	case 0xc0:
		return nil, nil
	case 0xc2:
		return false, nil
	case 0xc3:
		return true, nil
	case 0xc4, 0xc5, 0xc6:
		n, err := d.uint(1 << (c - 0xc4))
		if err != nil {
			return nil, err
		}
		s, err := d.take(int(n))
		return append([]byte(nil), s...), err
	case 0xc7, 0xc8, 0xc9:
		n, err := d.uint(1 << (c - 0xc7))
		if err != nil {
			return nil, err
		}
		return d.ext(int(n))
	case 0xca:
		u, err := d.uint(4)
		return float64(math.Float32frombits(uint32(u))), err
	case 0xcb:
		u, err := d.uint(8)
		return math.Float64frombits(u), err
	case 0xcc, 0xcd, 0xce, 0xcf:
		u, err := d.uint(1 << (c - 0xcc))
		return float64(u), err
	case 0xd0, 0xd1, 0xd2, 0xd3:
		size := 1 << (c - 0xd0)
		u, err := d.uint(size)
		shift := 64 - 8*size
		return float64(int64(u<<shift) >> shift), err
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		return d.ext(1 << (c - 0xd4))
	case 0xd9, 0xda, 0xdb:
		n, err := d.uint(1 << (c - 0xd9))
		if err != nil {
			return nil, err
		}
		return d.str(int(n))
	case 0xdc, 0xdd:
		n, err := d.uint(2 << (c - 0xdc))
		if err != nil {
			return nil, err
		}
		return d.array(int(n), depth)
	case 0xde, 0xdf:
		n, err := d.uint(2 << (c - 0xde))
		if err != nil {
			return nil, err
		}
		return d.object(int(n), depth)
	}
	return nil, fmt.Errorf("redisadapter: invalid msgpack byte 0x%02x", c)
}

func (d *mpDecoder) str(n int) (any, error) {
	s, err := d.take(n)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(s) {
		return string([]rune(string(s))), nil // invalid bytes become U+FFFD
	}
	return string(s), nil
}

func (d *mpDecoder) array(n, depth int) (any, error) {
	if n > len(d.b)-d.off { // each element takes at least one byte
		return nil, errTruncated
	}
	arr := make([]any, n)
	for i := range arr {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		arr[i] = v
	}
	return arr, nil
}

func (d *mpDecoder) object(n, depth int) (any, error) {
	if n > (len(d.b)-d.off)/2 {
		return nil, errTruncated
	}
	o := &object{keys: make([]string, 0, n), vals: make([]any, 0, n)}
	for range n {
		k, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		switch k := k.(type) {
		case string:
			o.set(k, v)
		case float64:
			o.set(string(toJSON(k)), v) // a JS property key is a string
		default:
			return nil, errors.New("redisadapter: unsupported msgpack map key")
		}
	}
	return o, nil
}

// ext decodes an extension of n data bytes as notepack.io does: type 0 is
// undefined (1 byte) or an ArrayBuffer, type -1 a timestamp, any other type
// the pair [type, Buffer].
func (d *mpDecoder) ext(n int) (any, error) {
	t, err := d.uint(1)
	if err != nil {
		return nil, err
	}
	data, err := d.take(n)
	if err != nil {
		return nil, err
	}
	switch int8(t) {
	case 0:
		if n == 1 {
			return undefined{}, nil
		}
		return append([]byte(nil), data...), nil
	case -1:
		var sec int64
		var nsec uint32
		switch n {
		case 4:
			sec = int64(binary.BigEndian.Uint32(data))
		case 8:
			u := binary.BigEndian.Uint64(data)
			sec, nsec = int64(u&(1<<34-1)), uint32(u>>34)
		case 12:
			nsec = binary.BigEndian.Uint32(data)
			sec = int64(binary.BigEndian.Uint64(data[4:]))
		default:
			return nil, errors.New("redisadapter: invalid msgpack timestamp")
		}
		return jsDateJSON(time.Unix(sec, int64(nsec)).UTC()), nil
	}
	return []any{float64(int8(t)), append([]byte(nil), data...)}, nil
}

// jsDateJSON is JSON.stringify of a Date: its ISO string with milliseconds,
// or null outside the range JS dates cover.
func jsDateJSON(t time.Time) any {
	if y := t.Year(); y < 0 || y > 9999 {
		return nil
	}
	return t.Format("2006-01-02T15:04:05.000Z")
}
