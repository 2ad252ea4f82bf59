package parser

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/seed9706/socketio/internal/interop"
)

// oracle is the official socket.io-parser and JSON.stringify, run by Node.js.
type oracle struct{ p *interop.Process }

func startOracle(t *testing.T) oracle {
	return oracle{interop.Start(t, "testdata/interop/parser.mjs")}
}

func (o oracle) ask(t *testing.T, event string, cmd map[string]any, v any) {
	t.Helper()
	cmd["op"] = event
	if err := o.p.Send(cmd); err != nil {
		t.Fatal(err)
	}
	if err := o.p.Expect(t, event).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// randomValue builds a JSON-like tree exercising what JSON.stringify is picky
// about: escapes, number formats and the order of integer-like keys.
func randomValue(r *rand.Rand, depth int, binary bool) any {
	n := 7
	if depth > 3 {
		n = 5 // leaves only
	}
	if binary {
		n++
	}
	switch k := r.IntN(n); k {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return randomFloat(r)
	case 3, 4:
		return randomString(r)
	case 5:
		a := make([]any, r.IntN(4))
		for i := range a {
			a[i] = randomValue(r, depth+1, binary)
		}
		return a
	case 6:
		m := map[string]any{}
		for range r.IntN(5) {
			m[randomKey(r)] = randomValue(r, depth+1, binary)
		}
		return m
	default:
		b := make([]byte, r.IntN(5))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	}
}

var floats = []float64{0, 1, -1, 0.1, 0.5, 1e21, 1e20, 999999999999999999999, 1e-6, 1e-7, 5e-7, 1.5e-7, 123456789012345680000,
	1e300, -1e-300, 4.9e-324, math.MaxFloat64, 9007199254740993, 1 << 53, 0.1 + 0.2, 100, 1e6, 123.456, -0.000001}

func randomFloat(r *rand.Rand) float64 {
	switch r.IntN(4) {
	case 0:
		return floats[r.IntN(len(floats))]
	case 1:
		return float64(r.Int64N(1<<40) - 1<<39)
	case 2:
		return math.Float64frombits(r.Uint64()) // may be NaN or Inf: Marshal writes null, as JS
	}
	return (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(60)-30))
}

var runes = []rune{'a', 'Z', '0', ' ', '"', '\\', '/', '<', '>', '&', '\'', '\n', '\r', '\t', '\b', '\f', 0, 1, 0x1f, 0x7f,
	0x80, 0xe9, 0x2028, 0x2029, 0xfeff, 0xfffd, 0x1f600, 0x10ffff}

func randomString(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(8) {
		b.WriteRune(runes[r.IntN(len(runes))])
	}
	if r.IntN(10) == 0 {
		b.WriteString("\xff\xed\xa0\x80") // invalid UTF-8 (and an encoded surrogate)
	}
	return b.String()
}

var keys = []string{"0", "1", "2", "10", "01", "-1", "4294967294", "4294967295", "1.5", "a", "b", "_placeholder", "num", "", "é"}

func randomKey(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return randomString(r)
	}
	return keys[r.IntN(len(keys))]
}

// TestMarshalMatchesJSONStringify: for every value, Marshal must equal
// JSON.stringify(JSON.parse(encoding/json's text)), JS's own rendering of the
// same value.
func TestMarshalMatchesJSONStringify(t *testing.T) {
	o := startOracle(t)
	r := rand.New(rand.NewPCG(1, 2))
	values := []any{
		"<script>&amp;</script>", "\u2028\u2029", "\x00\x1f\x7f", math.Copysign(0, -1), 1e21, 0.1, 5e-7, 1e-7, 0.000001,
		map[string]any{"b": 1, "a": 2, "10": 3, "2": 4, "01": 5},
		[]any{"message-back", 1, "2", map[string]any{"3": []any{true}}},
	}
	for range 400 {
		values = append(values, randomValue(r, 0, false))
	}
	for _, v := range values {
		std, err := json.Marshal(v)
		if err != nil {
			continue // NaN or Inf, which encoding/json refuses
		}
		got, err := Marshal(v)
		if err != nil {
			t.Fatalf("Marshal(%#v): %v", v, err)
		}
		var want struct{ Out string }
		o.ask(t, "stringify", map[string]any{"json": string(std)}, &want)
		if string(got) != want.Out {
			t.Errorf("Marshal(%#v)\n got  %s\n want %s", v, got, want.Out)
		}
	}
}

