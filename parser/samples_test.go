package parser

import (
	"errors"
	"strings"
)

var errIncomplete = errors.New("incomplete")

type sample struct {
	text string
	bins [][]byte
}

// deviations are inputs socket.io-parser 4.2.7 accepts and we refuse, on purpose.
var deviations = map[string]string{
	"":              "JS reads an empty message as CONNECT (Number(\"\") is 0)",
	`2`:             "an EVENT needs a name; JS decodes it, then drops it",
	`2/chat,`:       "same, with a namespace",
	`2 ["padded"] `: "JS reads the space as ack id 0 (Number(\" \") == \" \")",
	"2/x,\n[\"a\"]": "JS reads the newline as ack id 0",
	`51-["a",{"_placeholder":true,"num":0.5}]`:  "JS accepts num 0.5 and puts undefined in its place",
	`218446744073709551616["a"]`:                "ack id beyond uint64; JS rounds it",
	`2/` + strings.Repeat("n", 1024) + `,["a"]`: "namespace longer than MaxNamespaceLength",
}

// decodeSamples are real and hostile wire messages: test vectors, fuzz seeds
// and the differential test's input.
func decodeSamples() []sample {
	texts := []string{
		"0", `0{"token":"123"}`, `0/admin,{"sid":"abc"}`, "0/custom", "0/custom,", "0/custom{}", "1", "1/admin,",
		`2["foo"]`, `2["hello","world"]`, `2/admin,13["foo",1]`, `2[42,"n"]`, `2[-1.5e3]`, `312["bar"]`, `3/admin,13[]`,
		"30", `4{"message":"Not authorized"}`, `4/random,{"message":"Invalid namespace"}`, `4"str"`, "442",
		`2["message-back",1,"2",{"3":[true]}]`, `2["x",{"_placeholder":true,"num":7}]`, `2007["a"]`,
		`2["a",{"b":1,"a":[1,2,{"10":null,"2":"x"}]}]`, `2["\u00e9\ud83d\ude00\ud800"]`, "2[\"\u2028<>&\"]",
		"", "abc", "7", "9[]", `2abc["a"]`, `2{}`, `2[]`, `2`, `2/chat,`, `2[true]`, `2[null]`, `2[{}]`,
		`2["connect"]`, `2["connect_error"]`, `2["disconnect"]`, `2["disconnecting"]`, `2["newListener"]`,
		`2["removeListener"]`, `2["\u0063onnect"]`, `2["a",]`, `2["a"`, `2["a"]x`, `2["a"]["b"]`, `2["a",01]`,
		"2[\"a\nb\"]", `2["a",1.]`, `2["a",.5]`, `2["a",+1]`, `2["a",NaN]`, `2['a']`, "2[\"a\"\u00a0]", "\ufeff2[\"a\"]",
		`0[]`, `0"str"`, `0null`, `1{}`, `1/admin,[]`, `3{}`, `312"x"`, `4[]`, `4true`,
		`5["a"]`, `5-["a"]`, `5x-["a"]`, `51["a"]`, `51`, `511-["a"]`, `599999999999999999999999999-["a"]`,
		`50-["no attachments"]`, `600-[]`, `51-`, `61-{}`, `2 ["padded"] `, "2[\"padded\"] \t\r\n", "2/x,\n[\"a\"]",
		`218446744073709551615["a"]`, `218446744073709551616["a"]`,
		`2/` + strings.Repeat("n", 1024) + `,["a"]`,
		`2` + strings.Repeat("[", maxDepth+1) + `"a"` + strings.Repeat("]", maxDepth+1),
	}
	var out []sample
	for _, s := range texts {
		out = append(out, sample{text: s})
	}
	one := [][]byte{{1, 2, 3}}
	for _, s := range []string{
		`51-["baz",{"_placeholder":true,"num":0}]`, `61-15["bar",{"_placeholder":true,"num":0}]`,
		`51-["a",{"_placeholder":true,"num":1}]`, `51-["a",{"_placeholder":true,"num":-1}]`,
		`51-["a",{"_placeholder":true,"num":0.5}]`, `51-["a",{"_placeholder":true,"num":"0"}]`,
		`51-["a",{"_placeholder":true}]`, `51-["a",[{"deep":{"_placeholder":true,"num":3}}]]`,
		`51-["a",{"\u005fplaceholder":true,"num":0}]`, `51-["a",{"_placeholder":false,"num":9}]`,
		`51-["a",{"_placeholder":true,"num":9,"_placeholder":false}]`, `51-["a",{"_placeholder":"true","num":9}]`,
		`51-["a",{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":9}}]`,
		`51-["a",{"_placeholder":true,"num":1e-0}]`, `51-[1]`, `51-["connect",{"_placeholder":true,"num":0}]`,
	} {
		out = append(out, sample{text: s, bins: one})
	}
	out = append(out,
		sample{`52-/server-binary,["bin",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]`, [][]byte{{1, 2, 3}, {4}}},
		sample{`510-["ten",{"_placeholder":true,"num":9}]`, make([][]byte, 10)},
		sample{`52-["two",{"_placeholder":true,"num":1}]`, [][]byte{{1}}}, // one attachment short
		sample{`2["text"]`, [][]byte{{1}}},                                // binary without header
	)
	return out
}
