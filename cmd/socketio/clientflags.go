package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/seed9706/socketio/client"
	"github.com/seed9706/socketio/parser"
)

// clientFlags are the flags listen and emit share (CONTRACTS.md section 4).
type clientFlags struct {
	auth      string
	transport string
	path      string
}

func (f *clientFlags) register(fl *flag.FlagSet) {
	fl.StringVar(&f.auth, "auth", "", "auth payload sent with CONNECT, a `JSON` object")
	fl.StringVar(&f.transport, "transport", "both", "`polling|websocket|both` (both: polling upgraded to websocket)")
	fl.StringVar(&f.path, "path", client.DefaultPath, "Engine.IO endpoint `path` of the server")
}

// options turns the flags into client options.
func (f *clientFlags) options() (*client.Options, error) {
	o := &client.Options{}
	o.Path = f.path
	switch f.transport {
	case "both":
	case "polling", "websocket":
		o.Transports = []string{f.transport}
	default:
		return nil, fmt.Errorf("-transport: want polling, websocket or both, got %q", f.transport)
	}
	if f.auth != "" {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(f.auth), &obj); err != nil || obj == nil {
			return nil, fmt.Errorf("-auth: want a JSON object, got %s", f.auth)
		}
		o.Auth = json.RawMessage(f.auth)
	}
	return o, nil
}

// parseClientCommand adds the shared flags to fl (whose own flags and usage
// are set), parses args and checks that at least minPos positional
// arguments are given. When ok is false the command exits with code (its
// problem is already reported).
func parseClientCommand(fl *flag.FlagSet, args []string, minPos int) (pos []string, opts *client.Options, code int, ok bool) {
	var cf clientFlags
	cf.register(fl)
	pos, err := parseInterleaved(fl, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return nil, nil, 0, false
	case err != nil:
		return nil, nil, 2, false
	case len(pos) < minPos:
		fl.Usage()
		return nil, nil, 2, false
	}
	if opts, err = cf.options(); err != nil {
		fmt.Fprintf(fl.Output(), "socketio %s: %v\n", fl.Name(), err)
		return nil, nil, 2, false
	}
	return pos, opts, 0, true
}

// parseInterleaved parses flags that may come after positional arguments
// ("emit URL EVENT 1 -ack"). A JSON argument such as -1 is positional, and
// so is everything after "--".
func parseInterleaved(fl *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fl.Parse(args); err != nil {
			return nil, err
		}
		args = fl.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
		for len(args) > 0 && looksLikeNumber(args[0]) {
			pos = append(pos, args[0])
			args = args[1:]
		}
	}
}

func looksLikeNumber(s string) bool {
	return len(s) > 1 && s[0] == '-' && s[1] >= '0' && s[1] <= '9'
}

// jsonArgs renders the arguments of an event or reply (its Values) as JSON
// values, binary attachments as standard base64 strings.
func jsonArgs(values []any) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, len(values))
	for i, v := range values {
		switch v := v.(type) {
		case json.RawMessage:
			out[i] = v
		case parser.RawArg:
			var x any
			if err := parser.Unmarshal(v.JSON, v.Attachments, &x); err != nil {
				return nil, err
			}
			b, err := marshalNoEscape(x)
			if err != nil {
				return nil, err
			}
			out[i] = b
		default:
			return nil, fmt.Errorf("unexpected argument type %T", v)
		}
	}
	return out, nil
}

func marshalNoEscape(v any) ([]byte, error) {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(sb.String(), "\n")), nil
}

// printConnectError reports a failed connection on stderr.
func printConnectError(stderr io.Writer, cmd string, err error) {
	var ce *client.ConnectError
	if errors.As(err, &ce) {
		if ce.Data != nil {
			fmt.Fprintf(stderr, "socketio %s: connect_error: %s %s\n", cmd, ce.Message, ce.Data)
		} else {
			fmt.Fprintf(stderr, "socketio %s: connect_error: %s\n", cmd, ce.Message)
		}
		return
	}
	fmt.Fprintf(stderr, "socketio %s: connect_error: %v\n", cmd, err)
}