// TestRawMessageMatchesJSONStringify: a json.RawMessage argument is written as
// JSON.stringify(JSON.parse(raw)) writes it (for arrays of strings, where key
// order and number formats do not come into play).
func TestRawMessageMatchesJSONStringify(t *testing.T) {
	o := startOracle(t)
	r := rand.New(rand.NewPCG(5, 6))
	raws := []string{
		`["\ud800","\uD83D\uDE00","\u00E9\/","\u000A","\u0022\u005c","\u001F","\u000b","\ud800\u0041","\udc00\ud800"]`,
		` [ "a" , [ "b" ] ] `, `["\uDBFF\uDFFF\uDC00\uD800\uD800\uDC00"]`,
	}
	escapes := []string{`\u`, `\ud83d`, `\ude00`, `\uD800`, `\u00e9`, `\u000a`, `\u001B`, `\/`, `\n`, `\"`, `\\`, "x", "é"}
	for range 300 {
		var b strings.Builder
		b.WriteString(`["`)
		for range r.IntN(6) {
			e := escapes[r.IntN(len(escapes))]
			if e == `\u` {
				e = fmt.Sprintf(`\u%04X`, r.IntN(0x10000))
			}
			b.WriteString(e)
		}
		std, _ := json.Marshal(randomString(r))
		b.WriteString(`",`)
		b.Write(std)
		b.WriteString(`]`)
		raws = append(raws, b.String())
	}
	for _, raw := range raws {
		got, err := Marshal(json.RawMessage(raw))
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		var want struct{ Out string }
		o.ask(t, "stringify", map[string]any{"json": raw}, &want)
		if string(got) != want.Out {
			t.Errorf("Marshal(RawMessage(%s))\n got  %s\n want %s", raw, got, want.Out)
		}
	}
}

// binToMarker replaces []byte by {"$bin":base64}, the oracle's notation.
func binToMarker(v any) any {
	switch x := v.(type) {
	case []byte:
		return map[string]any{"$bin": base64.StdEncoding.EncodeToString(x)}
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = binToMarker(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = binToMarker(e)
		}
		return out
	}
	return v
}

func hasBinKey(v any) bool {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if hasBinKey(e) {
				return true
			}
		}
	case map[string]any:
		if _, ok := x["$bin"]; ok {
			return true
		}
		for _, e := range x {
			if hasBinKey(e) {
				return true
			}
		}
	}
	return false
}

type jsPacket struct {
	Type int
	Nsp  string
	ID   *float64 // a JS number: ids beyond 2^53 are rounded
	Data *string
}

