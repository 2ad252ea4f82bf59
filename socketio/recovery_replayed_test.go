package socketio

import (
	"testing"

	"github.com/seed9706/socketio/parser"
)

// After a recovery, live deliveries of offsets the replay carried are
// dropped until the first stored packet it did not carry; packets without
// an offset pass and do not end the check.
func TestRecoveredSocketDropsReplayedDeliveries(t *testing.T) {
	event := func(args ...any) *prepared {
		p, err := parser.NewEvent("/", "n", args)
		if err != nil {
			t.Fatal(err)
		}
		return encode(p)
	}
	s := &Socket{rec: &recoveryState{replayed: map[string]bool{"1": true, "2": true}}}
	for _, step := range []struct {
		p    *prepared
		drop bool
	}{
		{event(1, "1"), true},
		{event(7), false}, // no offset: not stored, never replayed
		{event(2, "2"), true},
		{event(3, "3"), false}, // newer: the check ends
	} {
		if got := s.replayedLocked(step.p); got != step.drop {
			t.Fatalf("%s: dropped %v, want %v", step.p.msgs[0].Data, got, step.drop)
		}
	}
	if s.rec.replayed != nil {
		t.Fatal("the check did not end")
	}
}
