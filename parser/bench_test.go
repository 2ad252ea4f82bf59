package parser

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

type chatMessage struct {
	User    string   `json:"user"`
	Text    string   `json:"text"`
	Room    string   `json:"room"`
	Time    int64    `json:"time"`
	Tags    []string `json:"tags,omitempty"`
	Private bool     `json:"private"`
}

var (
	benchMsg = chatMessage{User: "alice", Text: "hello <world> & everyone", Room: "lobby", Time: 1700000000000, Tags: []string{"a", "b"}}
	benchMap = map[string]any{"user": "alice", "text": "hello <world> & everyone", "room": "lobby", "time": 1700000000000.0,
		"tags": []any{"a", "b"}, "private": false}
	bench1KB = strings.Repeat("lorem ipsum dolor sit amet, ", 37) // ~1 KB of text
)

func BenchmarkEncodeEventText(b *testing.B) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		p, err := NewEvent("/chat", "message", []any{"hello", 42, true})
		if err != nil {
			b.Fatal(err)
		}
		buf = p.AppendText(buf[:0])
	}
}

func BenchmarkEncodeEventBinary(b *testing.B) {
	bin := make([]byte, 1024)
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		p, err := NewEvent("/", "upload", []any{"file.bin", bin})
		if err != nil {
			b.Fatal(err)
		}
		buf = p.AppendText(buf[:0])
	}
}

func BenchmarkEncodeEvent1KB(b *testing.B) {
	buf := make([]byte, 0, 2048)
	b.SetBytes(int64(len(bench1KB)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := NewEvent("/", "message", []any{bench1KB})
		if err != nil {
			b.Fatal(err)
		}
		buf = p.AppendText(buf[:0])
	}
}

func BenchmarkEncodeEventStruct(b *testing.B) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		p, err := NewEvent("/", "message", []any{benchMsg})
		if err != nil {
			b.Fatal(err)
		}
		buf = p.AppendText(buf[:0])
	}
}

func benchDecode(b *testing.B, text []byte, bins ...[]byte) {
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	var d Decoder
	for b.Loop() {
		p, err := d.Add(text, false)
		for _, bin := range bins {
			p, err = d.Add(bin, true)
		}
		if err != nil || p == nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEventText(b *testing.B) {
	benchDecode(b, []byte(`2/chat,12["message","hello",42,true]`))
}

func BenchmarkDecodeEventBinary(b *testing.B) {
	benchDecode(b, []byte(`51-["upload","file.bin",{"_placeholder":true,"num":0}]`), make([]byte, 1024))
}

func BenchmarkDecodeEvent1KB(b *testing.B) {
	p, _ := NewEvent("/", "message", []any{bench1KB})
	benchDecode(b, p.AppendText(nil))
}

func BenchmarkDecodeAndReadArgs(b *testing.B) {
	p, _ := NewEvent("/", "message", []any{benchMsg})
	text := p.AppendText(nil)
	b.ReportAllocs()
	var d Decoder
	for b.Loop() {
		p, err := d.Add(text, false)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.EventName(); err != nil {
			b.Fatal(err)
		}
		args, err := p.Args()
		if err != nil {
			b.Fatal(err)
		}
		var m chatMessage
		if err := Unmarshal(args[0], p.Attachments, &m); err != nil {
			b.Fatal(err)
		}
	}
}

// Marshal against encoding/json (configured to match JS as closely as it can).
func benchMarshal(b *testing.B, v any) {
	b.Run("parser", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 2048)
		for b.Loop() {
			var err error
			if buf, err = AppendMarshal(buf[:0], v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		for b.Loop() {
			buf.Reset()
			if err := enc.Encode(v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkMarshalStruct(b *testing.B) { benchMarshal(b, benchMsg) }
func BenchmarkMarshalMap(b *testing.B)    { benchMarshal(b, benchMap) }
func BenchmarkMarshal1KB(b *testing.B)    { benchMarshal(b, []any{"message", bench1KB}) }

func BenchmarkUnmarshalAttachments(b *testing.B) {
	raw := []byte(`{"name":"f","file":{"_placeholder":true,"num":0},"parts":[{"_placeholder":true,"num":1}],"meta":{"k":"v"}}`)
	atts := [][]byte{make([]byte, 1024), make([]byte, 10)}
	b.ReportAllocs()
	for b.Loop() {
		var u upload
		if err := Unmarshal(raw, atts, &u); err != nil {
			b.Fatal(err)
		}
	}
}
