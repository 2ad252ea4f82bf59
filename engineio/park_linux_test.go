package engineio

import (
	"testing"
	"time"
)

// thePollerStopped checks that the poller stops once no connection is
// registered. Other tests may run connections meanwhile: wait a little.
func thePollerStopped(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		thePoller.mu.Lock()
		running := thePoller.file != nil
		thePoller.mu.Unlock()
		if !running {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("poller still running with no connection")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
