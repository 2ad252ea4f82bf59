package client

import (
	"strings"
	"testing"

	"github.com/seed9706/socketio/parser"
)

// FuzzIncoming feeds server messages through the decoder and what the client
// reads from each packet: the CONNECT reply, a CONNECT_ERROR, event names,
// arguments (decoded with their attachments) and recovery offsets.
func FuzzIncoming(f *testing.F) {
	for _, s := range []string{
		`0{"sid":"abc"}`, `0{"sid":"abc","pid":"p"}`, `0`, `0/chat,{"sid":"x"}`,
		`4{"message":"not authorized","data":{"code":42}}`, `4"legacy"`, `4/private,{"message":"x"}`,
		`2["news","one","1-0"]`, `21["ask",1]`, `51-["bin",{"_placeholder":true,"num":0}]`,
		`3[1,"two"]`, `61-12[{"_placeholder":true,"num":0}]`, `1`, `1/chat,`,
	} {
		f.Add(s, []byte{1, 2, 3})
	}
	f.Fuzz(func(t *testing.T, text string, attachment []byte) {
		var d parser.Decoder
		p, err := d.Add([]byte(text), false)
		if err != nil {
			return
		}
		if p == nil {
			if p, err = d.Add(attachment, true); err != nil || p == nil {
				return
			}
		}
		switch p.Type {
		case parser.Connect:
			if sid, _, ok := connectReply(p.Data); ok && sid == "" {
				t.Fatal("accepted a CONNECT without sid")
			}
		case parser.ConnectError:
			ce := connectErrorOf(p.Data)
			if !strings.HasPrefix(ce.Error(), "client: connect_error: ") {
				t.Fatalf("error %q", ce.Error())
			}
		case parser.Event, parser.BinaryEvent, parser.Ack, parser.BinaryAck:
			a := newArgList(p)
			vals := make([]any, a.Len())
			dst := make([]any, len(vals))
			for i := range vals {
				dst[i] = &vals[i]
			}
			_ = a.Args(dst...)
			_, _ = offsetOf(a.Raw())
			_ = a.Values()
		}
	})
}
