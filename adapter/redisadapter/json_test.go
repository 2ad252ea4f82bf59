package redisadapter

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzParseJSON checks the JSON parser against encoding/json: the same
// inputs are valid, and what we write back means the same.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`["hello","world",1]`, `{"a":[1,2.5,-3e-7,true,false,null],"b":{"c":"\u00e9\n\"x\""}}`,
		`[{"_placeholder":true,"num":0}]`, `"\ud83d\ude00"`, ` [ 1 , { } , [ ] ] `, `{"1":1,"0":0,"x":{}}`,
		`1e400`, `[`, `{"a" 1}`, `"\x01"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := parseJSON(b, nil)
		var want any
		wantErr := json.Unmarshal(b, &want)
		if (err == nil) != (wantErr == nil) {
			// encoding/json refuses numbers out of float64 range; JSON.parse makes them Infinity.
			if _, ok := wantErr.(*json.UnmarshalTypeError); ok && err == nil {
				return
			}
			t.Fatalf("%q: our error %v, encoding/json error %v", b, err, wantErr)
		}
		if err != nil {
			return
		}
		var got any
		if err := json.Unmarshal(toJSON(v), &got); err != nil {
			t.Fatalf("%q: we wrote invalid JSON %q: %v", b, toJSON(v), err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: wrote %s", b, toJSON(v))
		}
	})
}

func TestJSONStrings(t *testing.T) {
	for in, want := range map[string]string{
		`"<&>\u2028"`:              `"<&>` + "\u2028" + `"`,
		`"\u0001\b\f/\/"`:          `"\u0001\b\f//"`,
		`"\ud800"`:                 `"` + "\uFFFD" + `"`,
		`[-0,1e21,1e20,0.1,-5e-7]`: `[0,1e+21,100000000000000000000,0.1,-5e-7]`,
	} {
		v, err := parseJSON([]byte(in), nil)
		if err != nil || string(toJSON(v)) != want {
			t.Errorf("%s: %s, %v; want %s", in, toJSON(v), err, want)
		}
	}
}