// TestEncodeMatchesSocketIOParser: our packets equal the official Encoder's,
// text and attachments, and the official Decoder reads ours back.
func TestEncodeMatchesSocketIOParser(t *testing.T) {
	o := startOracle(t)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 300 {
		args := make([]any, r.IntN(4))
		for j := range args {
			args[j] = randomValue(r, 1, true)
		}
		if hasBinKey(args) {
			continue
		}
		nsp := []string{"/", "/admin", "/a-b.c"}[r.IntN(3)]
		var p *Packet
		var err error
		isAck := i%3 == 2
		if isAck {
			p, err = NewAck(nsp, uint64(r.IntN(1000)), args)
		} else {
			p, err = NewEvent(nsp, randomString(r), args)
			if i%2 == 0 {
				p.ID, p.HasID = uint64(i), true
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		if !isAck && IsReservedEvent(mustName(t, p)) {
			continue
		}
		text := string(p.AppendText(nil))
		bins := make([]string, len(p.Attachments))
		for j, b := range p.Attachments {
			bins[j] = base64.StdEncoding.EncodeToString(b)
		}

		// The official Encoder, given the same values.
		all := args
		if !isAck {
			all = append([]any{mustName(t, p)}, args...)
		}
		markedData, err := json.Marshal(binToMarker(all))
		if err != nil {
			continue // NaN or Inf: JS has them, JSON text does not
		}
		cmd := map[string]any{"type": int(p.Type), "nsp": nsp, "data": string(markedData), "id": nil}
		if p.Type.IsBinary() {
			cmd["type"] = int(p.Type - BinaryEvent + Event) // the JS Encoder finds the binary itself
		}
		if p.HasID {
			cmd["id"] = p.ID
		}
		var enc struct {
			Text string
			Bins []string
		}
		o.ask(t, "encode", cmd, &enc)
		if enc.Text != text || strings.Join(enc.Bins, ",") != strings.Join(bins, ",") {
			t.Errorf("packet %d:\n ours %s %v\n js   %s %v", i, text, bins, enc.Text, enc.Bins)
			continue
		}

		// The official Decoder reads it.
		var dec struct {
			Error  string
			Packet jsPacket
		}
		o.ask(t, "decode", map[string]any{"text": text, "bins": bins}, &dec)
		var d Decoder
		_, err = d.Add([]byte(text), false)
		for _, b := range p.Attachments {
			if err != nil {
				break
			}
			_, err = d.Add(b, true)
		}
		// Both refuse a user object that looks like a placeholder ({"_placeholder":true,"num":{}}).
		if (err != nil) != (dec.Error != "") {
			t.Errorf("packet %d %s: our decoder: %v, JS decoder: %q", i, text, err, dec.Error)
		}
	}
}

// The other packet types, against the official Encoder.
func TestEncodeControlPacketsMatchSocketIOParser(t *testing.T) {
	o := startOracle(t)
	must := func(p *Packet, err error) *Packet {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		p    *Packet
		data any // the JS packet's data; nil = none
	}{
		{must(NewConnect("/", nil)), nil},
		{must(NewConnect("/admin", map[string]any{"token": "<&>\u2028", "n": 1.5})), map[string]any{"token": "<&>\u2028", "n": 1.5}},
		{must(NewConnect("/", map[string]string{"sid": "abc"})), map[string]any{"sid": "abc"}},
		{must(NewDisconnect("/")), nil},
		{must(NewDisconnect("/admin")), nil},
		{must(NewConnectError("/", "Invalid namespace", nil)), map[string]any{"message": "Invalid namespace"}},
		{must(NewConnectError("/x", "not authorized", map[string]any{"reason": "probe", "10": 1})),
			map[string]any{"message": "not authorized", "data": map[string]any{"reason": "probe", "10": 1}}},
	} {
		cmd := map[string]any{"type": int(tc.p.Type), "nsp": tc.p.Namespace, "id": nil, "data": nil}
		if tc.data != nil {
			// JSON.parse keeps the order we write: message before data.
			b, err := Marshal(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if tc.p.Type == ConnectError {
				b = tc.p.Data
			}
			cmd["data"] = string(b)
		}
		var enc struct{ Text string }
		o.ask(t, "encode", cmd, &enc)
		if got := tc.p.String(); got != enc.Text {
			t.Errorf("ours %s, JS %s", got, enc.Text)
		}
	}
}

func mustName(t *testing.T, p *Packet) string {
	t.Helper()
	name, err := p.EventName()
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// TestDecodeMatchesSocketIOParser feeds the same messages to both decoders:
// both must refuse, or both accept with the same packet.
func TestDecodeMatchesSocketIOParser(t *testing.T) {
	o := startOracle(t)
	for _, in := range decodeSamples() {
		bins := make([]string, len(in.bins))
		for i, b := range in.bins {
			bins[i] = base64.StdEncoding.EncodeToString(b)
		}
		if reason, ok := deviations[in.text]; ok {
			var d Decoder
			if p, err := d.Add([]byte(in.text), false); err == nil {
				t.Errorf("%.40q: accepted as %v, but we refuse it on purpose: %s", in.text, p, reason)
			}
			var js struct{ Error string }
			o.ask(t, "decode", map[string]any{"text": in.text, "bins": bins}, &js)
			if js.Error != "" {
				t.Errorf("%.40q: deviation %q no longer needed: JS refuses it too (%s)", in.text, reason, js.Error)
			}
			continue
		}
		var js struct {
			Error  string
			Packet jsPacket
		}
		o.ask(t, "decode", map[string]any{"text": in.text, "bins": bins}, &js)

		var d Decoder
		p, err := d.Add([]byte(in.text), false)
		for _, b := range in.bins {
			if err != nil {
				break
			}
			p, err = d.Add(b, true)
		}
		if err == nil && p == nil {
			err = errIncomplete
		}
		switch {
		case err != nil && js.Error != "":
			continue
		case err != nil:
			t.Errorf("%q: we refuse (%v), JS accepts %+v", in.text, err, js.Packet)
			continue
		case js.Error != "":
			t.Errorf("%q: we accept, JS refuses: %s", in.text, js.Error)
			continue
		}
		wantType := int(p.Type)
		if p.Type.IsBinary() {
			wantType -= int(BinaryEvent - Event) // JS reports the reconstructed packet as EVENT/ACK
		}
		if js.Packet.Type != wantType || js.Packet.Nsp != p.Namespace || (js.Packet.ID != nil) != p.HasID ||
			js.Packet.ID != nil && *js.Packet.ID != float64(p.ID) {
			t.Errorf("%q: ours %v %q %d %v, JS %+v", in.text, p.Type, p.Namespace, p.ID, p.HasID, js.Packet)
		}
		if (js.Packet.Data == nil) != (p.Data == nil) {
			t.Errorf("%q: data ours %s, JS %v", in.text, p.Data, js.Packet.Data)
			continue
		}
		if p.Data == nil {
			continue
		}
		// Compare as values: JS keeps the wire's key order, Marshal sorts.
		var ours, theirs any
		if err := Unmarshal(p.Data, p.Attachments, &ours); err != nil {
			t.Errorf("%q: Unmarshal: %v", in.text, err)
			continue
		}
		ours = binToMarker(ours)
		if err := json.Unmarshal([]byte(*js.Packet.Data), &theirs); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ours, theirs) {
			t.Errorf("%q: data ours %#v, JS %#v", in.text, ours, theirs)
		}
	}
}
